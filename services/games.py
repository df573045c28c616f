"""Games: the catalog, the lobby, brand switches, game launches, and the read side of rounds.

Who may play what is one rule, `available_to(audience)`, a SQL expression used by the lobby, the
catalog's `enabledForMe` and (row by row, with a precise refusal code) by `launch`:
- the game and its provider are enabled;
- the brand has not switched the game off (`brand_games`: no row means on), and the viewer's country
  is not in the switch's `disabled_countries`;
- the game's `countries` is empty or holds the viewer's country (an unknown country matches only
  unrestricted games);
- the game's `currencies` holds the viewer's currency;
- the game is certified where the viewer is: its `jurisdictions` (from the provider's game list) are
  empty (not declared) or hold the viewer's country (refusal GAME_NOT_CERTIFIED);
- the game's bet limits are empty (none declared) or name the viewer's currency, as a minimum or a
  maximum (refusal GAME_LIMITS_MISSING: the provider would not know what to offer).
Staff see the whole catalog, disabled games included. Rounds, provider transactions and provider
calls are written by the provider wallet (services/provider_wallet/); this module only reads them,
through `readable_rounds`, whose ownership filter is SQL (a player their own, staff their brand).
"""

from __future__ import annotations

import secrets
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import ColumnElement, and_, any_, cast, exists, false, func, literal, not_, or_, true, tuple_
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox, prepared
from core.clock import clock
from core.db import changed
from core.errors import DomainError, ErrorCode, NotFound
from core.money import CURRENCIES, parse_amount
from core.prepared import Statement
from core.runtime import CATALOGUE, Runtime
from models.games import (
    BrandGame,
    Game,
    GameMode,
    GameRound,
    GameSession,
    LobbyCategory,
    LobbyCategoryGame,
    Provider,
    ProviderCall,
    ProviderTransaction,
)
from models.players import Player, PlayerStatus
from services import audit, brands, game_sessions, players
from services.aml import restrictions as aml
from services.bonuses.play import FreeRounds
from services.bonuses.play import free_rounds_for as bonus_free_rounds
from services.kyc import gates as kyc_gates
from services.rg import gates as rg_gates
from services.risk import inline as risk_inline

DEMO_CURRENCY = "XXX"  # ISO 4217 "no currency": demo sessions move no money
ISO_COUNTRY_LENGTH = 2
MAX_LOBBY_PAGE = 100


@dataclass(frozen=True)
class Audience:
    """Whom the catalog is shown to: a brand, a country and a currency (each may be unknown).

    `staff` audiences see every game; the others only games that are on for their brand.
    """

    brand_id: uuid.UUID | None
    country: str | None
    currency: str | None
    staff: bool = False


def audience_of(player: Player) -> Audience:
    """A player's audience: their own brand, country and currency."""
    return Audience(brand_id=player.brand_id, country=player.country, currency=player.currency)


async def audience_for(db: AsyncSession, viewer: Viewer, brand_code: str | None) -> Audience:
    """The audience of a request: a player's own brand, country and currency; an anonymous visitor's
    brand from the `brand` argument (its default currency, the country a trusted proxy reported);
    staff their scoped brand or the one they name."""
    if viewer.is_player:
        row = (
            await db.execute(
                select(col(Player.brand_id), col(Player.country), col(Player.currency)).where(
                    col(Player.id) == viewer.id
                )
            )
        ).first()
        if row is None:
            raise NotFound("No such player.")
        return Audience(brand_id=row[0], country=row[1], currency=row[2])
    return _audience_of(viewer, await brands.get_by_code(db, brand_code) if brand_code else None)


def _audience_of(viewer: Viewer, brand: Any) -> Audience:
    """Staff's or an anonymous visitor's audience, given the brand they name (its `id` and `default_currency`;
    None: none named)."""
    if viewer.is_staff or viewer.kind == "system":
        brand_id = viewer.brand_id
        if brand is not None:
            if viewer.brand_id is not None and brand.id != viewer.brand_id:
                raise DomainError("That brand is outside your scope.", field="brand", code=ErrorCode.NOT_ALLOWED)
            brand_id = brand.id
        return Audience(brand_id=brand_id, country=None, currency=None, staff=True)
    if brand is None:
        raise DomainError("Name the brand whose lobby to show.", field="brand")
    country = (viewer.meta.country or "").upper() or None
    return Audience(brand_id=brand.id, country=country, currency=brand.default_currency)


# The audience's rows, prepared on a pooled connection with no ORM session around them (`audience_now`).
_PLAYER_AUDIENCE = Statement("SELECT brand_id, country, currency FROM players WHERE id = :id")
_BRAND_BY_CODE = Statement("SELECT id, default_currency FROM brands WHERE code = :code")


async def audience_now(rt: Runtime, viewer: Viewer, brand_code: str | None) -> Audience:
    """`audience_for`, each row read by one prepared statement: what a kept answer's key needs before every
    catalogue read (schema/kept_answers.py), where an ORM session and its select cost ~1 ms of CPU more."""
    engine = rt.database.engine
    if viewer.is_player:
        row = await prepared.alone(engine, _PLAYER_AUDIENCE, {"id": viewer.id})
        if row is None:
            raise NotFound("No such player.")
        return Audience(brand_id=row.brand_id, country=row.country, currency=row.currency)
    brand = None
    if brand_code:
        brand = await prepared.alone(engine, _BRAND_BY_CODE, {"code": brands.normalise_code(brand_code)})
        if brand is None:
            raise NotFound(f"No brand with code {brand_code!r}.", field="brand")  # as brands.get_by_code
    return _audience_of(viewer, brand)


# ---- the availability rule, in SQL ------------------------------------------------------------------


def _brand_switch_off(audience: Audience, *, countries: bool) -> ColumnElement[bool]:
    """`brand_games` says no for this brand (or, with `countries`, for the audience's country)."""
    if audience.brand_id is None:
        return false()
    refused: ColumnElement[bool] = not_(col(BrandGame.enabled))
    if countries and audience.country:
        refused = or_(refused, literal(audience.country) == any_(col(BrandGame.disabled_countries)))
    return exists().where(col(BrandGame.game_id) == col(Game.id), col(BrandGame.brand_id) == audience.brand_id, refused)


def _provider_enabled() -> ColumnElement[bool]:
    return exists().where(col(Provider.id) == col(Game.provider_id), col(Provider.enabled))


def available_to(audience: Audience) -> ColumnElement[bool]:
    """The module docstring's rule, for `Game` rows in a statement."""
    conditions: list[ColumnElement[bool]] = [
        col(Game.enabled) == true(),
        _provider_enabled(),
        not_(_brand_switch_off(audience, countries=True)),
    ]
    if audience.country:
        conditions.append(
            or_(func.cardinality(col(Game.countries)) == 0, literal(audience.country) == any_(col(Game.countries)))
        )
    elif not audience.staff:
        conditions.append(func.cardinality(col(Game.countries)) == 0)
    if audience.country:
        conditions.append(_certified(literal(audience.country)))
    elif not audience.staff:
        conditions.append(func.cardinality(col(Game.jurisdictions)) == 0)
    if audience.currency:
        conditions.append(literal(audience.currency) == any_(col(Game.currencies)))
        conditions.append(_has_limits(audience.currency))
    return and_(true(), *conditions)


def _certified(country: ColumnElement[str]) -> ColumnElement[bool]:
    return or_(func.cardinality(col(Game.jurisdictions)) == 0, country == any_(col(Game.jurisdictions)))


def _has_limits(currency: str) -> ColumnElement[bool]:
    """No limits declared, or a limit in this currency (`?` on the JSONB limits)."""
    min_bet, max_bet = cast(col(Game.min_bet), JSONB), cast(col(Game.max_bet), JSONB)
    no_limits = and_(min_bet == literal({}, JSONB), max_bet == literal({}, JSONB))
    return or_(no_limits, min_bet.has_key(currency), max_bet.has_key(currency))


def listed_for(audience: Audience) -> ColumnElement[bool]:
    """What the catalog lists: staff everything; others the games on for their brand (whether they
    may play one in their country and currency is `enabledForMe`)."""
    if audience.staff:
        return true()
    return and_(col(Game.enabled), _provider_enabled(), not_(_brand_switch_off(audience, countries=False)))


# ---- the catalog ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogFilter:
    search: str | None = None
    type: str | None = None
    provider_code: str | None = None
    tags: Sequence[str] = ()
    category: str | None = None


def _categories_for(audience: Audience) -> ColumnElement[bool]:
    """Lobby categories shared by every brand, plus the audience brand's own."""
    if audience.brand_id is None:
        return col(LobbyCategory.brand_id).is_(None)
    return or_(col(LobbyCategory.brand_id).is_(None), col(LobbyCategory.brand_id) == audience.brand_id)


def catalog(audience: Audience, where: CatalogFilter) -> SelectOfScalar[Game]:
    """The games an audience may list, filtered (paginate it on `created_at, id`)."""
    stmt = select(Game).where(listed_for(audience))
    if where.search and where.search.strip():
        needle = where.search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(
            or_(func.lower(col(Game.title)).like(f"%{needle}%"), func.lower(col(Game.code)).like(f"%{needle}%"))
        )
    if where.type:
        stmt = stmt.where(col(Game.type) == where.type)
    if where.provider_code:
        stmt = stmt.where(
            col(Game.provider_id).in_(
                select(col(Provider.id)).where(col(Provider.code) == where.provider_code.strip().lower())
            )
        )
    if where.tags:
        stmt = stmt.where(col(Game.tags).contains([t.strip().lower() for t in where.tags]))
    if where.category:
        in_category = (
            select(col(LobbyCategoryGame.game_id))
            .join(LobbyCategory, col(LobbyCategory.id) == col(LobbyCategoryGame.category_id))
            .where(col(LobbyCategory.code) == where.category.strip().lower(), _categories_for(audience))
        )
        stmt = stmt.where(col(Game.id).in_(in_category))
    return stmt


async def get_listed(db: AsyncSession, audience: Audience, game_id: uuid.UUID) -> Game | None:
    game: Game | None = await db.scalar(select(Game).where(col(Game.id) == game_id, listed_for(audience)))
    return game


async def availability_of(db: AsyncSession, audience: Audience, game_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Which of these games the audience may play (one statement)."""
    if not game_ids:
        return set()
    rows = await db.scalars(select(col(Game.id)).where(col(Game.id).in_(game_ids), available_to(audience)))
    return set(rows.all())


async def brand_switches(
    db: AsyncSession, brand_id: uuid.UUID, game_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, BrandGame]:
    """A brand's switches for these games (a game without one is on)."""
    rows = (
        await db.scalars(
            select(BrandGame).where(col(BrandGame.brand_id) == brand_id, col(BrandGame.game_id).in_(game_ids))
        )
    ).all()
    return {row.game_id: row for row in rows}


async def games_by_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Game]:
    rows = (await db.scalars(select(Game).where(col(Game.id).in_(ids)))).all()
    return {g.id: g for g in rows}


async def providers_by_id(db: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Provider]:
    rows = (await db.scalars(select(Provider).where(col(Provider.id).in_(ids)))).all()
    return {p.id: p for p in rows}


def bet_limit(limits: dict[str, str], currency: str | None) -> int | None:
    """A game's bet limit in the currency, as minor units (None when the game sets none for it)."""
    if not currency or currency not in CURRENCIES or currency not in limits:
        return None
    try:
        return parse_amount(str(limits[currency]), currency, allow_zero=True)
    except DomainError:
        return None


# ---- the lobby -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LobbySection:
    category: LobbyCategory
    games: list[Game]


async def lobby(db: AsyncSession, audience: Audience, *, per_category: int) -> list[LobbySection]:
    """The audience's lobby: its categories in order, each with its first playable games.

    Two statements whatever the sizes: the categories, then every category's games at once (a
    window function numbers each category's games; the availability rule filters them in SQL).
    """
    if not 0 <= per_category <= MAX_LOBBY_PAGE:
        raise DomainError(f"`first` must be between 0 and {MAX_LOBBY_PAGE}.", field="first")
    rows = (
        await db.scalars(
            select(LobbyCategory)
            .where(_categories_for(audience))
            .order_by(col(LobbyCategory.position), col(LobbyCategory.code))
        )
    ).all()
    chosen: dict[str, LobbyCategory] = {}
    for category in rows:  # a brand's own category replaces the shared one with its code
        if category.code not in chosen or category.brand_id is not None:
            chosen[category.code] = category
    categories = sorted(chosen.values(), key=lambda c: (c.position, c.code))
    if not categories or per_category == 0:
        return [LobbySection(c, []) for c in categories]
    rank = func.row_number().over(
        partition_by=col(LobbyCategoryGame.category_id),
        order_by=(col(LobbyCategoryGame.position), col(Game.title), col(Game.id)),
    )
    ranked = (
        select(
            col(LobbyCategoryGame.category_id).label("category_id"), col(Game.id).label("game_id"), rank.label("rank")
        )
        .join(Game, col(Game.id) == col(LobbyCategoryGame.game_id))
        .where(col(LobbyCategoryGame.category_id).in_([c.id for c in categories]), available_to(audience))
        .subquery()
    )
    stmt = (
        select(Game, ranked.c.category_id)
        .join(ranked, ranked.c.game_id == col(Game.id))
        .where(ranked.c.rank <= per_category)
        .order_by(ranked.c.category_id, ranked.c.rank)
    )
    found: dict[uuid.UUID, list[Game]] = defaultdict(list)
    for game, category_id in (await db.execute(stmt)).all():
        found[category_id].append(game)
    return [LobbySection(c, found.get(c.id, [])) for c in categories]


# ---- brand switches (staff) ------------------------------------------------------------------------


def _countries(codes: Sequence[str]) -> list[str]:
    cleaned: list[str] = []
    for code in codes:
        country = code.strip().upper()
        if len(country) != ISO_COUNTRY_LENGTH or not country.isalpha():
            raise DomainError(f"{code!r} is not a two-letter ISO country code.", field="disabledCountries")
        if country not in cleaned:
            cleaned.append(country)
    return sorted(cleaned)


async def set_availability(
    rt: Runtime,
    viewer: Viewer,
    game_id: uuid.UUID,
    *,
    brand_code: str | None,
    enabled: bool,
    disabled_countries: Sequence[str],
    reason: str,
) -> BrandGame:
    """Switch a game on or off for a brand, or off in some of its countries (audited, before/after)."""
    if not reason.strip():
        raise DomainError("Give a reason.", field="reason")
    countries = _countries(disabled_countries)
    async with rt.database.transaction() as db:
        changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
        if brand_code:
            brand = await brands.get_by_code(db, brand_code)
            if viewer.brand_id is not None and brand.id != viewer.brand_id:
                raise DomainError("That brand is outside your scope.", field="brand", code=ErrorCode.NOT_ALLOWED)
            brand_id = brand.id
        elif viewer.brand_id is not None:
            brand_id = viewer.brand_id
        else:
            raise DomainError("Name the brand (or scope the request with X-Croupier-Brand).", field="brand")
        if await db.get(Game, game_id) is None:
            raise NotFound("No such game.", field="gameId")
        current: BrandGame | None = await db.scalar(
            select(BrandGame)
            .where(col(BrandGame.brand_id) == brand_id, col(BrandGame.game_id) == game_id)
            .with_for_update()
        )
        before = (
            {"enabled": current.enabled, "disabled_countries": list(current.disabled_countries)}
            if current
            else {"enabled": True, "disabled_countries": []}
        )
        now = clock.now()
        await db.execute(
            insert(BrandGame)
            .values(brand_id=brand_id, game_id=game_id, enabled=enabled, disabled_countries=countries, updated_at=now)
            .on_conflict_do_update(
                index_elements=["brand_id", "game_id"],
                set_={"enabled": enabled, "disabled_countries": countries, "updated_at": now},
            )
        )
        switch = BrandGame(
            brand_id=brand_id, game_id=game_id, enabled=enabled, disabled_countries=countries, updated_at=now
        )
        await audit.append(
            db,
            actor=viewer,
            action="game.availability_changed",
            target_type="game",
            target_id=game_id,
            brand_id=brand_id,
            before=before,
            after={"enabled": enabled, "disabled_countries": countries},
            reason=reason.strip(),
        )
    return switch


# ---- launching a game ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Launch:
    url: str
    session: GameSession


def _refuse_for(
    game: Game, provider: Provider | None, switch: BrandGame | None, *, country: str | None, currency: str | None
) -> DomainError | None:
    """Why this audience may not play the game (the same rule as `available_to`, with its reason)."""
    if not game.enabled or provider is None or not provider.enabled or not provider.launch_url:
        return DomainError("This game is not available.", field="gameId", code=ErrorCode.GAME_NOT_AVAILABLE)
    if switch is not None and not switch.enabled:
        return DomainError("This game is not available.", field="gameId", code=ErrorCode.GAME_NOT_AVAILABLE)
    if country and switch is not None and country in switch.disabled_countries:
        return DomainError(
            f"This game is not available in {country}.", field="gameId", code=ErrorCode.COUNTRY_NOT_ALLOWED
        )
    if game.countries and (country is None or country not in game.countries):
        return DomainError(
            f"This game is not available in {country or 'your country'}.",
            field="gameId",
            code=ErrorCode.COUNTRY_NOT_ALLOWED,
        )
    if currency is not None and currency not in game.currencies:
        return DomainError(
            f"This game does not accept {currency}.", field="gameId", code=ErrorCode.CURRENCY_NOT_ALLOWED
        )
    if game.jurisdictions and (country is None or country not in game.jurisdictions):
        return DomainError(
            f"This game is not certified in {country or 'your country'}.",
            field="gameId",
            code=ErrorCode.GAME_NOT_CERTIFIED,
        )
    if (
        currency is not None
        and (game.min_bet or game.max_bet)
        and not (currency in game.min_bet or currency in game.max_bet)
    ):
        return DomainError(
            f"This game has no bet limits in {currency}.", field="gameId", code=ErrorCode.GAME_LIMITS_MISSING
        )
    return None


def launch_url(
    base: str,
    *,
    token: str,
    game_code: str,
    mode: str,
    currency: str,
    lang: str,
    user: str | None = None,
    free_rounds: FreeRounds | None = None,
) -> str:
    """The provider's game client URL. Real money carries `user` (our player id): the provider sends
    it back as the wallet calls' `user`, which the wallet checks against the session's player. A free-
    spins grant for this game rides along (`reward_uuid`, `free_rounds`, `free_round_bet` in minor
    units): the provider plays those rounds as `is_free` bets naming the grant."""
    params = {"token": token, "game": game_code, "mode": mode, "currency": currency, "lang": lang}
    if user is not None:
        params["user"] = user
    if free_rounds is not None:
        params.update(
            {
                "reward_uuid": free_rounds.reward_uuid,
                "free_rounds": str(free_rounds.rounds),
                "free_round_bet": str(free_rounds.bet),
            }
        )
    return f"{base}{'&' if '?' in base else '?'}{urlencode(params)}"


async def launch(
    rt: Runtime, viewer: Viewer, game_id: uuid.UUID, mode: GameMode, *, brand_code: str | None = None, lang: str = "en"
) -> Launch:
    """Start a game session: real money for an active player in a currency the game takes, demo for
    anyone (anonymous visitors name the brand) when the game has a demo. The provider's client gets
    a random token; its wallet calls carry it back and are checked against this session."""
    lang = (lang or "en").strip().lower()[:8] or "en"
    free_rounds: FreeRounds | None = None
    async with rt.database.transaction() as db:
        player: Player | None = None
        country: str | None
        if viewer.is_player:
            player = await players.get_readable(db, viewer, viewer.id) if viewer.id else None
        if mode == GameMode.REAL and player is None:
            raise DomainError("Log in as a player to play for real money.", code=ErrorCode.NOT_ALLOWED)
        if player is not None:
            if player.status != PlayerStatus.ACTIVE:
                code = ErrorCode.ACCOUNT_CLOSED if player.status == PlayerStatus.CLOSED else ErrorCode.ACCOUNT_BLOCKED
                raise DomainError(f"This account is {player.status}.", code=code)
            brand_id, country = player.brand_id, player.country
            if mode == GameMode.REAL:
                await rg_gates.check_launch(db, rt, player, viewer.session_id)
                await aml.check(db, player.id, "real-money play")
                await risk_inline.check_launch(db, player.id)
                await kyc_gates.check_launch(db, player)
                free_rounds = await bonus_free_rounds(db, player.id, game_id)
        else:
            audience = await audience_for(db, viewer, brand_code)
            if audience.brand_id is None:
                raise DomainError("Name the brand.", field="brand")
            brand_id, country = audience.brand_id, audience.country
        game = await db.get(Game, game_id)
        if game is None:
            raise DomainError("No such game.", field="gameId", code=ErrorCode.GAME_NOT_AVAILABLE)
        provider = await db.get(Provider, game.provider_id)
        switch = await db.get(BrandGame, (brand_id, game.id))
        currency = player.currency if mode == GameMode.REAL and player is not None else None
        refusal = _refuse_for(game, provider, switch, country=country, currency=currency)
        if refusal is not None:
            raise refusal
        if mode == GameMode.DEMO and not game.demo_available:
            raise DomainError("This game has no demo.", field="mode", code=ErrorCode.GAME_NOT_AVAILABLE)
        assert provider is not None
        assert provider.launch_url
        session = GameSession(
            token=secrets.token_urlsafe(32),
            mode=mode.value,
            player_id=player.id if mode == GameMode.REAL and player is not None else None,
            brand_id=brand_id,
            game_id=game.id,
            currency=currency or DEMO_CURRENCY,
            country=country,
            ip=viewer.meta.ip,
            auth_session_id=viewer.session_id if player is not None else None,
            expires_at=clock.now() + timedelta(seconds=rt.settings.game_session_ttl_seconds),
        )
        db.add(session)
        await db.flush()
        if session.auth_session_id is not None and mode == GameMode.REAL:
            # After the insert (its key-share lock on the player comes first, as a staff block's does):
            # a logout racing this launch either ended the login already or waits and ends this game too.
            await game_sessions.hold_login(db, session.auth_session_id)
        if session.player_id is not None:
            await outbox.emit(
                db,
                "game.launched",
                f"player:{session.player_id}",
                {
                    "player_id": str(session.player_id),
                    "game_session_id": str(session.id),
                    "game": game.code,
                    "provider": provider.code,
                    "currency": session.currency,
                    "session_id": str(session.auth_session_id) if session.auth_session_id else None,
                },
                brand_id=brand_id,
            )
    url = launch_url(
        provider.launch_url,
        token=session.token,
        game_code=game.code,
        mode=mode.value,
        currency=session.currency,
        lang=lang,
        user=str(session.player_id) if session.player_id is not None else None,
        free_rounds=free_rounds,
    )
    return Launch(url=url, session=session)


# ---- rounds (read only: the provider wallet writes them) ---------------------------------------------


@dataclass(frozen=True)
class RoundFilter:
    status: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def readable_rounds(viewer: Viewer, player_id: uuid.UUID, where: RoundFilter) -> SelectOfScalar[GameRound]:
    """A player's rounds, if the viewer may read the player (SQL ownership filter)."""
    readable = players.readable_players(viewer).where(col(Player.id) == player_id).with_only_columns(col(Player.id))
    stmt = select(GameRound).where(
        col(GameRound.player_id) == player_id, col(GameRound.player_id).in_(readable.scalar_subquery())
    )
    if where.status:
        stmt = stmt.where(col(GameRound.status) == where.status)
    if where.since:
        stmt = stmt.where(col(GameRound.opened_at) >= where.since)
    if where.until:
        stmt = stmt.where(col(GameRound.opened_at) < where.until)
    return stmt


async def transactions_of_rounds(
    db: AsyncSession, round_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[ProviderTransaction]]:
    """The provider transactions of these rounds, oldest first (one statement)."""
    rows = (
        await db.scalars(
            select(ProviderTransaction)
            .where(col(ProviderTransaction.round_id).in_(round_ids))
            .order_by(col(ProviderTransaction.created_at), col(ProviderTransaction.id))
        )
    ).all()
    found: dict[uuid.UUID, list[ProviderTransaction]] = defaultdict(list)
    for row in rows:
        if row.round_id is not None:
            found[row.round_id].append(row)
    return found


async def calls_of_transactions(
    db: AsyncSession, keys: Sequence[tuple[uuid.UUID, str]]
) -> dict[tuple[uuid.UUID, str], list[ProviderCall]]:
    """The provider calls behind these (provider, transaction uuid) pairs, oldest first (one statement)."""
    if not keys:
        return {}
    rows = (
        await db.scalars(
            select(ProviderCall)
            .where(tuple_(col(ProviderCall.provider_id), col(ProviderCall.transaction_uuid)).in_(list(keys)))
            .order_by(col(ProviderCall.created_at), col(ProviderCall.id))
        )
    ).all()
    found: dict[tuple[uuid.UUID, str], list[ProviderCall]] = defaultdict(list)
    for row in rows:
        if row.transaction_uuid is not None:
            found[(row.provider_id, row.transaction_uuid)].append(row)
    return found


async def readable_round(db: AsyncSession, viewer: Viewer, round_id: uuid.UUID) -> GameRound | None:
    owner = await db.scalar(select(col(GameRound.player_id)).where(col(GameRound.id) == round_id))
    if owner is None:
        return None
    found: GameRound | None = await db.scalar(
        readable_rounds(viewer, owner, RoundFilter()).where(col(GameRound.id) == round_id)
    )
    return found
