"""Journey resolvers (staff): thin maps onto services/crm/journeys/store.py, and the per-request DataLoader
of the runs' step records (one statement per page of runs)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col
from strawberry import relay
from strawberry.dataloader import DataLoader

from core.pagination import paginate
from core.runtime import Runtime
from models.crm_journeys import CrmJourney as JourneyRow
from models.crm_journeys import CrmJourneyRun as RunRow
from models.crm_journeys import CrmJourneyStep as StepRow
from resolvers.common import payload_errors
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.crm_journeys import (
    CreateJourneyInput,
    Journey,
    JourneyPayload,
    JourneyRun,
    JourneyRunStatus,
    JourneyStatus,
    NewJourneyVersionInput,
    SetJourneyStatusInput,
    UpdateJourneyInput,
)
from services.crm.journeys import store


class JourneyLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.steps: DataLoader[uuid.UUID, list[StepRow]] = DataLoader(self._steps)

    async def _steps(self, ids: Sequence[uuid.UUID]) -> list[list[StepRow]]:
        async with self.rt.database.session() as db:
            return await store.steps_of(db, list(ids))


async def journeys(
    info: Info,
    status: JourneyStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Journey]:
    """The brand's journeys (every version), newest first."""
    stmt = store.readable_journeys(info.context.viewer, status=status)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(JourneyRow.created_at), col(JourneyRow.id)), first=first, after=after, last=last,
            before=before,
        )  # fmt: skip
    return Connection.of(page, Journey.from_model)


async def journey(info: Info, id: relay.GlobalID) -> Journey | None:
    async with info.context.rt.database.session() as db:
        found = await store.readable_journey(db, info.context.viewer, node_uuid(id, "Journey"))
    return Journey.from_model(found) if found is not None else None


async def runs_page(
    info: Info,
    *,
    journey_id: uuid.UUID | None = None,
    player_id: uuid.UUID | None = None,
    status: JourneyRunStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[JourneyRun]:
    stmt = store.readable_runs(info.context.viewer, journey_id=journey_id, player_id=player_id, status=status)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(RunRow.decided_at), col(RunRow.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, JourneyRun.from_model)


async def player_journey_runs(
    info: Info,
    player_id: relay.GlobalID,
    status: JourneyRunStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[JourneyRun]:
    """A player's journey runs (every journey), newest first."""
    return await runs_page(
        info, player_id=node_uuid(player_id, "Player"), status=status, first=first, after=after, last=last,
        before=before,
    )  # fmt: skip


@payload_errors(JourneyPayload)
async def create_journey(info: Info, input: CreateJourneyInput) -> JourneyPayload:
    made = await store.create(
        info.context.rt, info.context.viewer, name=input.name, definition=input.definition, brand_code=input.brand_code
    )
    return JourneyPayload(journey=Journey.from_model(made))


@payload_errors(JourneyPayload)
async def update_journey(info: Info, input: UpdateJourneyInput) -> JourneyPayload:
    changed = await store.update(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.journey_id, "Journey"),
        name=input.name,
        definition=input.definition,
    )
    return JourneyPayload(journey=Journey.from_model(changed))


@payload_errors(JourneyPayload)
async def new_journey_version(info: Info, input: NewJourneyVersionInput) -> JourneyPayload:
    made = await store.new_version(info.context.rt, info.context.viewer, node_uuid(input.journey_id, "Journey"))
    return JourneyPayload(journey=Journey.from_model(made))


@payload_errors(JourneyPayload)
async def set_journey_status(info: Info, input: SetJourneyStatusInput) -> JourneyPayload:
    changed = await store.set_status(
        info.context.rt, info.context.viewer, node_uuid(input.journey_id, "Journey"), JourneyStatus(input.status)
    )
    return JourneyPayload(journey=Journey.from_model(changed))
