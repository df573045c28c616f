"""Lobby layout resolvers (thin: the rules live in services/crm/lobby)."""

from __future__ import annotations

import uuid

import strawberry
from sqlmodel import col

from core.errors import DomainError, ErrorCode
from core.ids import uuid_of
from core.pagination import paginate
from models.crm_lobby import CrmLobbyLayout as LayoutRow
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.crm_lobby import (
    CreateLobbyLayoutInput,
    LobbyLayout,
    LobbyLayoutPayload,
    RefreshPopularGamesPayload,
    UpdateLobbyLayoutInput,
)
from services.crm.lobby import layouts, popular


def _id(raw: strawberry.ID | None, types: tuple[str, ...], field: str) -> uuid.UUID | None:
    if raw is None:
        return None
    found = uuid_of(str(raw), types)
    if found is None:
        raise DomainError(f"Not the id of a {types[0]}.", code=ErrorCode.INVALID_INPUT, field=field)
    return found


def _games(raw: list[strawberry.ID] | None) -> list[uuid.UUID] | None:
    if raw is None:
        return None
    return [g for g in (_id(r, ("Game",), "featuredGameIds") for r in raw) if g is not None]


async def lobby_layouts(
    info: Info,
    status: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[LobbyLayout]:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            layouts.layouts_query(info.context.viewer, status=status),
            (col(LayoutRow.created_at), col(LayoutRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, lambda row: LobbyLayout.of(layouts.view_of(row)))


@payload_errors(LobbyLayoutPayload)
async def create_lobby_layout(info: Info, input: CreateLobbyLayoutInput) -> LobbyLayoutPayload:
    require_subject(info)
    segment_id = _id(input.segment_id, ("CrmSegment", "Segment"), "segmentId")
    assert segment_id is not None
    async with info.context.rt.database.transaction() as db:
        view = await layouts.create_layout(
            db, viewer=info.context.viewer, brand_code=input.brand_code, name=input.name, segment_id=segment_id,
            priority=input.priority, category_order=input.category_order,
            featured=_games(input.featured_game_ids) or [],
            experiment_id=_id(input.experiment_id, ("CrmExperiment",), "experimentId"), variant=input.variant,
        )  # fmt: skip
    return LobbyLayoutPayload(layout=LobbyLayout.of(view))


@payload_errors(LobbyLayoutPayload)
async def update_lobby_layout(info: Info, input: UpdateLobbyLayoutInput) -> LobbyLayoutPayload:
    require_subject(info)
    async with info.context.rt.database.transaction() as db:
        view = await layouts.update_layout(
            db, viewer=info.context.viewer, layout_id=node_uuid(input.id, "LobbyLayout"), name=input.name,
            priority=input.priority, category_order=input.category_order, featured=_games(input.featured_game_ids),
            status=input.status,
        )  # fmt: skip
    return LobbyLayoutPayload(layout=LobbyLayout.of(view))


@payload_errors(RefreshPopularGamesPayload)
async def refresh_popular_games(info: Info) -> RefreshPopularGamesPayload:
    """Recompute the popular games now (the server also does it periodically)."""
    require_subject(info)
    async with info.context.rt.database.transaction() as db:
        rows = await popular.compute(db, min_players=info.context.rt.settings.crm_lobby_popular_min_players)
    return RefreshPopularGamesPayload(rows=rows)
