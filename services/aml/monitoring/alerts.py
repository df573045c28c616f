"""The staff side of monitoring: the alerts queue (brand-scoped), an alert with the events behind it,
staff decisions on alerts, and the stored versions and backtests to look at.

A decision (`confirmed`: suspicious, to be worked; `dismissed`: a false positive) needs a reason, is taken
once (an alert already decided refuses with INVALID_STATE), and commits with an `aml.alert_decided` event
and an audit record. What each outcome does today is in docs/aml-monitoring.md: an alert restricts nothing
on the money path by itself.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import cast, col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.aml_monitoring import AmlAlert, AmlBacktestAlert, AmlBacktestRun
from models.players import Player
from services import audit
from services.aml import cases
from services.scoping import scoped

DECISIONS = ("confirmed", "dismissed")


@dataclass(frozen=True)
class AlertFilter:
    status: str | None = "open"
    outcome: str | None = None
    rule: str | None = None
    player_id: uuid.UUID | None = None
    version: int | None = None
    raised_from: datetime | None = None
    raised_to: datetime | None = None


def readable_alerts(viewer: Viewer, where: AlertFilter | None = None) -> SelectOfScalar[AmlAlert]:
    stmt = scoped(select(AmlAlert), viewer, player_column=col(AmlAlert.player_id), brand_column=col(AmlAlert.brand_id))
    if viewer.is_player:  # never a player's to see, whatever the policy says
        return stmt.where(col(AmlAlert.id).is_(None))
    f = where or AlertFilter(status=None)
    if f.status is not None:
        stmt = stmt.where(col(AmlAlert.status) == f.status)
    if f.outcome is not None:
        stmt = stmt.where(col(AmlAlert.outcome) == f.outcome)
    if f.player_id is not None:
        stmt = stmt.where(col(AmlAlert.player_id) == f.player_id)
    if f.version is not None:
        stmt = stmt.where(col(AmlAlert.version) == f.version)
    if f.raised_from is not None:
        stmt = stmt.where(col(AmlAlert.raised_at) >= f.raised_from)
    if f.raised_to is not None:
        stmt = stmt.where(col(AmlAlert.raised_at) < f.raised_to)
    if f.rule is not None:  # jsonb containment: the GIN-free scan is over one status's page of alerts
        stmt = stmt.where(col(AmlAlert.hits).op("@>")(cast([{"rule": f.rule}], JSONB)))
    return stmt


async def get(db: AsyncSession, viewer: Viewer, alert_id: uuid.UUID) -> AmlAlert:
    found = await db.scalar(readable_alerts(viewer).where(col(AmlAlert.id) == alert_id))
    if found is None:
        raise NotFound("No such alert.", field="alertId")
    return found


@dataclass(frozen=True)
class AlertEvent:
    id: int
    type: str
    time: datetime
    data: dict[str, Any] = field(default_factory=dict)


async def events_of(db: AsyncSession, alert_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AlertEvent]]:
    """The events behind each alert, in id order (one query for a page of alerts)."""
    rows = (
        await db.execute(
            text(
                "SELECT a.id AS alert, o.id, o.topic, o.created_at, o.payload FROM aml_alerts a "
                "JOIN outbox_events o ON o.id = ANY(a.event_ids) WHERE a.id = ANY(:ids) ORDER BY o.id"
            ),
            {"ids": list(alert_ids)},
        )
    ).all()
    found: dict[uuid.UUID, list[AlertEvent]] = {a: [] for a in alert_ids}
    for row in rows:
        found[row.alert].append(AlertEvent(row.id, row.topic, row.created_at, dict(row.payload)))
    return found


async def decide(rt: Runtime, viewer: Viewer, alert_id: uuid.UUID, decision: str, reason: str) -> AmlAlert:
    if decision not in DECISIONS:
        raise DomainError("Decide `confirmed` or `dismissed`.", field="decision")
    if not reason.strip():
        raise DomainError("Say why.", field="reason")
    async with rt.database.transaction() as db:
        alert = await db.scalar(readable_alerts(viewer).where(col(AmlAlert.id) == alert_id).with_for_update())
        if alert is None:
            raise NotFound("No such alert.", field="alertId")
        if alert.status != "open":
            raise DomainError("This alert is already decided.", code=ErrorCode.INVALID_STATE, field="alertId")
        before = {"status": alert.status}
        alert.status, alert.decided_at, alert.decided_by = decision, clock.now(), viewer.id
        alert.decision_reason = reason.strip()[:2000]
        await db.flush()
        await outbox.emit(
            db,
            "aml.alert_decided",
            f"player:{alert.player_id}",
            {
                "alert_id": str(alert.id),
                "player_id": str(alert.player_id),
                "decision": decision,
                "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
            },
            brand_id=alert.brand_id,
        )
        if decision == "confirmed":  # a confirmed alert is investigated as an AML case (one per alert)
            rules = sorted({str(hit["rule"]) for hit in alert.hits if hit.get("rule")})
            await cases.open_case(
                db,
                player_id=alert.player_id,
                source="monitoring",
                source_id=str(alert.id),
                summary=f"Confirmed monitoring alert: {', '.join(rules)} (score {alert.score}, {alert.outcome}).",
                case_type_name="structuring" if "structuring" in rules else "monitoring",
                opened_by=viewer,
            )
        await audit.append(
            db,
            actor=viewer,
            action="aml.alert_decided",
            target_type="player",
            target_id=alert.player_id,
            brand_id=alert.brand_id,
            before=before,
            after={"alert": str(alert.id), "status": decision},
            reason=alert.decision_reason,
        )
    return alert


def backtest_runs() -> SelectOfScalar[AmlBacktestRun]:
    """Backtests run over every brand's history; a run's counts are aggregates, no player in them."""
    return select(AmlBacktestRun)


def backtest_alerts(viewer: Viewer, run_id: uuid.UUID, change: str | None) -> SelectOfScalar[AmlBacktestAlert]:
    """A run's alerts, of the viewer's brand's players only (staff scoped to a brand)."""
    stmt = select(AmlBacktestAlert).where(col(AmlBacktestAlert.run_id) == run_id)
    if not viewer.is_staff:
        return stmt.where(col(AmlBacktestAlert.run_id).is_(None))
    if viewer.brand_id is not None:
        mine = select(Player.id).where(col(Player.brand_id) == viewer.brand_id)
        stmt = stmt.where(col(AmlBacktestAlert.player_id).in_(mine))
    return stmt if change is None else stmt.where(col(AmlBacktestAlert.change) == change)
