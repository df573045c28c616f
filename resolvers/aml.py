"""Screening resolvers: thin, the reads and the decision are services/aml/alerts.py's."""

from __future__ import annotations

import uuid

import strawberry

from models.aml import AlertState
from resolvers.common import payload_errors, require_subject
from schema.aml import (
    DecideScreeningAlertInput,
    DecideScreeningAlertPayload,
    ScreeningAlert,
    ScreeningAlertFilter,
    ScreeningAlertState,
)
from schema.base import Connection, node_uuid, to_global_id
from schema.context import Info
from services.aml import alerts


async def list_screening_alerts(
    info: Info,
    filter: ScreeningAlertFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[ScreeningAlert]:
    where = filter or ScreeningAlertFilter()
    service_filter = alerts.AlertFilter(
        state=AlertState(where.state.value) if where.state is not None else None,
        player_id=node_uuid(where.player_id, "Player") if where.player_id is not None else None,
        min_score=where.min_score,
        topic=where.topic,
    )
    async with info.context.rt.database.session() as db:
        page = await alerts.readable_page(
            db, info.context.viewer, service_filter, first=first, after=after, last=last, before=before
        )
    return Connection.of(page, ScreeningAlert.from_model)


async def player_screening_alerts(
    info: Info, player_id: uuid.UUID, *, state: ScreeningAlertState | None, first: int | None, after: str | None
) -> Connection[ScreeningAlert]:
    """Player.screeningAlerts: the match queue of one player, any state unless one is named."""
    where = ScreeningAlertFilter(state=state, player_id=strawberry.ID(str(to_global_id("Player", player_id))))
    return await list_screening_alerts(info, where, first=first, after=after)


async def screening_alert(info: Info, id: strawberry.ID) -> ScreeningAlert | None:
    alert_id = node_uuid(id, "ScreeningAlert")
    async with info.context.rt.database.session() as db:
        row = await db.scalar(alerts.readable_alerts(info.context.viewer).where(alerts.by_id(alert_id)))
    return ScreeningAlert.from_model(row) if row else None


@payload_errors(DecideScreeningAlertPayload)
async def decide_screening_alert(info: Info, input: DecideScreeningAlertInput) -> DecideScreeningAlertPayload:
    require_subject(info)
    row = await alerts.decide(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.alert_id, "ScreeningAlert"),
        AlertState(input.decision.value),
        input.reason,
    )
    return DecideScreeningAlertPayload(alert=ScreeningAlert.from_model(row))
