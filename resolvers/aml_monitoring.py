"""Transaction monitoring's resolvers: thin, over services/aml/monitoring (alerts, versions, backtests)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING
from weakref import WeakKeyDictionary

import strawberry
from sqlmodel import col
from strawberry.dataloader import DataLoader

from core.errors import bad_input
from core.pagination import paginate
from models import aml_monitoring as m
from resolvers.common import payload_errors, require_subject
from schema.aml_monitoring import (
    ActivateAmlMonitoringVersionInput,
    AmlAlert,
    AmlAlertEvent,
    AmlAlertStatus,
    AmlBacktestAlert,
    AmlBacktestRun,
    AmlMonitoringVersion,
    AmlMonitoringVersionPayload,
    AmlOutcome,
    DecideAmlAlertInput,
    DecideAmlAlertPayload,
)
from schema.base import Connection, node_uuid, to_global_id
from schema.context import Context, Info
from services.aml.monitoring import alerts, versions

if TYPE_CHECKING:
    from schema.players import Player

_EVENTS: WeakKeyDictionary[Context, DataLoader[str, list[AmlAlertEvent]]] = WeakKeyDictionary()


async def alert_events(info: Info, alert_id: str) -> list[AmlAlertEvent]:
    """The events behind alerts, for a page of alerts in one query (a DataLoader per request)."""
    loader = _EVENTS.get(info.context)
    if loader is None:
        rt = info.context.rt

        async def load(keys: list[str]) -> list[list[AmlAlertEvent]]:
            async with rt.database.session() as db:
                found = await alerts.events_of(db, [uuid.UUID(k) for k in keys])
            return [[AmlAlertEvent.of(e) for e in found[uuid.UUID(k)]] for k in keys]

        loader = _EVENTS[info.context] = DataLoader(load)
    return await loader.load(alert_id)


async def alert_player(info: Info, player_id: str) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(uuid.UUID(player_id))
    return Player.from_model(found) if found else None


async def aml_alerts(
    info: Info,
    status: AmlAlertStatus | None = AmlAlertStatus.OPEN,
    outcome: AmlOutcome | None = None,
    rule: str | None = None,
    player_id: strawberry.ID | None = None,
    version: int | None = None,
    raised_from: datetime | None = None,
    raised_to: datetime | None = None,
    first: int | None = None,
    after: str | None = None,
) -> Connection[AmlAlert]:
    where = alerts.AlertFilter(
        status=status.value if status else None,
        outcome=outcome.value if outcome else None,
        rule=rule,
        player_id=node_uuid(player_id, "Player") if player_id else None,
        version=version,
        raised_from=raised_from,
        raised_to=raised_to,
    )
    stmt = alerts.readable_alerts(info.context.viewer, where)
    async with info.context.rt.database.session() as db:
        page = await paginate(db, stmt, (col(m.AmlAlert.raised_at), col(m.AmlAlert.id)), first=first, after=after)
    return Connection.of(page, AmlAlert.from_model)


async def player_aml_alerts(
    info: Info, player_id: uuid.UUID, *, status: AmlAlertStatus | None, first: int | None, after: str | None
) -> Connection[AmlAlert]:
    """Player.amlAlerts: the alerts queue of one player, any status unless one is named."""
    return await aml_alerts(
        info, status=status, player_id=strawberry.ID(str(to_global_id("Player", player_id))), first=first, after=after
    )


async def aml_alert(info: Info, id: strawberry.ID) -> AmlAlert | None:
    async with info.context.rt.database.session() as db:
        found = await db.scalar(
            alerts.readable_alerts(info.context.viewer).where(col(m.AmlAlert.id) == node_uuid(id, "AmlAlert"))
        )
    return AmlAlert.from_model(found) if found else None


@payload_errors(DecideAmlAlertPayload)
async def decide_aml_alert(info: Info, input: DecideAmlAlertInput) -> DecideAmlAlertPayload:
    require_subject(info)
    alert = await alerts.decide(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.alert_id, "AmlAlert"),
        input.decision.value,
        input.reason,
    )
    return DecideAmlAlertPayload(alert=AmlAlert.from_model(alert))


def _version(v: versions.StoredVersion) -> AmlMonitoringVersion:
    return AmlMonitoringVersion(
        version=v.number,
        note=v.note,
        live=v.live,
        rules=strawberry.scalars.JSON(v.document["rules"]),
        scenario=strawberry.scalars.JSON(v.document["scenario"]),
        created_at=v.created_at,
        activated_at=v.activated_at,
    )


async def aml_monitoring_versions(info: Info) -> list[AmlMonitoringVersion]:
    async with info.context.rt.database.transaction() as db:
        stored = await versions.all_versions(db)
    return [_version(v) for v in stored]


@payload_errors(AmlMonitoringVersionPayload)
async def activate_aml_monitoring_version(
    info: Info, input: ActivateAmlMonitoringVersionInput
) -> AmlMonitoringVersionPayload:
    require_subject(info)
    stored = await versions.activate_by_staff(info.context.rt, info.context.viewer, input.version, input.reason)
    return AmlMonitoringVersionPayload(version=_version(stored))


async def aml_backtests(info: Info, first: int | None = None, after: str | None = None) -> Connection[AmlBacktestRun]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            alerts.backtest_runs(),
            (col(m.AmlBacktestRun.created_at), col(m.AmlBacktestRun.id)),
            first=first,
            after=after,
        )
    return Connection.of(page, AmlBacktestRun.from_model)


async def aml_backtest_alerts(
    info: Info, run_id: strawberry.ID, change: str | None = None, first: int | None = None, after: str | None = None
) -> Connection[AmlBacktestAlert]:
    try:
        run = uuid.UUID(str(run_id))
    except ValueError as exc:
        raise bad_input("Expected a backtest run id.") from exc
    stmt = alerts.backtest_alerts(info.context.viewer, run, change)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(m.AmlBacktestAlert.version), col(m.AmlBacktestAlert.event_id)), first=first, after=after
        )
    return Connection.of(page, AmlBacktestAlert.from_model)
