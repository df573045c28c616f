"""A player's data export: everything the platform holds about them, machine-readable.

One consistent read: every category is read in one REPEATABLE READ, READ ONLY transaction, so a
deposit landing mid-export is either in every category it touches or in none. The document is
versioned (`format`), rows come as the tables hold them: money as integer minor units beside their
`currency`, times in ISO 8601 UTC, ids as strings. KYC documents appear as metadata with their
sha256 (the CLI can add the decrypted files: `croupier privacy export --documents`).

Two audiences. Staff (the data-protection officer answering a request, or a regulator) get every
category. The player's own copy withholds the AML categories — cases, SAR decisions, screening and
monitoring alerts — because telling a customer about an investigation is tipping-off (EU 2015/849
art. 39; GDPR art. 23 allows the restriction). The `withheld` list is the same for every player, with
or without such records, so its presence reveals nothing.

Secrets are never exported: password hashes, refresh-token hashes, game-session tokens, the storage
keys of documents. Every export is audited (who exported whom) and is a `privacy.exported` event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network
from typing import Any, Literal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.privacy import PrivacyRequest, RequestKind, RequestStatus
from services import audit, players

FORMAT = "croupier.player-data-export/1"
EXPORTS_PER_DAY = 5
Audience = Literal["staff", "subject"]

# Columns that are secrets or storage internals, never part of an export.
SECRET_COLUMNS = frozenset({"password_hash", "token_hash", "token", "object_key", "key_id", "request_hash"})

_ACCOUNTS = "SELECT id FROM ledger_accounts WHERE owner_type = 'player' AND owner_id = :ps"
_CASES = "SELECT id FROM aml_cases WHERE player_id = :p"


@dataclass(frozen=True)
class Source:
    table: str
    where: str
    order: str = "created_at"


# Every category, and the rows of each: the tests erase a player and then search every text column of
# every table, so a table holding player data that is missing here shows up there too.
CATEGORIES: dict[str, tuple[Source, ...]] = {
    "account": (Source("players", "id = :p"),),
    "sessions": (
        Source("auth_sessions", "subject_type = 'player' AND subject_id = :p"),
        Source("game_sessions", "player_id = :p"),
        Source("game_session_spans", "player_id = :p", "started_at"),
    ),
    "payments": (
        Source("payments", "player_id = :p"),
        Source("payment_attempts", "payment_id IN (SELECT id FROM payments WHERE player_id = :p)", "seq"),
        Source("disputes", "player_id = :p"),  # chargebacks and their evidence (services/cashier/chargebacks.py)
        Source("closed_loop_exceptions", "player_id = :p"),  # staff waivers of loop shares (closed_loop.py)
        # Crypto: deposit addresses, quotes, on-chain transfers (services/cashier/crypto).
        Source("crypto_addresses", "player_id = :p"),
        Source("crypto_quotes", "player_id = :p"),
        Source("crypto_transfers", "player_id = :p"),
    ),
    "ledger": (
        Source("ledger_accounts", "owner_type = 'player' AND owner_id = :ps"),
        Source("ledger_transactions", "player_id = :p"),
        Source("ledger_postings", f"account_id IN ({_ACCOUNTS})", "id"),
        Source("ledger_holds", f"source_account_id IN ({_ACCOUNTS})"),
        Source("adjustments", "player_id = :p"),
    ),
    "games": (
        Source("game_rounds", "player_id = :p", "opened_at"),
        Source("provider_transactions", "player_id = :p"),
    ),
    "tournaments": (
        Source("tournament_entries", "player_id = :p", "joined_at"),
        Source("tournament_rounds", "player_id = :p", "first_at"),
        Source("tournament_prizes", "player_id = :p"),
    ),
    "jackpots": (
        Source("jackpot_stakes", "player_id = :p"),
        Source("jackpot_wins", "player_id = :p", "won_at"),
    ),
    "bonuses": (
        Source("player_bonuses", "player_id = :p", "issued_at"),
        Source("bonus_events", "bonus_id IN (SELECT id FROM player_bonuses WHERE player_id = :p)", "at"),
        Source("free_rounds_grants", "player_id = :p"),
    ),
    "kyc": (
        Source("kyc_states", "player_id = :p"),
        Source("kyc_requirements", "player_id = :p"),
        Source("kyc_reviews", "player_id = :p"),
        Source("kyc_checks", "player_id = :p"),
        Source("kyc_documents", "player_id = :p", "uploaded_at"),
        Source("kyc_document_requests", "player_id = :p", "requested_at"),
        Source("kyc_idv_applicants", "player_id = :p"),
        Source("kyc_idv_webhook_receipts", "player_id = :p", "received_at"),
    ),
    "aml": (
        Source("aml_cases", "player_id = :p"),
        Source("aml_case_notes", f"case_id IN ({_CASES})"),
        Source("aml_case_events", f"case_id IN ({_CASES})"),
        Source("aml_case_evidence", f"case_id IN ({_CASES})"),
        Source("aml_restrictions", "player_id = :p"),
        Source("aml_screening_alerts", "player_id = :p"),
        Source("aml_player_screenings", "player_id = :p", "screened_at"),
        Source("aml_alerts", "player_id = :p"),
        Source("aml_monitoring_players", "player_id = :p", "player_id"),
        Source("aml_monitoring_deposits", "player_id = :p", "at"),
        Source("aml_backtest_alerts", "player_id = :p", "raised_at"),
    ),
    "responsible_gambling": (
        Source("rg_limits", "player_id = :p"),
        Source("rg_exclusions", "player_id = :p"),
        Source("rg_events", "player_id = :p"),
        Source("rg_flags", "player_id = :p"),
        Source("rg_reality_checks", "player_id = :p", "next_due_at"),
        Source("rg_activity_days", "player_id = :p", "day"),
        Source("rg_register_hits", "player_id = :p", "hit_at"),
    ),
    "staff_notes": (Source("player_notes", "player_id = :p"),),
    "reports": (
        Source("report_players", "player_id = :p", "registered_on"),
        Source("report_player_days", "player_id = :p", "day"),
        Source("crm_segment_pending", "player_id = :p", "since"),  # money moved, segments re-evaluated once counted
    ),
    "marketing": (
        Source("crm_consents", "player_id = :p", "changed_at"),
        Source("crm_suppressions", "player_id = :p", "at"),
        Source("crm_messages", "player_id = :p"),
        Source("crm_segment_members", "player_id = :p", "joined_at"),
        Source("crm_player_tags", "player_id = :p", "tagged_at"),
        Source("crm_journey_runs", "player_id = :p", "decided_at"),
        Source("crm_journey_steps", "run_id IN (SELECT id FROM crm_journey_runs WHERE player_id = :p)", "id"),
        Source("crm_experiment_assignments", "player_id = :p", "exposed_at"),
    ),
    "events": (Source("outbox_events", "key = 'player:' || :ps", "id"),),
    "audit": (
        Source(
            "audit_log",
            "(target_type = 'player' AND target_id = :ps) OR (actor_type = 'player' AND actor_id = :p)",
            "seq",
        ),
    ),
    "risk": (
        Source("risk_observations", "player_id = :p", "observed_at"),
        Source("risk_signals", "player_id = :p", "first_seen"),
        Source("risk_clusters", "player_id = :p", "joined_at"),
        Source("risk_flags", "player_id = :p", "raised_at"),
        Source("risk_score_items", "player_id = :p", "first_hit_at"),
        Source("risk_actions", "player_id = :p", "imposed_at"),
    ),
    "affiliates": (
        Source("affiliate_attributions", "player_id = :p", "attributed_at"),
        Source("affiliate_qualifications", "player_id = :p", "qualified_at"),
        Source("affiliate_run_lines", "player_id = :p", "id"),
        Source("affiliate_cpa_activity", "player_id = :p", "at"),  # the figures behind a CPA
        Source("affiliate_postback_deliveries", "player_id = :p"),
    ),
    "privacy": (
        Source("privacy_requests", "player_id = :p"),
        Source("privacy_holds", "player_id = :p"),
    ),
}

WITHHELD_FROM_SUBJECT = {
    "risk": "Withheld from the player's own copy: which accounts are linked to it, by what, and which lists it "
    "matched are fraud-prevention records whose disclosure would defeat them (GDPR art. 23(1)(d), (e)). "
    "This entry is in every player's copy.",
    "aml": "Withheld from the player's own copy: disclosing AML investigations or reports is tipping-off "
    "(EU 2015/849 art. 39; GDPR art. 23). This entry is in every player's copy.",
}
# In the player's copy, audit records and events of the withheld domains are left out as well, and so is
# staff's high-risk mark, which GraphQL denies to players (`Kyc.highRisk`: telling a customer they are
# marked is tipping-off): the mark's own audit record, and the mark wherever a row or a record holds it.
_SUBJECT_SKIPS_ACTIONS = ("aml.", "kyc.set_high_risk")
_STAFF_ONLY_FIELDS = frozenset({"high_risk", "high_risk_lifted_by"})
# The provider's raw webhook bodies may carry its comments meant for the operator (`clientComment`); the
# player's copy has the result as applied (kyc_idv_applicants) and each receipt without its body.
_STAFF_ONLY_COLUMNS = {"kyc_idv_webhook_receipts": frozenset({"payload"})}


def _plain(value: Any) -> Any:
    if isinstance(value, uuid.UUID | IPv4Address | IPv6Address | IPv4Network | IPv6Network):  # inet, cidr
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return None
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


async def _rows(db: AsyncSession, source: Source, player_id: uuid.UUID) -> list[dict[str, Any]]:
    sql = f"SELECT * FROM {source.table} WHERE {source.where} ORDER BY {source.order}"  # noqa: S608 (constants)
    result = await db.execute(text(sql), {"p": player_id, "ps": str(player_id)})
    return [{k: _plain(v) for k, v in row.items() if k not in SECRET_COLUMNS} for row in result.mappings()]


def _for_subject(table: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows of `table` as the player's own copy has them (see `_SUBJECT_SKIPS_ACTIONS`)."""
    if table in ("audit_log", "outbox_events"):
        key = "action" if table == "audit_log" else "topic"
        rows = [r for r in rows if not str(r[key]).startswith(_SUBJECT_SKIPS_ACTIONS)]
    hidden = _STAFF_ONLY_COLUMNS.get(table, frozenset())
    return [_without_staff_only({k: v for k, v in r.items() if k not in hidden}) for r in rows]


def _without_staff_only(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_staff_only(v) for k, v in value.items() if k not in _STAFF_ONLY_FIELDS}
    return value


async def snapshot(db: AsyncSession, player_id: uuid.UUID, audience: Audience) -> dict[str, Any]:
    """The export document, read through `db` (the caller opened the consistent transaction)."""
    categories: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for name, sources in CATEGORIES.items():
        if audience == "subject" and name in WITHHELD_FROM_SUBJECT:
            continue
        tables = {}
        for source in sources:
            rows = await _rows(db, source, player_id)
            if audience == "subject":
                rows = _for_subject(source.table, rows)
            tables[source.table] = rows
        categories[name] = tables
    holds = categories["privacy"]["privacy_holds"]
    return {
        "format": FORMAT,
        "player_id": str(player_id),
        "generated_at": clock.now().isoformat(),
        "audience": audience,
        "money": "amounts are integers in minor units of the currency beside them",
        "retention": [{k: h[k] for k in ("category", "retained_until", "basis", "released_at")} for h in holds],
        "withheld": (
            [{"category": c, "why": why} for c, why in WITHHELD_FROM_SUBJECT.items()] if audience == "subject" else []
        ),
        "categories": categories,
    }


async def export_own(rt: Runtime, viewer: Viewer) -> dict[str, Any]:
    """A player's own copy, at most `EXPORTS_PER_DAY` a day (each is a full read of their history)."""
    from services.auth import RateLimited

    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only a player exports their own data.", code=ErrorCode.NOT_ALLOWED)
    decision = await rt.rate_limiter.hit(f"privacy:export:{viewer.id}", limit=EXPORTS_PER_DAY, window=86_400)
    if not decision.allowed:
        raise RateLimited(decision.retry_after)
    return await export(rt, viewer, viewer.id)


async def export(rt: Runtime, viewer: Viewer, player_id: uuid.UUID) -> dict[str, Any]:
    """The player's data as `viewer` may have it: a player their own copy, staff the full one (the
    player must be readable by them: brand scope). Audited and announced in the same transaction as the
    read (the audit append comes last: it holds the chain's lock until commit)."""
    audience: Audience = "subject" if viewer.is_player else "staff"
    async with rt.database.transaction() as db:
        # The first statement of the transaction: every read below sees one snapshot.
        await db.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        player = await players.get_readable(db, viewer, player_id)
        document = await snapshot(db, player.id, audience)
        rows = sum(len(t) for c in document["categories"].values() for t in c.values())
        db.add(
            PrivacyRequest(
                player_id=player.id,
                brand_id=player.brand_id,
                kind=RequestKind.EXPORT.value,
                status=RequestStatus.COMPLETED.value,
                requested_by_type=viewer.actor_type,
                requested_by_id=viewer.id,
                decided_by=viewer.id,
                decided_at=clock.now(),
            )
        )
        await outbox.emit(
            db,
            "privacy.exported",
            f"player:{player.id}",
            {"player_id": str(player.id), "audience": audience, "rows": rows},
            brand_id=player.brand_id,
        )
        await audit.append(
            db,
            actor=viewer,
            action="privacy.exported",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={"audience": audience, "rows": rows, "format": FORMAT},
        )
    return document
