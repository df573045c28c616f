"""A provider's games: create, change, switch on or off (audited, before → after), and the staff list.

Every field is checked here, before the database, with the name the API gives it: a title of 1 to 200
characters, a game code of 1 to 64 (unique per provider), an RTP in percent with at most two decimals
("96.12"), bet limits per known currency as exact amounts with each minimum at most its maximum,
ISO country codes, known currencies, tags of at most 32 characters. A game's own switch (`enabled`)
is platform-wide; brands switch games for themselves with `setGameAvailability` (services/games.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.db import changed
from core.errors import DomainError, ErrorCode, NotFound
from core.money import CURRENCIES, format_amount, parse_amount
from core.runtime import CATALOGUE, Runtime
from models.games import Game, GameType, Provider, Volatility
from services import audit
from services.providers import registry
from services.providers.registry import check_url

MAX_TITLE = 200
MAX_CODE = 64
MAX_TAG = 32
MAX_TAGS = 32
MAX_CATEGORY = 32
GAME_CODE_PATTERN = re.compile(r"[^\s\x00-\x1f]{1,64}")
CATEGORY_PATTERN = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")


Limits = Mapping[str, str] | Sequence[tuple[str, str]]  # per currency: {"EUR": "0.10"} or [("EUR", "0.10")]


@dataclass(frozen=True)
class GameChanges:
    """Fields to set on a game; None leaves one as it is (on creation: its default)."""

    title: str | None = None
    type: str | None = None
    rtp: str | None = None  # percent, a decimal string: "96.12"
    volatility: str | None = None
    min_bet: Limits | None = None
    max_bet: Limits | None = None
    contribution_category: str | None = None
    countries: Sequence[str] | None = None  # empty: every country
    currencies: Sequence[str] | None = None
    demo_available: bool | None = None
    image_url: str | None = None  # "" removes it
    tags: Sequence[str] | None = None
    enabled: bool | None = None
    features: Sequence[str] | None = None  # from the provider's list: "free-spins", "buy-feature", …
    jurisdictions: Sequence[str] | None = None  # where it is certified (country codes); empty: not declared


# The API's names for the columns (errors name the field the client sent).
API_NAMES = {
    "title": "title",
    "type": "type",
    "rtp_basis_points": "rtp",
    "volatility": "volatility",
    "min_bet": "minBets",
    "max_bet": "maxBets",
    "contribution_category": "contributionCategory",
    "countries": "countries",
    "currencies": "currencies",
    "demo_available": "demoAvailable",
    "image_url": "imageUrl",
    "tags": "tags",
    "enabled": "enabled",
    "features": "features",
    "jurisdictions": "jurisdictions",
}


def rtp_basis_points(text: str, *, field: str = "rtp") -> int:
    try:
        value = Decimal(str(text).strip().removesuffix("%"))
    except InvalidOperation as exc:
        raise DomainError(f"{text!r} is not a percentage: use a decimal like 96.12.", field=field) from exc
    if not value.is_finite() or not 0 <= value <= 100 or value != value.quantize(Decimal("0.01")):
        raise DomainError("The RTP is a percentage from 0 to 100 with at most two decimals.", field=field)
    return int(value * 100)


def rtp_text(basis_points: int) -> str:
    return f"{basis_points // 100}.{basis_points % 100:02d}"


def _text(value: str, *, field: str, maximum: int) -> str:
    value = value.strip()
    if not value or len(value) > maximum or "\x00" in value:
        raise DomainError(f"Give 1 to {maximum} characters.", field=field)
    return value


def _enum(value: str, allowed: type[GameType] | type[Volatility], *, field: str) -> str:
    value = value.strip().lower()
    if value not in {m.value for m in allowed}:
        raise DomainError(f"One of: {', '.join(m.value for m in allowed)}.", field=field)
    return value


def _currencies(values: Sequence[str], *, field: str) -> list[str]:
    found: list[str] = []
    for raw in values:
        code = raw.strip().upper()
        if code not in CURRENCIES:
            raise DomainError(f"Unknown currency {raw!r}.", field=field, code=ErrorCode.UNKNOWN_CURRENCY)
        if code not in found:
            found.append(code)
    return sorted(found)


def _countries(values: Sequence[str], *, field: str) -> list[str]:
    found: list[str] = []
    for raw in values:
        code = raw.strip().upper()
        if len(code) != 2 or not code.isascii() or not code.isalpha():
            raise DomainError(f"{raw!r} is not a two-letter ISO country code.", field=field)
        if code not in found:
            found.append(code)
    return sorted(found)


def _tags(values: Sequence[str], *, field: str) -> list[str]:
    found: list[str] = []
    for raw in values:
        tag = raw.strip().lower()
        if not tag or len(tag) > MAX_TAG or "\x00" in tag:
            raise DomainError(f"A tag has 1 to {MAX_TAG} characters.", field=field)
        if tag not in found:
            found.append(tag)
    if len(found) > MAX_TAGS:
        raise DomainError(f"At most {MAX_TAGS} tags.", field=field)
    return found


def _limits(values: Limits, *, field: str) -> dict[str, str]:
    """Bet limits per currency, each amount exact in its currency (stored as its canonical string)."""
    found: dict[str, str] = {}
    for raw_code, amount in values.items() if isinstance(values, Mapping) else values:
        code = raw_code.strip().upper()
        if code not in CURRENCIES:
            raise DomainError(f"Unknown currency {raw_code!r}.", field=field, code=ErrorCode.UNKNOWN_CURRENCY)
        if code in found:
            raise DomainError(f"{code} is given twice.", field=field)
        found[code] = format_amount(parse_amount(str(amount), code, field=field), code)
    return dict(sorted(found.items()))


def game_code(value: str, *, field: str = "code") -> str:
    value = value.strip()
    if not GAME_CODE_PATTERN.fullmatch(value):
        raise DomainError(f"A game code has 1 to {MAX_CODE} characters and no spaces.", field=field)
    return value


def default_contribution(game_type: str) -> str:
    """How a game's bets count towards bonus wagering unless staff say otherwise (as the demo seeds)."""
    return {"slot": "slots", "crash": "other"}.get(game_type, game_type)


def columns(changes: GameChanges, *, prefix: str = "") -> dict[str, Any]:
    """The given fields as checked column values (errors name `prefix` + the API field)."""

    def name(column: str) -> str:
        return prefix + API_NAMES[column]

    out: dict[str, Any] = {}
    if changes.title is not None:
        out["title"] = _text(changes.title, field=name("title"), maximum=MAX_TITLE)
    if changes.type is not None:
        out["type"] = _enum(changes.type, GameType, field=name("type"))
    if changes.rtp is not None:
        out["rtp_basis_points"] = rtp_basis_points(changes.rtp, field=name("rtp_basis_points"))
    if changes.volatility is not None:
        out["volatility"] = _enum(changes.volatility, Volatility, field=name("volatility"))
    if changes.min_bet is not None:
        out["min_bet"] = _limits(changes.min_bet, field=name("min_bet"))
    if changes.max_bet is not None:
        out["max_bet"] = _limits(changes.max_bet, field=name("max_bet"))
    if changes.contribution_category is not None:
        category = changes.contribution_category.strip().lower()
        if not CATEGORY_PATTERN.fullmatch(category):
            raise DomainError(
                f"A contribution category is 1 to {MAX_CATEGORY} lowercase letters, digits, '_' or '-'.",
                field=name("contribution_category"),
            )
        out["contribution_category"] = category
    if changes.countries is not None:
        out["countries"] = _countries(changes.countries, field=name("countries"))
    if changes.currencies is not None:
        out["currencies"] = _currencies(changes.currencies, field=name("currencies"))
    if changes.demo_available is not None:
        out["demo_available"] = changes.demo_available
    if changes.image_url is not None:
        out["image_url"] = check_url(changes.image_url, field=name("image_url"))
    if changes.tags is not None:
        out["tags"] = _tags(changes.tags, field=name("tags"))
    if changes.enabled is not None:
        out["enabled"] = changes.enabled
    if changes.features is not None:
        out["features"] = sorted(_tags(changes.features, field=name("features")))
    if changes.jurisdictions is not None:
        out["jurisdictions"] = _countries(changes.jurisdictions, field=name("jurisdictions"))
    return out


def check_limits_order(values: Mapping[str, Any], *, prefix: str = "") -> None:
    """Each currency's minimum bet is at most its maximum (over the game as it will be)."""
    low, high = values.get("min_bet") or {}, values.get("max_bet") or {}
    for code in sorted(set(low) & set(high)):
        if parse_amount(low[code], code, allow_zero=True) > parse_amount(high[code], code, allow_zero=True):
            raise DomainError(f"The {code} minimum bet is above its maximum.", field=prefix + "minBets")


SNAPSHOT_COLUMNS = tuple(API_NAMES)


def snapshot(game: Game | Mapping[str, Any]) -> dict[str, Any]:
    """A game's managed fields as JSON values (the audit's before/after, the import's comparison)."""
    get = game.get if isinstance(game, Mapping) else lambda key: getattr(game, key)
    out: dict[str, Any] = {}
    for column in SNAPSHOT_COLUMNS:
        value = get(column)
        if column == "rtp_basis_points":
            out["rtp"] = rtp_text(int(value or 0))
        elif isinstance(value, Mapping):
            out[API_NAMES[column]] = dict(sorted(value.items()))
        elif isinstance(value, list | tuple):
            out[API_NAMES[column]] = list(value)
        else:
            out[API_NAMES[column]] = value
    return out


# ---- commands -----------------------------------------------------------------------------------


async def create_game(
    rt: Runtime, actor: Viewer, provider_code: str, code: str, changes: GameChanges, *, reason: str | None = None
) -> Game:
    """A new game of the provider. Title, type and RTP are required; the rest have defaults (medium
    volatility, the type's contribution category, no bet limits, every country, no currency yet)."""
    code = game_code(code)
    values = columns(changes)
    for column in ("title", "type", "rtp_basis_points"):
        if column not in values:
            raise DomainError("Required for a new game.", field=API_NAMES[column])
    values.setdefault("volatility", Volatility.MEDIUM.value)
    values.setdefault("contribution_category", default_contribution(values["type"]))
    check_limits_order(values)
    try:
        async with rt.database.transaction() as db:
            changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
            provider = await registry.get_by_code(db, provider_code, lock=True)
            exists = await db.scalar(
                select(col(Game.id)).where(col(Game.provider_id) == provider.id, col(Game.code) == code)
            )
            if exists is not None:
                raise DomainError(
                    f"{provider.code} already has a game {code!r}.", field="code", code=ErrorCode.ALREADY_EXISTS
                )
            game = Game(provider_id=provider.id, code=code, **values)
            db.add(game)
            await db.flush()
            await audit.append(
                db,
                actor=actor,
                action="game.created",
                target_type="game",
                target_id=game.id,
                after={"provider": provider.code, "code": code, **snapshot(game)},
                reason=registry.check_reason(reason),
            )
    except IntegrityError as exc:  # a concurrent create of the same code
        raise DomainError("That game code is taken.", field="code", code=ErrorCode.ALREADY_EXISTS) from exc
    return game


async def update_game(
    rt: Runtime, actor: Viewer, game_id: uuid.UUID, changes: GameChanges, *, reason: str | None = None
) -> Game:
    """Change some fields of a game (None: unchanged); audited with the fields that changed."""
    values = columns(changes)
    async with rt.database.transaction() as db:
        changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
        game = await _locked_game(db, game_id)
        before = snapshot(game)
        check_limits_order({**{c: getattr(game, c) for c in ("min_bet", "max_bet")}, **values})
        for column, value in values.items():
            setattr(game, column, value)
        await audit.append_changes(
            db,
            actor=actor,
            action="game.updated",
            target_type="game",
            target_id=game.id,
            before=before,
            after=snapshot(game),
            reason=registry.check_reason(reason),
        )
    return game


async def set_game_enabled(
    rt: Runtime, actor: Viewer, game_id: uuid.UUID, enabled: bool, *, reason: str | None = None
) -> Game:
    """Switch a game on or off for every brand (a launched session's bets are refused once it is off)."""
    async with rt.database.transaction() as db:
        changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
        game = await _locked_game(db, game_id)
        if game.enabled != enabled:
            game.enabled = enabled
            await db.flush()
            await audit.append(
                db,
                actor=actor,
                action="game.status_changed",
                target_type="game",
                target_id=game.id,
                before={"enabled": not enabled},
                after={"enabled": enabled},
                reason=registry.check_reason(reason),
            )
    return game


async def _locked_game(db: AsyncSession, game_id: uuid.UUID) -> Game:
    game: Game | None = await db.scalar(select(Game).where(col(Game.id) == game_id).with_for_update())
    if game is None:
        raise NotFound("No such game.", field="gameId")
    return game


# ---- queries ------------------------------------------------------------------------------------


def provider_games(provider_id: uuid.UUID, *, search: str | None = None) -> SelectOfScalar[Game]:
    """A provider's games, disabled ones included (paginate on `created_at, id`)."""
    stmt = select(Game).where(col(Game.provider_id) == provider_id)
    if search and search.strip():
        needle = search.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        stmt = stmt.where(
            func.lower(col(Game.title)).like(f"%{needle}%") | func.lower(col(Game.code)).like(f"%{needle}%")
        )
    return stmt


async def game_counts(db: AsyncSession, provider_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
    """How many games each provider has (one statement)."""
    rows = await db.execute(
        select(col(Game.provider_id), func.count())
        .where(col(Game.provider_id).in_(provider_ids))
        .group_by(col(Game.provider_id))
    )
    return {provider_id: int(count) for provider_id, count in rows.all()}


async def provider_of(db: AsyncSession, game_id: uuid.UUID) -> Provider | None:
    provider: Provider | None = await db.scalar(
        select(Provider).join(Game, col(Game.provider_id) == col(Provider.id)).where(col(Game.id) == game_id)
    )
    return provider
