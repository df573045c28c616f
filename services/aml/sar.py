"""Exporting a case as a SAR/STR draft in goAML XML, validated against the FIU's published schema before
anyone downloads it (a draft the FIU would refuse is refused here with SAR_INVALID and the schema's words).

Only an MLRO exports (or the platform's CLI on an MLRO's behalf), and only a case the MLRO holds:
escalated, or closed as `sar_filed`. Each export is in the case's history, audited and an
`aml.sar_exported` event (ids and the report code only).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.aml_cases import AmlCase, AmlCaseEvidence, CaseOutcome, CaseState, EvidenceKind
from models.payments import Payment
from models.players import Player
from models.staff import StaffRole, StaffUser
from services.aml import goaml, goaml_schema
from services.aml.cases import MLRO, case_type, get_readable, record
from services.aml.restrictions import restriction_of


@dataclass(frozen=True)
class SarExport:
    case: AmlCase
    report_code: str
    file_name: str
    xml: bytes


def _reporter(staff: StaffUser) -> goaml.Reporter:
    first, _, last = staff.display_name.strip().partition(" ")
    return goaml.Reporter(first or staff.email.split("@")[0], last or "MLRO", staff.email)


async def _reporting_mlro(db: AsyncSession, viewer: Viewer, case: AmlCase, mlro_email: str | None) -> StaffUser:
    """The staff viewer, if an MLRO; for the platform's CLI, the MLRO it names (else the one who closed it)."""
    staff_id: uuid.UUID | None = None
    if viewer.is_staff:
        staff_id = viewer.id if MLRO in viewer.roles else None
    elif viewer.kind == "system":
        if mlro_email:
            staff_id = await db.scalar(
                select(StaffRole.staff_id)
                .join(StaffUser, col(StaffUser.id) == col(StaffRole.staff_id))
                .where(col(StaffUser.email) == mlro_email.strip().lower(), col(StaffRole.role) == MLRO)
                .limit(1)
            )
        else:
            staff_id = case.closed_by
    staff = await db.get(StaffUser, staff_id) if staff_id is not None else None
    if staff is None:
        raise DomainError("Only the MLRO exports SARs.", code=ErrorCode.NOT_ALLOWED)
    return staff


async def _payments(rt: Runtime, db: AsyncSession, case: AmlCase) -> list[goaml.ReportedPayment]:
    refs = (
        await db.scalars(
            select(AmlCaseEvidence.ref_id).where(
                col(AmlCaseEvidence.case_id) == case.id, col(AmlCaseEvidence.kind) == EvidenceKind.PAYMENT.value
            )
        )
    ).all()
    rows = (await db.scalars(select(Payment).where(col(Payment.id).in_([uuid.UUID(r) for r in refs])))).all()
    local = goaml.profile()["entity"]["currency_code_local"]
    reported = []
    for p in sorted(rows, key=lambda p: p.created_at):
        amount_local = rt.settings.stated_rates.convert(p.amount, p.currency, local, round_up=False)
        if amount_local is None:
            raise DomainError(
                f"No stated rate converts {p.currency} into {local} for the report.", code=ErrorCode.SAR_INVALID
            )
        reported.append(
            goaml.ReportedPayment(str(p.id), p.kind, p.amount, p.currency, amount_local, p.method, p.created_at)
        )
    return reported


async def export_sar(
    rt: Runtime,
    viewer: Viewer,
    case_id: uuid.UUID,
    *,
    reason: str | None = None,
    action: str | None = None,
    mlro_email: str | None = None,
) -> SarExport:
    """The case's goAML draft (STR with its payments, SAR without), valid against the FIU's schema."""
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        if not (case.state == CaseState.ESCALATED or case.outcome == CaseOutcome.SAR_FILED):
            raise DomainError(
                "Only an escalated case, or one closed as sar_filed, is reported.", code=ErrorCode.INVALID_STATE
            )
        staff = await _reporting_mlro(db, viewer, case, mlro_email)
        player = await db.get(Player, case.player_id)
        assert player is not None
        restricted = await restriction_of(db, case) is not None
        settings, entity = rt.settings, goaml.profile()["entity"]
        draft = goaml.SarDraft(
            case_id=str(case.id),
            submitted_at=clock.now(),
            reporter=_reporter(staff),
            subject=goaml.Subject(
                str(player.id), player.first_name, player.last_name, player.date_of_birth, player.country, player.email
            ),
            reason=(reason or "").strip() or case.summary,
            action=(action or "").strip() or ("Account restricted pending review." if restricted else "Under review."),
            payments=await _payments(rt, db, case),
            indicators=case_type(case.case_type).indicators,
            rentity_id=settings.goaml_rentity_id or int(entity["rentity_id"]),
            rentity_branch=settings.goaml_rentity_branch or str(entity["rentity_branch"]),
        )
        xml = goaml.build(draft)
        problems = goaml_schema.problems(xml)
        if problems:
            raise DomainError(
                "The draft does not satisfy the FIU's schema: " + "; ".join(problems[:3]), code=ErrorCode.SAR_INVALID
            )
        details = {"report_code": draft.report_code, "transactions": len(draft.payments)}
        event = ("aml.sar_exported", {"report_code": draft.report_code})
        await record(db, case, viewer, "sar_exported", details, event=event)
    return SarExport(case, draft.report_code, f"{draft.report_code}-{case.id}.xml", xml)
