"""Screening alerts for staff: the queue (filtered, brand-scoped like every player-owned table) and the
decision on one. A decision is final for that alert, needs a reason, is audited and emits
`aml.screening_alert_decided` in the same transaction:
- false positive: the (player, entity) pair stays quiet on later screenings while neither side's details
  change (services/aml/screening.py compares their fingerprints);
- confirmed match: restricts nothing by itself; the event is what the AML cases module opens a case from.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound, bad_input
from core.pagination import Page, paginate
from core.runtime import Runtime
from models.aml import AlertState, ScreeningAlert
from services import audit
from services.aml import cases, restrictions
from services.scoping import scoped

MAX_REASON = 2000


@dataclass(frozen=True)
class AlertFilter:
    state: AlertState | None = None
    player_id: uuid.UUID | None = None
    min_score: float | None = None
    topic: str | None = None


def by_id(alert_id: uuid.UUID) -> ColumnElement[bool]:
    return col(ScreeningAlert.id) == alert_id


def readable_alerts(viewer: Viewer) -> SelectOfScalar[ScreeningAlert]:
    stmt = select(ScreeningAlert)
    return scoped(stmt, viewer, player_column=ScreeningAlert.player_id, brand_column=ScreeningAlert.brand_id)


async def readable_page(
    db: AsyncSession,
    viewer: Viewer,
    where: AlertFilter,
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[ScreeningAlert]:
    """The alerts this viewer may read, oldest first (a queue is worked from its head)."""
    if where.min_score is not None and not 0 <= where.min_score <= 1:
        raise bad_input("A score is between 0 and 1.", field="minScore")
    stmt = readable_alerts(viewer)
    if where.state is not None:
        stmt = stmt.where(col(ScreeningAlert.state) == where.state.value)
    if where.player_id is not None:
        stmt = stmt.where(col(ScreeningAlert.player_id) == where.player_id)
    if where.min_score is not None:
        stmt = stmt.where(col(ScreeningAlert.score) >= where.min_score)
    if where.topic is not None:
        stmt = stmt.where(col(ScreeningAlert.entity)["topics"].contains([where.topic]))
    keys = (col(ScreeningAlert.created_at), col(ScreeningAlert.id))
    return await paginate(db, stmt, keys, first=first, after=after, last=last, before=before)


async def get_readable(db: AsyncSession, viewer: Viewer, alert_id: uuid.UUID) -> ScreeningAlert:
    alert = await db.scalar(readable_alerts(viewer).where(col(ScreeningAlert.id) == alert_id))
    if alert is None:
        raise NotFound("No such screening alert.", field="alertId")
    return alert


async def decide(rt: Runtime, viewer: Viewer, alert_id: uuid.UUID, decision: AlertState, reason: str) -> ScreeningAlert:
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Staff only.", code=ErrorCode.NOT_ALLOWED)
    if decision is AlertState.OPEN:
        raise DomainError("Decide a false positive or a confirmed match.", field="decision")
    reason = reason.strip()
    if not reason or len(reason) > MAX_REASON:
        raise DomainError(f"Give a reason (at most {MAX_REASON} characters).", field="reason")
    async with rt.database.transaction() as db:
        alert = await db.scalar(readable_alerts(viewer).where(col(ScreeningAlert.id) == alert_id).with_for_update())
        if alert is None:
            raise NotFound("No such screening alert.", field="alertId")
        if alert.state != AlertState.OPEN:
            raise DomainError(f"The alert was already decided ({alert.state}).", code=ErrorCode.INVALID_STATE)
        alert.state = decision.value
        alert.decided_by = viewer.id
        alert.decided_at = clock.now()
        alert.decision_reason = reason
        await db.flush()
        await outbox.emit(
            db,
            "aml.screening_alert_decided",
            f"player:{alert.player_id}",
            {
                "alert_id": str(alert.id),
                "player_id": str(alert.player_id),
                "entity_id": alert.entity_id,
                "decision": decision.value,
                "staff_id": str(viewer.id),
            },
            brand_id=alert.brand_id,
        )
        if decision is AlertState.CONFIRMED:  # a confirmed match is investigated as an AML case (one per alert)
            kind = case_type_of(alert.entity)
            case = await cases.open_case(
                db,
                player_id=alert.player_id,
                source="screening",
                source_id=str(alert.id),
                summary=f"Confirmed list match: entity {alert.entity_id} (score {alert.score:.2f}).",
                case_type_name=kind,
                opened_by=viewer,
            )
            if kind == "sanctions":  # a sanctioned person's funds are frozen at once, pending the MLRO's decision
                await restrictions.impose(
                    db, case, viewer, "Confirmed sanctions list match: account frozen.", staff_id=viewer.id
                )
        await audit.append(
            db,
            actor=viewer,
            action="aml.screening_alert_decided",
            target_type="player",
            target_id=alert.player_id,
            brand_id=alert.brand_id,
            before={"alert_id": str(alert.id), "state": AlertState.OPEN.value},
            after={"alert_id": str(alert.id), "state": decision.value, "entity_id": alert.entity_id},
            reason=reason,
        )
    return alert


def case_type_of(entity: dict[str, Any]) -> str:
    """The AML case type of a confirmed match (services/aml/cases.toml): a PEP who is not also sanctioned is a
    "pep" case, anything else a "sanctions" one (the stricter deadline)."""
    topics = [str(t) for t in entity.get("topics") or []]
    pep = any(t.startswith("role.pep") for t in topics)
    return "pep" if pep and not any(t.startswith("sanction") for t in topics) else "sanctions"
