"""Which audit records a viewer may read: each topic of services/audit.py needs the fields that protect
what its records reveal, so reading the audit trail never shows what the viewer's role may not read
on the player itself (a kyc_officer, denied Player.responsibleGambling, reads no `rg.*` record)."""

from __future__ import annotations

from schema.context import Info
from services.audit import AuditTopic

AUDIT_NEEDS: dict[AuditTopic, tuple[str, ...]] = {
    AuditTopic.RESPONSIBLE_GAMBLING: ("Player.responsibleGambling",),
    AuditTopic.SESSIONS: ("Player.sessions",),
    AuditTopic.NOTES: ("Player.notes", "PlayerNote.body"),
    AuditTopic.ADJUSTMENTS: ("Adjustment.amount", "Adjustment.reason"),
    AuditTopic.PAYMENTS: ("Payment.amount",),
    AuditTopic.KYC_DOCUMENTS: ("KycDocument.reason",),
    AuditTopic.AML_CASES: ("AmlCase.summary", "AmlCaseNote.body"),
    AuditTopic.RISK: ("Player.risk",),  # support must not learn what the risk desk found or did (docs/risk.md)
}


def readable_topics(info: Info) -> list[AuditTopic]:
    allowed = info.context.allowed
    return [topic for topic in AuditTopic if all(c in allowed for c in AUDIT_NEEDS[topic])]
