"""Game resolvers: catalog, lobby, brand switches, launches, a player's rounds."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlmodel import col

from core.errors import DomainError, bad_input, unauthenticated
from core.pagination import paginate
from models import games as m
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.completion_memo import MemoizedList
from schema.context import Info
from schema.games import (
    Game,
    GameAvailability,
    GameFilter,
    GameMode,
    GameProvider,
    GameRound,
    GameSession,
    LaunchGameInput,
    LaunchGamePayload,
    LobbyCategory,
    RoundFilter,
    SetGameAvailabilityInput,
    SetGameAvailabilityPayload,
)
from services import games, lobby_cache
from services.crm.lobby import personal
from services.games import Audience


async def _audience(info: Info, brand: str | None) -> Audience:
    try:
        return await info.context.loaders.games.audience(info.context.viewer, brand)
    except DomainError as exc:  # queries have no payload: a bad brand is bad input
        raise bad_input(exc.message, field=exc.field or "brand") from exc


async def list_games(
    info: Info,
    filter: GameFilter | None = None,
    brand: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Game]:
    audience = await _audience(info, brand)
    where = (
        games.CatalogFilter(
            search=filter.search,
            type=filter.type.value if filter.type else None,
            provider_code=filter.provider_code,
            tags=tuple(filter.tags or ()),
            category=filter.category,
        )
        if filter
        else games.CatalogFilter()
    )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            games.catalog(audience, where),
            (col(m.Game.created_at), col(m.Game.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, lambda g: Game.from_model(g, audience))


async def game(info: Info, id: strawberry.ID, brand: str | None = None) -> Game | None:
    game_id = node_uuid(id, "Game")
    audience = await _audience(info, brand)
    async with info.context.rt.database.session() as db:
        found = await games.get_listed(db, audience, game_id)
    return Game.from_model(found, audience) if found else None


async def lobby(
    info: Info,
    brand: str | None = None,
    first: int = 12,
    recently_played: Annotated[
        int,
        strawberry.argument(
            description="A player's last games played (up to this many, at most 24) as a first section "
            "`recently-played`; 0: none."
        ),
    ] = 0,
) -> list[LobbyCategory]:
    audience = await _audience(info, brand)
    viewer = info.context.viewer
    if not 0 <= recently_played <= personal.RECENT_MAX:
        raise bad_input(f"`recentlyPlayed` must be between 0 and {personal.RECENT_MAX}.", field="recentlyPlayed")
    # A player's segments may give them a layout (services/crm/lobby): part of the cache key, shared by the
    # segment's players; their recently played games are theirs alone, read per request below.
    layout = await personal.layout_for(info.context.rt, viewer.id) if viewer.is_player and viewer.id else None
    try:
        cached = await lobby_cache.lobby(info.context.rt, audience, per_category=first, layout=layout)
    except DomainError as exc:
        raise bad_input(exc.message, field=exc.field) from exc
    # Once per cache entry; every viewer of the audience shares it, and its completed values too
    # (schema/completion_memo.py).
    if cached.rendered is None:
        shown = {i: GameProvider(code=p.code, name=p.name) for i, p in cached.providers.items()}
        cached.rendered = MemoizedList(
            LobbyCategory(
                code=s.category.code,
                title=s.category.title,
                games=[
                    Game.from_model(g, audience, available=True, provider=shown.get(g.provider_id)) for g in s.games
                ],
            )
            for s in cached.sections
        )
    rendered: list[LobbyCategory] = cached.rendered
    if recently_played and viewer.is_player and viewer.id:
        async with info.context.rt.database.session() as db:
            recent = await personal.recently_played(db, audience, viewer.id, limit=recently_played)
        if recent:
            # Providers the cached entry holds are shown as read; another one loads through the DataLoader.
            loaded = {i: GameProvider(code=p.code, name=p.name) for i, p in cached.providers.items()}
            section = LobbyCategory(
                code=personal.RECENTLY_PLAYED,
                title="Recently played",
                games=[
                    Game.from_model(g, audience, available=True, provider=loaded.get(g.provider_id)) for g in recent
                ],
            )
            return [section, *rendered]
    return rendered


async def player_rounds(
    info: Info,
    player_id: uuid.UUID,
    where: RoundFilter | None,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[GameRound]:
    viewer = info.context.viewer
    filters = games.RoundFilter(
        status=where.status.value if where and where.status else None,
        since=where.since if where else None,
        until=where.until if where else None,
    )
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            games.readable_rounds(viewer, player_id, filters),
            (col(m.GameRound.opened_at), col(m.GameRound.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    if not page.items:
        return Connection.of(page, lambda r: r)
    audience = await _audience(info, None)
    return Connection.of(page, lambda r: GameRound.from_model(r, audience))


@payload_errors(SetGameAvailabilityPayload)
async def set_game_availability(info: Info, input: SetGameAvailabilityInput) -> SetGameAvailabilityPayload:
    require_subject(info)
    game_id = node_uuid(input.game_id, "Game")
    switch = await games.set_availability(
        info.context.rt,
        info.context.viewer,
        game_id,
        brand_code=input.brand,
        enabled=input.enabled,
        disabled_countries=input.disabled_countries,
        reason=input.reason,
    )
    staff_view = Audience(brand_id=switch.brand_id, country=None, currency=None, staff=True)
    found = await info.context.loaders.games.game.load(game_id)
    return SetGameAvailabilityPayload(
        availability=GameAvailability(
            game=Game.from_model(found, staff_view) if found else None,
            enabled=switch.enabled,
            disabled_countries=list(switch.disabled_countries),
            updated_at=switch.updated_at,
            brand_id=switch.brand_id,
        )
    )


@payload_errors(LaunchGamePayload)
async def launch_game(info: Info, input: LaunchGameInput) -> LaunchGamePayload:
    if input.mode == GameMode.REAL and info.context.viewer.id is None:
        raise unauthenticated("Log in to play for real money.")
    game_id = node_uuid(input.game_id, "Game")
    launched = await games.launch(
        info.context.rt,
        info.context.viewer,
        game_id,
        m.GameMode(input.mode.value),
        brand_code=input.brand,
        lang=input.lang,
    )
    return LaunchGamePayload(launch_url=launched.url, session=GameSession.from_model(launched.session))


async def game_round(info: Info, round_id: uuid.UUID) -> GameRound | None:
    """One round by id, through the same ownership filter as `Player.rounds`."""
    async with info.context.rt.database.session() as db:
        row = await games.readable_round(db, info.context.viewer, round_id)
    return GameRound.from_model(row, await _audience(info, None)) if row else None
