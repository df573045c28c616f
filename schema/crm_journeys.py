"""Journey types (staff): journeys as versioned data (the definition is JSON, docs/crm-journeys.md), each
player's runs with their step log, and the inputs and payloads of the journeys' commands."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import crm_journeys as m
from schema.base import Connection, UserError
from schema.context import Info
from schema.input_limits import text

JourneyStatus = m.JourneyStatus
strawberry.enum(
    m.JourneyStatus,
    name="JourneyStatus",
    description="draft: editable; active: players enter it; paused: no entries, runs wait; archived: ended "
    "(a version superseded by a newer one lets its runs finish).",
)
JourneyRunStatus = m.RunStatus
strawberry.enum(
    m.RunStatus,
    name="JourneyRunStatus",
    description="active: steps left; completed; exited: a condition failed, or the journey was archived; "
    "skipped: the trigger fired but the player did not enter (the reason says why).",
)
JourneyStepOutcome = m.StepOutcome
strawberry.enum(
    m.StepOutcome,
    name="JourneyStepOutcome",
    description="done; waiting: a delay; deferred: quiet hours; skipped: a cap, a holdout, an offer refused by "
    "the bonus engine; suppressed: suppression refused it; exited: a condition failed; failed: an error.",
)


@strawberry.type(description="What one step of a run did.")
class JourneyStepRecord:
    step: int = strawberry.field(description="The step's place in the journey's definition, from 0")
    kind: str
    outcome: JourneyStepOutcome
    reason: str | None = strawberry.field(description="A reason code (suppression's, the bonus engine's, a cap)")
    message_id: uuid.UUID | None = strawberry.field(description="The message it queued (crm_messages)")
    bonus_id: uuid.UUID | None = strawberry.field(description="The bonus it issued")
    until: datetime | None = strawberry.field(description="When the run goes on (a delay, quiet hours)")
    at: datetime

    @classmethod
    def from_model(cls, row: m.CrmJourneyStep) -> JourneyStepRecord:
        return cls(
            step=row.step,
            kind=row.kind,
            outcome=m.StepOutcome(row.outcome),
            reason=row.reason,
            message_id=row.message_id,
            bonus_id=row.bonus_id,
            until=row.until,
            at=row.at,
        )


@strawberry.type(description="A player's run through a journey version, or a trigger decided against.")
class JourneyRun(relay.Node):
    id: relay.NodeID[str]
    journey_id: uuid.UUID
    player_id: uuid.UUID
    trigger_key: str = strawberry.field(description="event:<outbox id>, or a time trigger's anchor")
    event_id: int | None
    event_at: datetime | None
    status: JourneyRunStatus
    reason: str | None
    step: int = strawberry.field(description="The next step")
    due_at: datetime | None = strawberry.field(description="When an active run goes on")
    variant: str | None = strawberry.field(description="The A/B variant its sends used")
    decided_at: datetime
    ended_at: datetime | None

    @strawberry.field(description="What each step did, first first.")  # type: ignore[untyped-decorator]
    async def steps(self, info: Info) -> list[JourneyStepRecord]:
        rows = await info.context.loaders.crm_journeys.steps.load(uuid.UUID(self.id))
        return [JourneyStepRecord.from_model(r) for r in rows]

    @classmethod
    def from_model(cls, row: m.CrmJourneyRun) -> JourneyRun:
        return cls(
            id=str(row.id),
            journey_id=row.journey_id,
            player_id=row.player_id,
            trigger_key=row.trigger_key,
            event_id=row.event_id,
            event_at=row.event_at,
            status=m.RunStatus(row.status),
            reason=row.reason,
            step=row.step,
            due_at=row.due_at,
            variant=row.variant,
            decided_at=row.decided_at,
            ended_at=row.ended_at,
        )


@strawberry.type(description="A version of a journey: trigger, entry segment, caps, quiet hours and steps as data.")
class Journey(relay.Node):
    id: relay.NodeID[str]
    key: uuid.UUID = strawberry.field(description="The journey across its versions")
    version: int
    name: str
    status: JourneyStatus
    brand_id: uuid.UUID
    trigger_kind: str
    definition: JSON = strawberry.field(description="The definition (docs/crm-journeys.md)")
    superseded_by: uuid.UUID | None = strawberry.field(description="The version that replaced this one")
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None

    @strawberry.field(description="Its runs and skipped triggers, newest first.")  # type: ignore[untyped-decorator]
    async def runs(
        self,
        info: Info,
        status: JourneyRunStatus | None = None,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[JourneyRun]:
        from resolvers.crm_journeys import runs_page

        return await runs_page(
            info, journey_id=uuid.UUID(self.id), status=status, first=first, after=after, last=last, before=before
        )

    @classmethod
    def from_model(cls, row: m.CrmJourney) -> Journey:
        return cls(
            id=str(row.id),
            key=row.key,
            version=row.version,
            name=row.name,
            status=m.JourneyStatus(row.status),
            brand_id=row.brand_id,
            trigger_kind=row.trigger_kind,
            definition=JSON(row.definition),
            superseded_by=row.superseded_by,
            created_at=row.created_at,
            updated_at=row.updated_at,
            activated_at=row.activated_at,
        )


@strawberry.input
class CreateJourneyInput:
    name: str = text(120)
    definition: JSON = strawberry.field(description="The definition (docs/crm-journeys.md)")
    brand_code: str | None = text(40, default=None, description="Staff of every brand name the brand")


@strawberry.input
class UpdateJourneyInput:
    journey_id: relay.GlobalID
    name: str | None = text(120, default=None)
    definition: JSON | None = None


@strawberry.input
class NewJourneyVersionInput:
    journey_id: relay.GlobalID


@strawberry.input
class SetJourneyStatusInput:
    journey_id: relay.GlobalID
    status: JourneyStatus


@strawberry.type
class JourneyPayload:
    journey: Journey | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
