"""Provider onboarding resolvers: thin over services/providers (the CLI calls the same functions)."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import col

from core.errors import DomainError, bad_input
from core.pagination import paginate
from models import games as m
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, UserError, node_uuid
from schema.context import Info
from schema.providers import (
    AddGameProviderInput,
    BetLimitInput,
    CatalogGame,
    CatalogGamePayload,
    CreateGameInput,
    GameImportReport,
    GameProviderPayload,
    ImportGamesInput,
    ImportGamesPayload,
    ProviderSettings,
    SetGameEnabledInput,
    SetGameProviderEnabledInput,
    SetGameProviderKeyInput,
    SetGameProviderSecretRefInput,
    UpdateGameInput,
    UpdateGameProviderInput,
)
from services.providers import catalog, imports, registry
from services.providers.catalog import GameChanges


def _settings(info: Info, provider: m.Provider) -> ProviderSettings:
    return ProviderSettings.from_model(provider, info.context.rt.settings.provider_secrets)


async def game_providers(
    info: Info, first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None
) -> Connection[ProviderSettings]:
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            registry.listed_providers(),
            (col(m.Provider.created_at), col(m.Provider.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, lambda p: _settings(info, p))


async def catalog_games(
    info: Info,
    provider: str,
    search: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[CatalogGame]:
    """A provider's games for staff, disabled ones included, newest first."""
    async with info.context.rt.database.session() as db:
        try:
            found = await registry.get_by_code(db, provider)
        except DomainError as exc:  # queries have no payload: an unknown provider is bad input
            raise bad_input(exc.message, field="provider") from exc
        page = await paginate(
            db,
            catalog.provider_games(found.id, search=search),
            (col(m.Game.created_at), col(m.Game.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, CatalogGame.from_model)


@payload_errors(GameProviderPayload)
async def add_game_provider(info: Info, input: AddGameProviderInput) -> GameProviderPayload:
    require_subject(info)
    added = await registry.add_provider(
        info.context.rt,
        info.context.viewer,
        code=input.code,
        name=input.name,
        protocol=input.protocol.value,
        launch_url=input.launch_url,
        public_key_pem=input.public_key_pem,
        secret_ref=input.secret_ref,
        enabled=input.enabled,
        reason=input.reason,
        game_list_url=input.game_list_url,
        free_rounds_url=input.free_rounds_url,
    )
    return GameProviderPayload(provider=_settings(info, added))


@payload_errors(GameProviderPayload)
async def update_game_provider(info: Info, input: UpdateGameProviderInput) -> GameProviderPayload:
    require_subject(info)
    changed = await registry.update_provider(
        info.context.rt,
        info.context.viewer,
        input.provider,
        name=input.name,
        launch_url=input.launch_url,
        reason=input.reason,
        game_list_url=input.game_list_url,
        free_rounds_url=input.free_rounds_url,
    )
    return GameProviderPayload(provider=_settings(info, changed))


@payload_errors(GameProviderPayload)
async def set_game_provider_key(info: Info, input: SetGameProviderKeyInput) -> GameProviderPayload:
    require_subject(info)
    changed = await registry.set_public_key(
        info.context.rt, info.context.viewer, input.provider, input.public_key_pem, reason=input.reason
    )
    return GameProviderPayload(provider=_settings(info, changed))


@payload_errors(GameProviderPayload)
async def set_game_provider_secret_ref(info: Info, input: SetGameProviderSecretRefInput) -> GameProviderPayload:
    require_subject(info)
    changed = await registry.set_secret_ref(
        info.context.rt, info.context.viewer, input.provider, input.secret_ref, reason=input.reason
    )
    return GameProviderPayload(provider=_settings(info, changed))


@payload_errors(GameProviderPayload)
async def set_game_provider_enabled(info: Info, input: SetGameProviderEnabledInput) -> GameProviderPayload:
    require_subject(info)
    changed = await registry.set_enabled(
        info.context.rt, info.context.viewer, input.provider, input.enabled, reason=input.reason
    )
    return GameProviderPayload(provider=_settings(info, changed))


def _pairs(limits: list[BetLimitInput] | None) -> list[tuple[str, str]] | None:
    return None if limits is None else [(limit.currency, limit.amount) for limit in limits]


def _game_changes(input: CreateGameInput | UpdateGameInput) -> GameChanges:
    """The catalog fields both game inputs carry (None: not given)."""
    return GameChanges(
        title=input.title,
        type=input.type.value if input.type else None,
        rtp=input.rtp,
        volatility=input.volatility.value if input.volatility else None,
        min_bet=_pairs(input.min_bets),
        max_bet=_pairs(input.max_bets),
        contribution_category=input.contribution_category,
        countries=input.countries,
        currencies=input.currencies,
        demo_available=input.demo_available,
        image_url=input.image_url,
        tags=input.tags,
    )


@payload_errors(CatalogGamePayload)
async def create_game(info: Info, input: CreateGameInput) -> CatalogGamePayload:
    require_subject(info)
    created = await catalog.create_game(
        info.context.rt,
        info.context.viewer,
        input.provider,
        input.code,
        replace(_game_changes(input), enabled=input.enabled),
        reason=input.reason,
    )
    return CatalogGamePayload(game=CatalogGame.from_model(created))


@payload_errors(CatalogGamePayload)
async def update_game(info: Info, input: UpdateGameInput) -> CatalogGamePayload:
    require_subject(info)
    changed = await catalog.update_game(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.game_id, "Game"),
        _game_changes(input),
        reason=input.reason,
    )
    return CatalogGamePayload(game=CatalogGame.from_model(changed))


@payload_errors(CatalogGamePayload)
async def set_game_enabled(info: Info, input: SetGameEnabledInput) -> CatalogGamePayload:
    require_subject(info)
    changed = await catalog.set_game_enabled(
        info.context.rt, info.context.viewer, node_uuid(input.game_id, "Game"), input.enabled, reason=input.reason
    )
    return CatalogGamePayload(game=CatalogGame.from_model(changed))


@payload_errors(ImportGamesPayload)
async def import_games(info: Info, input: ImportGamesInput) -> ImportGamesPayload:
    require_subject(info)
    try:
        report = await imports.import_games(
            info.context.rt,
            info.context.viewer,
            input.provider,
            input.games,
            currencies=input.currencies,
            dry_run=input.dry_run,
            reason=input.reason,
        )
    except imports.InvalidGameList as refused:  # every problem of the list, each at its entry
        return ImportGamesPayload(errors=[UserError.from_domain(p) for p in refused.problems])
    return ImportGamesPayload(report=GameImportReport.of(report))
