"""AML cases: the generic way other modules open a case from their alert, and what every case command
shares (case types as data, the history, events, scoping).

Invariants:
- One case per (source, source_id): an alert delivered twice (a consumer's redelivery, a rescreen) finds
  the case it opened, in SQL (`ON CONFLICT DO NOTHING`), even when the two deliveries race.
- A case's state only moves along services/aml/case_flow.py's transitions; `closed` is final and carries
  an outcome (a database CHECK holds it too).
- Every change is in the case's history, audited (services/audit.py, `aml.*`), and an event
  (`aml.case_*`) in the same transaction. Events carry ids and codes only, and their subject is the case
  (`aml_case:<id>`), never the player: nothing about a case travels on the player's own channel, which
  live subscriptions read (tipping off a player is an offence).
- Staff read the cases of their brand (services/scoping.py); players never read any.
"""

from __future__ import annotations

import tomllib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import false
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import SYSTEM, Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from models.aml_cases import AmlCase, AmlCaseEvent, CaseState
from models.players import Player
from services import audit

TYPES_FILE = Path(__file__).with_name("cases.toml")
INVESTIGATORS = frozenset({"kyc_officer", "risk_analyst", "mlro"})
MLRO = "mlro"
MAX_SUMMARY = 2000


@dataclass(frozen=True)
class CaseType:
    name: str
    review: timedelta
    escalated: timedelta
    indicators: tuple[str, ...]


@cache
def case_types() -> dict[str, CaseType]:
    with TYPES_FILE.open("rb") as f:
        raw = tomllib.load(f)["types"]
    return {
        name: CaseType(
            name, timedelta(days=t["review_days"]), timedelta(days=t["escalated_days"]), tuple(t["indicators"])
        )
        for name, t in raw.items()
    }


def case_type(name: str) -> CaseType:
    found = case_types().get(name)
    if found is None:
        raise DomainError(f"Unknown case type {name!r} (one of {', '.join(case_types())}).", field="caseType")
    return found


def is_overdue(case: AmlCase, now: datetime) -> bool:
    return case.state != CaseState.CLOSED and case.due_at < now


def subject_of(case: AmlCase) -> str:
    return f"aml_case:{case.id}"


def staff_id(viewer: Viewer) -> uuid.UUID | None:
    return viewer.id if viewer.is_staff else None


async def record(
    db: AsyncSession,
    case: AmlCase,
    viewer: Viewer,
    action: str,
    details: dict[str, Any],
    *,
    event: tuple[str, dict[str, Any]] | None = None,
    reason: str | None = None,
) -> None:
    """The change's history entry, its event (ids and codes only) and its audit record, in the caller's
    transaction. Call last: the audit chain's lock is held from here to the commit."""
    now = clock.now()
    case.updated_at = now
    db.add(AmlCaseEvent(case_id=case.id, action=action, actor_id=staff_id(viewer), details=details, created_at=now))
    await db.flush()
    if event is not None:
        name, data = event
        base = {"case_id": str(case.id), "player_id": str(case.player_id), "staff_id": _str(staff_id(viewer))}
        await outbox.emit(db, name, subject_of(case), {**base, **data}, brand_id=case.brand_id)
    await audit.append(
        db,
        actor=viewer,
        action=f"aml.{action}",
        target_type="aml_case",
        target_id=case.id,
        brand_id=case.brand_id,
        after={"player_id": str(case.player_id), **details},
        reason=reason,
    )


def _str(value: uuid.UUID | None) -> str | None:
    return str(value) if value is not None else None


async def open_case(
    db: AsyncSession,
    *,
    player_id: uuid.UUID,
    source: str,
    source_id: str,
    summary: str,
    case_type_name: str = "manual",
    opened_by: Viewer = SYSTEM,
) -> AmlCase:
    """Open a case about a player from an alert (screening, monitoring) or a staff member's suspicion, in
    the caller's transaction; the same (source, source_id) again returns the case it opened."""
    source, source_id, text = source.strip().lower(), source_id.strip(), summary.strip()
    if not source or len(source) > 32 or not source_id or len(source_id) > 200:
        raise DomainError("Name the alert: a source (≤ 32) and its id (≤ 200).", field="sourceId")
    if not text or len(text) > MAX_SUMMARY:
        raise DomainError(f"Summarise the suspicion in 1 to {MAX_SUMMARY} characters.", field="summary")
    kind = case_type(case_type_name)
    player = await db.get(Player, player_id)
    if player is None:
        raise NotFound("No such player.", field="playerId")
    now = clock.now()
    inserted = (
        await db.execute(
            insert(AmlCase)
            .values(
                id=uuid.uuid4(),
                brand_id=player.brand_id,
                player_id=player.id,
                source=source,
                source_id=source_id,
                case_type=kind.name,
                summary=text,
                state=CaseState.OPEN.value,
                opened_by=staff_id(opened_by),
                due_at=now + kind.review,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(index_elements=["source", "source_id"])
            .returning(col(AmlCase.id))
        )
    ).scalar_one_or_none()
    found = await db.scalar(select(AmlCase).where(col(AmlCase.source) == source, col(AmlCase.source_id) == source_id))
    assert found is not None
    if inserted is None:
        if found.player_id != player.id:  # the alert id names another player's case: the caller's mistake
            raise DomainError("That alert already opened a case about another player.", code=ErrorCode.ALREADY_EXISTS)
        return found
    details = {"source": source, "source_id": source_id, "case_type": kind.name, "due_at": found.due_at.isoformat()}
    event = ("aml.case_opened", {"source": source, "case_type": kind.name})
    await record(db, found, opened_by, "case_opened", details, event=event)
    return found


def readable_cases(viewer: Viewer) -> SelectOfScalar[AmlCase]:
    """The cases this viewer may read: staff (and the platform) those of the request's brand scope."""
    stmt = select(AmlCase)
    if not (viewer.is_staff or viewer.kind == "system"):
        return stmt.where(false())
    return stmt if viewer.brand_id is None else stmt.where(col(AmlCase.brand_id) == viewer.brand_id)


async def get_readable(db: AsyncSession, viewer: Viewer, case_id: uuid.UUID, *, lock: bool = False) -> AmlCase:
    stmt = readable_cases(viewer).where(col(AmlCase.id) == case_id)
    case = await db.scalar(stmt.with_for_update() if lock else stmt)
    if case is None:
        raise NotFound("No such case.", field="caseId")
    return case


@dataclass(frozen=True)
class CaseFilter:
    states: tuple[CaseState, ...] = ()
    assignee_id: uuid.UUID | None = None
    player_id: uuid.UUID | None = None
    case_type: str | None = None
    overdue: bool | None = None


def queue(viewer: Viewer, where: CaseFilter) -> SelectOfScalar[AmlCase]:
    """The case queue (paginate it on created_at, id): filtered by state, assignee, player, type and overdue."""
    stmt = readable_cases(viewer)
    if where.states:
        stmt = stmt.where(col(AmlCase.state).in_([s.value for s in where.states]))
    if where.assignee_id is not None:
        stmt = stmt.where(col(AmlCase.assignee_id) == where.assignee_id)
    if where.player_id is not None:
        stmt = stmt.where(col(AmlCase.player_id) == where.player_id)
    if where.case_type is not None:
        stmt = stmt.where(col(AmlCase.case_type) == where.case_type)
    if where.overdue is not None:
        late = (col(AmlCase.state) != CaseState.CLOSED.value) & (col(AmlCase.due_at) < clock.now())
        stmt = stmt.where(late if where.overdue else ~late)
    return stmt


def require_role(viewer: Viewer, roles: frozenset[str], what: str) -> uuid.UUID:
    """The staff member's id, if they hold one of `roles` (the service's own check beside Casbin's)."""
    if not viewer.is_staff or viewer.id is None or not (viewer.roles & roles):
        raise DomainError(f"Only {' or '.join(sorted(roles))} staff {what}.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


def require_open(case: AmlCase) -> None:
    if case.state == CaseState.CLOSED:
        raise DomainError("This case is closed.", code=ErrorCode.INVALID_STATE, field="caseId")
