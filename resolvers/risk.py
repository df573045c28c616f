"""Risk resolvers: thin maps onto services/risk (linked accounts, lists)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import strawberry
from sqlmodel import col

from core.pagination import paginate
from models.risk import RiskListEntry as EntryRow
from resolvers.common import payload_errors
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.risk import (
    AddRiskListEntryInput,
    LinkedPlayer,
    RemoveRiskListEntryInput,
    RiskFlag,
    RiskListEntry,
    RiskListEntryPayload,
    SharedSignal,
)
from services.risk import clusters, lists
from services.risk.lists import EntryKind, ListName

if TYPE_CHECKING:
    from schema.players import Player


async def cluster_size(info: Info, player_id: uuid.UUID) -> int:
    async with info.context.rt.database.session() as db:
        return await clusters.cluster_size(db, info.context.viewer, player_id)


async def linked_players(info: Info, player_id: uuid.UUID) -> list[LinkedPlayer]:
    async with info.context.rt.database.session() as db:
        found = await clusters.linked_players(db, info.context.viewer, player_id)
    return [
        LinkedPlayer(
            player_id=linked.player_id,
            shared_signals=[
                SharedSignal(kind=s.kind, value=s.masked_value, first_seen=s.first_seen) for s in linked.shared
            ],
        )
        for linked in found
    ]


async def player_flags(info: Info, player_id: uuid.UUID) -> list[RiskFlag]:
    async with info.context.rt.database.session() as db:
        found = await lists.player_flags(db, player_id)
    return [
        RiskFlag(
            id=strawberry.ID(str(f.id)),
            source=f.source,
            outcome=f.outcome,
            detail=f.detail,
            occasion=f.occasion,
            status=f.status,
            raised_at=f.raised_at,
        )
        for f in found
    ]


async def linked_player(info: Info, player_id: uuid.UUID) -> Player | None:
    from schema.players import Player

    found = await info.context.loaders.readable_player(info.context.viewer).load(player_id)
    return Player.from_model(found) if found is not None else None


async def risk_list_entries(
    info: Info,
    list: ListName | None = None,
    kind: EntryKind | None = None,
    include_inactive: bool = False,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[RiskListEntry]:
    stmt = lists.readable_entries(info.context.viewer, list_name=list, kind=kind, active_only=not include_inactive)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(EntryRow.added_at), col(EntryRow.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, RiskListEntry.from_model)


@payload_errors(RiskListEntryPayload)
async def add_risk_list_entry(info: Info, input: AddRiskListEntryInput) -> RiskListEntryPayload:
    entry = await lists.add_entry(
        info.context.rt,
        info.context.viewer,
        list_name=input.list,
        kind=input.kind,
        value=input.value,
        reason=input.reason,
        expires_at=input.expires_at,
    )
    return RiskListEntryPayload(entry=RiskListEntry.from_model(entry))


@payload_errors(RiskListEntryPayload)
async def remove_risk_list_entry(info: Info, input: RemoveRiskListEntryInput) -> RiskListEntryPayload:
    entry = await lists.remove_entry(
        info.context.rt,
        info.context.viewer,
        entry_id=node_uuid(input.entry_id, "RiskListEntry"),
        reason=input.reason,
    )
    return RiskListEntryPayload(entry=RiskListEntry.from_model(entry))
