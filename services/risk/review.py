"""Risk staff at work: impose a restriction on a player, lift one, review a flag of the risk queue.

Guarantees:
- Each command is one transaction: the change, its event and its audit record (who, why) commit together.
- Staff act on players of the brand their request is scoped to (staff of every brand: any); anything
  else is `NOT_FOUND`, as if it did not exist.
- Staff impose the restrictions a rule can (services/risk/actions.py), not `flag_review` (a flag is the
  rules' way of asking staff) nor `hold_deposit` (it acts on a deposit being decided); at most one of each
  kind is in force (`INVALID_STATE` for a second), with an optional expiry.
- A restriction is lifted with a reason, never deleted (`lifted_at`, `lifted_by`, `lift_reason` stay).
  After the commit that lifted a hold on withdrawals (`hold_withdrawals`, `block_account`), the player's
  withdrawals it kept waiting get the decision a new request gets, once nothing else holds them
  (services.cashier.withdrawals.after_risk_lift).
- A flag is reviewed once: open → confirmed or dismissed, with a note. Dismissing a rule's flag (a false
  positive) withdraws that rule's contribution from the player's score; confirming keeps it. Restrictions
  stay as they are either way: lifting one is its own decision.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox, prepared
from core.clock import clock
from core.clock import utc as clock_utc
from core.errors import DomainError, ErrorCode, NotFound
from core.prepared import Statement
from core.runtime import Runtime
from models.risk import RiskAction, RiskFlag
from services import audit, players
from services.risk import actions, expiry
from services.risk.rule_admin import known_kyc_levels, known_psps
from services.risk.rules import ActionKind, ActionSpec
from services.risk.store import OnSession
from services.scoping import scoped

NOT_BY_STAFF = frozenset({ActionKind.FLAG_REVIEW, ActionKind.HOLD_DEPOSIT})


class Verdict(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Restriction:
    """A restriction in force on a player, as staff see it."""

    id: uuid.UUID
    player_id: uuid.UUID
    kind: ActionKind
    level: str | None
    psps: tuple[str, ...] | None
    rule_code: str | None  # None: imposed by staff
    reason: str
    imposed_at: datetime
    imposed_by: uuid.UUID | None
    expires_at: datetime | None
    lifted_at: datetime | None = None


def restriction(row: Any) -> Restriction:
    params = row.params if isinstance(row.params, dict) else json.loads(row.params)
    psps = params.get("psps")
    return Restriction(
        id=row.id,
        player_id=row.player_id,
        kind=ActionKind(row.kind),
        level=params.get("level"),
        psps=tuple(psps) if psps else None,
        rule_code=row.rule_code,
        reason=row.reason,
        imposed_at=row.imposed_at,
        imposed_by=row.imposed_by,
        expires_at=row.expires_at,
        lifted_at=row.lifted_at,
    )


_IN_FORCE_OF = Statement("""
SELECT id, player_id, kind, params, rule_code, reason, imposed_at, imposed_by, expires_at, lifted_at
FROM risk_actions
WHERE player_id = ANY(:players) AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > :now)
ORDER BY player_id, imposed_at, id
""")


async def restrictions_of(db: AsyncSession, player_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Restriction]]:
    """The restrictions in force on each player, oldest first (one statement for any number of players)."""
    ids = list(dict.fromkeys(player_ids))
    found: dict[uuid.UUID, list[Restriction]] = {player: [] for player in ids}
    for row in await prepared.rows(db, _IN_FORCE_OF, {"players": ids, "now": clock.now()}):
        found[row.player_id].append(restriction(row))
    return found


FLAG_COLUMNS = (
    "id",
    "player_id",
    "brand_id",
    "source",
    "entry_id",
    "occasion",
    "outcome",
    "detail",
    "raised_at",
    "status",
    "rule_code",
    "reviewed_by",
    "reviewed_at",
    "review_note",
)

_FLAGS_OF = Statement(f"""
SELECT {", ".join(FLAG_COLUMNS)} FROM (
  SELECT f.*, row_number() OVER (PARTITION BY f.player_id ORDER BY f.raised_at DESC, f.id DESC) AS n
  FROM risk_flags f WHERE f.player_id = ANY(:players)
) ranked
WHERE n <= :limit
ORDER BY player_id, raised_at DESC, id DESC
""")  # noqa: S608  (constants)


async def flags_of(
    db: AsyncSession, player_ids: Iterable[uuid.UUID], *, limit: int = 50
) -> dict[uuid.UUID, list[RiskFlag]]:
    """Each player's flags, newest first, the last `limit` of each (one statement for any number of players)."""
    ids = list(dict.fromkeys(player_ids))
    found: dict[uuid.UUID, list[RiskFlag]] = {player: [] for player in ids}
    for row in await prepared.rows(db, _FLAGS_OF, {"players": ids, "limit": limit}):
        found[row.player_id].append(RiskFlag(**{name: getattr(row, name) for name in FLAG_COLUMNS}))
    return found


def _reason(reason: str, field: str = "reason") -> str:
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why.", field=field)
    return reason[:500]


def readable_actions(viewer: Viewer) -> SelectOfScalar[RiskAction]:
    return scoped(
        select(RiskAction), viewer, player_column=col(RiskAction.player_id), brand_column=col(RiskAction.brand_id)
    )


def readable_flags(viewer: Viewer) -> SelectOfScalar[RiskFlag]:
    return scoped(select(RiskFlag), viewer, player_column=col(RiskFlag.player_id), brand_column=col(RiskFlag.brand_id))


def staff_action(kind: ActionKind, *, level: str | None = None, psps: Iterable[str] | None = None) -> ActionSpec:
    """What staff may impose, checked as a rule's action is."""
    if kind in NOT_BY_STAFF:
        raise DomainError("Staff impose restrictions: flag_review and hold_deposit are the rules' own.", field="kind")
    chosen = tuple(dict.fromkeys(p.strip() for p in psps or () if p.strip())) or None
    if (kind == ActionKind.REQUIRE_KYC_LEVEL) != bool(level):
        raise DomainError("A KYC level goes with require_kyc_level (and only with it).", field="level")
    if (kind == ActionKind.ROUTE_PSPS) != bool(chosen):
        raise DomainError("PSPs go with route_psps (and only with it).", field="psps")
    spec = ActionSpec(kind=kind, level=level or None, psps=chosen)
    known_kyc_levels((spec,))
    known_psps((spec,), field="psps")
    return spec


async def impose_action(
    rt: Runtime,
    viewer: Viewer,
    *,
    player_id: uuid.UUID,
    action: ActionSpec,
    reason: str,
    expires_at: datetime | None = None,
) -> Restriction:
    """Impose a restriction on the player (audited with the staff member, announced `risk.action_imposed`)."""
    why = _reason(reason)
    if action.kind in NOT_BY_STAFF:
        raise DomainError("Staff impose restrictions, not flag_review or hold_deposit.", field="kind")
    expires_at = clock_utc(expires_at)  # without an offset: UTC
    if expires_at is not None and expires_at <= clock.now():
        raise DomainError("The expiry is in the past.", field="expiresAt")
    async with rt.database.transaction() as db:
        player = await players.get_readable(db, viewer, player_id)
        retired: list[audit.SystemEntry] = []  # an expired one of the kind, retired by the insert
        action_id = await actions.insert(
            OnSession(db),
            player_id=player.id,
            brand_id=player.brand_id,
            action=action,
            rule_code=None,
            reason=why,
            retired=retired,
            staff_id=viewer.id if viewer.is_staff else None,
            expires_at=expires_at,
        )
        if action_id is None:
            raise DomainError(
                f"A {action.kind.value} restriction is already in force on this player: lift it first.",
                code=ErrorCode.INVALID_STATE,
                field="kind",
            )
        row = await db.get(RiskAction, action_id)
        assert row is not None
        await OnSession(db).audit(retired)
        await audit.append(
            db,
            actor=viewer,
            action="risk.action_imposed",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={
                "action_id": str(action_id),
                "kind": action.kind.value,
                **action.params(),
                "expires_at": expires_at.isoformat() if expires_at else None,
            },
            reason=why,
        )
        return restriction(row)


@dataclass(frozen=True)
class Lifted:
    restriction: Restriction
    released: list[uuid.UUID]  # withdrawals the lift let go on (approved, or on to finance)


async def lift_action(rt: Runtime, viewer: Viewer, *, action_id: uuid.UUID, reason: str) -> Lifted:
    """Lift a restriction in force (rule's or staff's), with a reason; audited, announced `risk.action_lifted`."""
    why = _reason(reason)
    now = clock.now()
    async with rt.database.transaction() as db:
        row = await db.scalar(readable_actions(viewer).where(col(RiskAction.id) == action_id).with_for_update())
        if row is None:
            raise NotFound("No such restriction.", field="actionId")
        if row.lifted_at is not None:
            raise DomainError("This restriction was already lifted.", code=ErrorCode.INVALID_STATE, field="actionId")
        if row.expires_at is not None and row.expires_at <= now:
            raise DomainError("This restriction has expired.", code=ErrorCode.INVALID_STATE, field="actionId")
        row.lifted_at, row.lifted_by, row.lift_reason = now, viewer.id, why
        await db.flush()
        kind = ActionKind(row.kind)
        await expiry.after_lift(db, player_id=row.player_id, kind=kind, rule_code=row.rule_code)
        staff = viewer.id if viewer.is_staff else None
        await outbox.emit_events(db, [expiry.lifted_event(row, staff_id=staff, expired=False)])
        await audit.append(
            db,
            actor=viewer,
            action="risk.action_lifted",
            target_type="player",
            target_id=row.player_id,
            brand_id=row.brand_id,
            before=expiry.lifted_before(row),
            reason=why,
        )
        lifted = restriction(row)
    return Lifted(lifted, await expiry.release(rt, lifted.player_id, kind))


# A rule's hit writes its score contribution, then its flag (services/risk/hits.py); a dismissal takes the same
# locks in the same order (the contribution, then the flag), else a hit between the two deadlocks with it.
_LOCK_SCORE = Statement("""
SELECT points FROM risk_score_items WHERE player_id = :player AND rule_code = :rule FOR UPDATE
""")

_WITHDRAW_SCORE = Statement("""
UPDATE risk_score_items SET expires_at = :now
WHERE player_id = :player AND rule_code = :rule AND expires_at > :now
RETURNING points
""")


async def review_flag(rt: Runtime, viewer: Viewer, *, flag_id: uuid.UUID, verdict: Verdict, note: str) -> RiskFlag:
    """Close an open flag as confirmed or dismissed, with a note (audited, announced `risk.flag_reviewed`)."""
    why = _reason(note, "note")
    now = clock.now()
    async with rt.database.transaction() as db:
        seen = await db.scalar(readable_flags(viewer).where(col(RiskFlag.id) == flag_id))
        if seen is None:
            raise NotFound("No such flag.", field="flagId")
        if verdict == Verdict.DISMISSED and seen.rule_code is not None and seen.player_id is not None:
            await prepared.rows(db, _LOCK_SCORE, {"player": seen.player_id, "rule": seen.rule_code})
        flag = await db.scalar(
            readable_flags(viewer)
            .where(col(RiskFlag.id) == flag_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert flag is not None  # flags are never deleted
        if flag.status != "open":
            raise DomainError(f"This flag was already {flag.status}.", code=ErrorCode.INVALID_STATE, field="flagId")
        flag.status, flag.reviewed_at, flag.reviewed_by, flag.review_note = verdict.value, now, viewer.id, why
        await db.flush()
        withdrawn = 0
        if verdict == Verdict.DISMISSED and flag.rule_code is not None and flag.player_id is not None:
            found = await prepared.rows(
                db, _WITHDRAW_SCORE, {"now": now, "player": flag.player_id, "rule": flag.rule_code}
            )
            withdrawn = sum(int(r.points) for r in found)
        data = {
            "flag_id": str(flag.id),
            "player_id": str(flag.player_id) if flag.player_id else None,
            "status": verdict.value,
            "source": flag.source,
            "rule_code": flag.rule_code,
            "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
        }
        subject = actions.subject(flag.player_id) if flag.player_id else f"brand:{flag.brand_id}"
        event = outbox.event("risk.flag_reviewed", subject, data, brand_id=flag.brand_id, at=now)
        await outbox.emit_events(db, [event])
        await audit.append(
            db,
            actor=viewer,
            action="risk.flag_reviewed",
            target_type="player" if flag.player_id else "risk_flag",
            target_id=flag.player_id or flag.id,
            brand_id=flag.brand_id,
            after={
                "flag_id": str(flag.id),
                "status": verdict.value,
                "source": flag.source,
                "detail": flag.detail,
                "rule_code": flag.rule_code,
                "score_withdrawn": withdrawn,
            },
            reason=why,
        )
    return flag
