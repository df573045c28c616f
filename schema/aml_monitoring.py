"""Transaction monitoring for staff: alerts with their explanation and events, decisions, rule versions and
backtests (services/aml/monitoring)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import strawberry
from strawberry.scalars import JSON

from models import aml_monitoring as m
from schema.base import UserError, to_global_id
from schema.input_limits import NOTE, text
from services.aml.monitoring.alerts import AlertEvent

if TYPE_CHECKING:
    from schema.players import Player


@strawberry.enum(description="What the scenario made of an alert's score.")
class AmlOutcome(StrEnum):
    REVIEW = "review"
    BLOCK_AND_REVIEW = "block_and_review"
    DECLINE = "decline"


@strawberry.enum(description="Where an alert stands: open, or decided by staff.")
class AmlAlertStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@strawberry.enum(description="A staff decision on an alert.")
class AmlAlertDecision(StrEnum):
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@strawberry.type(description="One rule that fired: its figures (base-currency minor units) and the events it read.")
class AmlAlertHit:
    rule: str
    kind: str
    weight: int
    figures: JSON
    event_ids: list[str]

    @classmethod
    def of(cls, hit: dict[str, Any]) -> AmlAlertHit:
        return cls(
            rule=hit["rule"],
            kind=hit["kind"],
            weight=hit["weight"],
            figures=JSON(hit["figures"]),
            event_ids=[str(e) for e in hit["events"]],
        )


@strawberry.type(description="An event behind an alert, as the catalogue publishes it.")
class AmlAlertEvent:
    id: str
    type: str
    time: datetime
    data: JSON

    @classmethod
    def of(cls, event: AlertEvent) -> AmlAlertEvent:
        return cls(id=str(event.id), type=event.type, time=event.time, data=JSON(event.data))


@strawberry.type(
    description="A transaction-monitoring alert: the rules that fired on one event and what they add up to."
)
class AmlAlert:
    id: strawberry.ID
    player_id: strawberry.ID
    version: int
    event_id: str = strawberry.field(description="The event it was raised on (outbox id)")
    score: int
    outcome: AmlOutcome
    status: AmlAlertStatus
    hits: list[AmlAlertHit]
    raised_at: datetime
    decided_at: datetime | None
    decision_reason: str | None
    event_ids: strawberry.Private[list[int]]
    alert_uuid: strawberry.Private[str]
    player_uuid: strawberry.Private[str]

    @strawberry.field(description="The player, as the viewer may see them.")  # type: ignore[untyped-decorator]
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.aml_monitoring import alert_player

        return await alert_player(info, self.player_uuid)

    @strawberry.field(description="The events behind the alert, in id order.")  # type: ignore[untyped-decorator]
    async def events(self, info: strawberry.Info) -> list[AmlAlertEvent]:
        from resolvers.aml_monitoring import alert_events

        return await alert_events(info, self.alert_uuid)

    @classmethod
    def from_model(cls, alert: m.AmlAlert) -> AmlAlert:
        return cls(
            id=strawberry.ID(str(to_global_id("AmlAlert", alert.id))),
            player_id=strawberry.ID(str(to_global_id("Player", alert.player_id))),
            version=alert.version,
            event_id=str(alert.event_id),
            score=alert.score,
            outcome=AmlOutcome(alert.outcome),
            status=AmlAlertStatus(alert.status),
            hits=[AmlAlertHit.of(h) for h in alert.hits],
            raised_at=alert.raised_at,
            decided_at=alert.decided_at,
            decision_reason=alert.decision_reason,
            event_ids=list(alert.event_ids),
            alert_uuid=str(alert.id),
            player_uuid=str(alert.player_id),
        )


@strawberry.type(description="A version of the monitoring rules and their scenario (exactly one is live).")
class AmlMonitoringVersion:
    version: int
    note: str
    live: bool
    rules: JSON
    scenario: JSON
    created_at: datetime
    activated_at: datetime | None


@strawberry.type(description="A backtest: what a version would raise over the stored history, against the live one.")
class AmlBacktestRun:
    id: strawberry.ID
    version: int
    baseline: int | None
    first_event: str
    last_event: str
    events: int
    summary: JSON
    runs: int
    finished_at: datetime | None

    @classmethod
    def from_model(cls, run: m.AmlBacktestRun) -> AmlBacktestRun:
        return cls(
            id=strawberry.ID(str(run.id)),
            version=run.version,
            baseline=run.baseline,
            first_event=str(run.first_event),
            last_event=str(run.last_event),
            events=run.events,
            summary=JSON(run.summary),
            runs=run.runs,
            finished_at=run.finished_at,
        )


@strawberry.type(description="An alert a backtest found (never live): new, same, changed, or removed.")
class AmlBacktestAlert:
    version: int
    event_id: str
    player_id: strawberry.ID
    score: int
    outcome: AmlOutcome
    change: str
    hits: list[AmlAlertHit]
    raised_at: datetime

    @classmethod
    def from_model(cls, row: m.AmlBacktestAlert) -> AmlBacktestAlert:
        return cls(
            version=row.version,
            event_id=str(row.event_id),
            player_id=strawberry.ID(str(to_global_id("Player", row.player_id))),
            score=row.score,
            outcome=AmlOutcome(row.outcome),
            change=row.change,
            hits=[AmlAlertHit.of(h) for h in row.hits],
            raised_at=row.raised_at,
        )


@strawberry.input
class DecideAmlAlertInput:
    alert_id: strawberry.ID
    decision: AmlAlertDecision
    reason: str = text(NOTE)


@strawberry.input
class ActivateAmlMonitoringVersionInput:
    version: int
    reason: str = text(NOTE)


@strawberry.type
class AmlMonitoringVersionPayload:
    version: AmlMonitoringVersion | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class DecideAmlAlertPayload:
    alert: AmlAlert | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
