"""A provider's game list, imported into the catalog: an idempotent upsert by (provider, game code).

The list has the shape of Hub88's operator API `POST /operator/generic/v2/game/list` answer: a JSON
array of games, each an object with (among others) `game_code`, `name`, `category`, `product`,
`rtp`, `volatility`, `enabled`, `url_thumb`. What is taken from each entry:

- `game_code` (required) → `code`, the key: a game is (provider, game code);
- `name` (required) → `title`;
- `category` (required) → `type`: a category naming "slot" is a slot, "live" live, "crash" crash;
  table, card, poker, roulette, blackjack or baccarat a table game; lottery, lotto, keno, bingo or
  scratch a lottery; any other category is refused;
- `rtp` → `rtp`: percent, a number or a string, rounded to 0.01; required for a new game;
- `volatility` → `volatility`: 1 or 2 low, 3 medium, 4 or 5 high, or the words; absent: medium for a
  new game;
- `url_thumb` → `imageUrl`;
- `enabled` → `enabled`: `false` switches a game off; `true` never switches on a game staff switched off;
- `product` (the studio) → a new game's `tags`;
- `features` → `features`: a list of words ("free-spins", "buy-feature"), lowercased;
- `jurisdictions` → `jurisdictions`: where the game is certified, ISO country codes (launch refuses a
  player elsewhere: services/games.py);
- `bet_limits` → `minBets` and `maxBets`: `{"EUR": {"min": "0.10", "max": "100.00"}, …}`, exact amounts
  per known currency, each minimum at most its maximum (launch refuses a currency the limits do not name).

Everything else (`url_background`, `platforms`, `blocked_countries`, `freebet_support`, `release_date`,
`supplier_identifier`, …) is ignored. Fields the list does not carry are staff's and left alone:
countries, contribution category, tags of existing games, and currencies (a new game takes the
import's `currencies`, or without them the currencies its bet limits name, so it is playable at once);
bet limits, features and jurisdictions too when an entry does not carry them. Games of the provider
missing from the list are reported and kept as they are, unless the caller withdraws them
(`withdraw_missing`, the scheduled sync: services/providers/catalogue_sync.py): switched off and stamped
`withdrawn_at`, never deleted. A withdrawn game the list names again is restored (its `enabled` as listed).

The whole list is checked before anything is written: one bad entry refuses the import with every
problem found (`games[3].category`), so an import is applied entirely or not at all. A dry run answers
the same report and writes nothing; a run that changes nothing writes nothing either (not even an audit
record), so importing the same list twice changes nothing the second time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.db import changed
from core.errors import DomainError
from core.ids import new_id
from core.runtime import CATALOGUE, Runtime
from models.games import Game, Provider
from services import audit
from services.providers import catalog, registry
from services.providers.catalog import GameChanges

MAX_GAMES = 5000
MAX_PROBLEMS = 20  # reported per refused import: enough to fix a file, not a wall of text
CATEGORY_TYPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("live",), "live"),
    (("crash",), "crash"),
    (("slot",), "slot"),
    (("table", "card", "poker", "roulette", "blackjack", "baccarat"), "table"),
    (("lottery", "lotto", "keno", "bingo", "scratch"), "lottery"),
)
VOLATILITY_LEVELS = {1: "low", 2: "low", 3: "medium", 4: "high", 5: "high"}
# catalog field → list field
LIST_FIELDS = {
    "title": "name",
    "type": "category",
    "imageUrl": "url_thumb",
    "minBets": "bet_limits",
    "maxBets": "bet_limits",
}


class InvalidGameList(DomainError):
    """The list cannot be imported; `problems` holds each one (its field names the entry)."""

    def __init__(self, problems: Sequence[DomainError]) -> None:
        first = problems[0]
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(first.message + more, field=first.field, code=first.code)
        self.problems = list(problems)


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: Any
    new: Any


@dataclass(frozen=True)
class GameDiff:
    code: str
    title: str
    changes: list[FieldChange]


@dataclass(frozen=True)
class ImportReport:
    provider: str
    dry_run: bool
    added: list[GameDiff] = field(default_factory=list)  # changes: every field the new game gets
    changed: list[GameDiff] = field(default_factory=list)  # changes: old → new
    unchanged: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # the provider's games the list does not name
    withdrawn: list[GameDiff] = field(default_factory=list)  # missing games switched off by this run
    restored: list[GameDiff] = field(default_factory=list)  # withdrawn games the list names again


@dataclass(frozen=True)
class _Entry:
    code: str
    values: dict[str, Any]  # what the list sets, checked
    enabled: bool
    product: str | None


def _game_type(category: Any, *, field: str) -> str:
    text = str(category).strip().lower() if isinstance(category, str) else ""
    for needles, game_type in CATEGORY_TYPES:
        if any(needle in text for needle in needles):
            return game_type
    raise DomainError(f"Category {category!r} maps to no game type (slot, live, crash, table, lottery).", field=field)


def _rtp(value: Any, *, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise DomainError("The RTP is a percentage (a number or a decimal string).", field=field)
    try:
        percent = Decimal(str(value).strip().removesuffix("%")).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:
        raise DomainError(f"{value!r} is not a percentage.", field=field) from exc
    return str(percent)


def _volatility(value: Any, *, field: str) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value in VOLATILITY_LEVELS:
        return VOLATILITY_LEVELS[value]
    if isinstance(value, str) and value.strip().isdigit() and int(value) in VOLATILITY_LEVELS:
        return VOLATILITY_LEVELS[int(value)]
    if isinstance(value, str) and value.strip().lower() in ("low", "medium", "high"):
        return value.strip().lower()
    raise DomainError("Volatility is 1–5 or low, medium, high.", field=field)


def _tag(product: Any) -> str | None:
    if not isinstance(product, str):
        return None
    tag = re.sub(r"[^a-z0-9]+", "-", product.strip().lower()).strip("-")[: catalog.MAX_TAG]
    return tag or None


def _words(value: Any, *, field: str) -> list[str] | None:
    """A list of strings as the list gives it (None: the entry does not carry the field)."""
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DomainError("A list of strings.", field=field)
    return value


def _bet_limits(value: Any, *, field: str) -> tuple[list[tuple[str, str]] | None, list[tuple[str, str]] | None]:
    """`{"EUR": {"min": "0.10", "max": "100"}}` as the catalog's min and max bets (absent: none given)."""
    if value is None:
        return None, None
    if not isinstance(value, Mapping):
        raise DomainError('Bet limits are {"EUR": {"min": "0.10", "max": "100.00"}, …}.', field=field)
    low: list[tuple[str, str]] = []
    high: list[tuple[str, str]] = []
    for currency, limits in value.items():
        if not isinstance(limits, Mapping):
            raise DomainError(f"The {currency} limits are an object with `min` and `max`.", field=field)
        for key, into in (("min", low), ("max", high)):
            amount = limits.get(key)
            if isinstance(amount, bool) or not isinstance(amount, int | float | str):
                raise DomainError(f"The {currency} `{key}` is an amount (a decimal string).", field=field)
            into.append((str(currency), str(amount)))
    return low, high


def _entry(raw: Any, index: int) -> _Entry:
    at = f"games[{index}]."
    if not isinstance(raw, Mapping):
        raise DomainError("Each game is a JSON object.", field=f"games[{index}]")
    for required in ("game_code", "name", "category"):
        if not isinstance(raw.get(required), str) or not raw[required].strip():
            raise DomainError(f"`{required}` is required (a string).", field=at + required)
    code = catalog.game_code(raw["game_code"], field=at + "game_code")
    changes = GameChanges(
        title=raw["name"],
        type=_game_type(raw["category"], field=at + "category"),
        rtp=_rtp(raw["rtp"], field=at + "rtp") if raw.get("rtp") is not None else None,
        volatility=_volatility(raw["volatility"], field=at + "volatility")
        if raw.get("volatility") is not None
        else None,
        image_url=raw["url_thumb"] if isinstance(raw.get("url_thumb"), str) and raw["url_thumb"].strip() else None,
    )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise DomainError("`enabled` is true or false.", field=at + "enabled")
    min_bet, max_bet = _bet_limits(raw.get("bet_limits"), field=at + "bet_limits")
    changes = replace(
        changes,
        features=_words(raw.get("features"), field=at + "features"),
        jurisdictions=_words(raw.get("jurisdictions"), field=at + "jurisdictions"),
        min_bet=min_bet,
        max_bet=max_bet,
    )
    try:
        values = catalog.columns(changes)
        catalog.check_limits_order(values)
    except DomainError as problem:  # name the list's own field (`name`, not `title`)
        problem.field = at + LIST_FIELDS.get(problem.field or "", problem.field or "")
        raise
    return _Entry(code=code, values=values, enabled=enabled, product=_tag(raw.get("product")))


def parse_game_list(data: Any) -> list[_Entry]:
    """Every entry of the list, checked; InvalidGameList with every problem found (up to MAX_PROBLEMS)."""
    if not isinstance(data, list):
        raise InvalidGameList([DomainError("A game list is a JSON array of games (Hub88 /game/list).", field="games")])
    if len(data) > MAX_GAMES:
        raise InvalidGameList([DomainError(f"At most {MAX_GAMES} games per import.", field="games")])
    entries: list[_Entry] = []
    problems: list[DomainError] = []
    seen: dict[str, int] = {}
    for index, raw in enumerate(data):
        try:
            entry = _entry(raw, index)
        except DomainError as problem:
            problems.append(problem)
        else:
            if entry.code in seen:
                problems.append(
                    DomainError(
                        f"Game code {entry.code!r} is listed twice (also at games[{seen[entry.code]}]).",
                        field=f"games[{index}].game_code",
                    )
                )
            seen[entry.code] = index
            entries.append(entry)
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidGameList(problems)
    return entries


def _new_game(entry: _Entry, currencies: list[str], index: int) -> dict[str, Any]:
    values = dict(entry.values)
    if "rtp_basis_points" not in values:
        raise DomainError("`rtp` is required for a game not yet in the catalog.", field=f"games[{index}].rtp")
    values.setdefault("volatility", "medium")
    for column in ("min_bet", "max_bet"):
        values.setdefault(column, {})
    for column in ("features", "jurisdictions"):
        values.setdefault(column, [])
    values.update(
        enabled=entry.enabled,
        contribution_category=catalog.default_contribution(values["type"]),
        demo_available=values["type"] != "live",
        # Playable at once: in the import's currencies, or else in those its bet limits name.
        currencies=currencies or sorted({*values["min_bet"], *values["max_bet"]}),
        countries=[],
        tags=[entry.product] if entry.product else [],
        image_url=values.get("image_url"),
    )
    return values


def _updates(game: Game, entry: _Entry) -> dict[str, Any]:
    values = {k: v for k, v in entry.values.items() if getattr(game, k) != v}
    if game.withdrawn_at is not None:  # back in the list: on again as listed (it was off for its withdrawal)
        values.update(withdrawn_at=None, enabled=entry.enabled)
    elif not entry.enabled and game.enabled:  # the list may switch a game off, never on
        values["enabled"] = False
    return values


def _diff(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[FieldChange]:
    return [FieldChange(k, old.get(k), new[k]) for k in new if old.get(k) != new[k]]


async def import_games(
    rt: Runtime,
    actor: Viewer,
    provider_code: str,
    data: Any,
    *,
    currencies: Sequence[str] = (),
    dry_run: bool = False,
    reason: str | None = None,
) -> ImportReport:
    """Upsert the provider's games from its list (or, with `dry_run`, only say what would change)."""
    entries = parse_game_list(data)
    default_currencies = catalog.columns(GameChanges(currencies=currencies)).get("currencies", [])
    note = registry.check_reason(reason)
    async with rt.database.transaction() as db:
        # The provider's row lock queues concurrent imports (and game creations) of one provider.
        provider = await registry.get_by_code(db, provider_code, lock=not dry_run)
        return await apply_list(db, actor, provider, entries, currencies=default_currencies, dry_run=dry_run, note=note)


async def apply_list(
    db: AsyncSession,
    actor: Viewer,
    provider: Provider,
    entries: Sequence[_Entry],
    *,
    currencies: list[str],
    dry_run: bool = False,
    withdraw_missing: bool = False,
    note: str | None = None,
) -> ImportReport:
    """The list's difference with the provider's catalogue, written (unless `dry_run`) in the caller's
    transaction, which holds the provider's row lock; `withdraw_missing` switches off the games it does not name."""
    existing = {g.code: g for g in (await db.scalars(select(Game).where(col(Game.provider_id) == provider.id))).all()}
    report = ImportReport(provider=provider.code, dry_run=dry_run)
    now = clock.now()
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    problems: list[DomainError] = []
    for index, entry in enumerate(entries):
        game = existing.get(entry.code)
        if game is None:
            try:
                values = _new_game(entry, currencies, index)
            except DomainError as problem:
                problems.append(problem)
                continue
            inserts.append(
                {"id": new_id(), "provider_id": provider.id, "code": entry.code, "created_at": now, **values}
            )
            report.added.append(GameDiff(entry.code, values["title"], _diff({}, catalog.snapshot(values))))
            continue
        values = _updates(game, entry)
        if not values:
            report.unchanged.append(entry.code)
            continue
        before = catalog.snapshot(game)
        after = catalog.snapshot({**{c: getattr(game, c) for c in catalog.SNAPSHOT_COLUMNS}, **values})
        into = report.restored if game.withdrawn_at is not None else report.changed
        into.append(GameDiff(entry.code, game.title, _diff(before, after)))
        updates.append({"id": game.id, **values})
    if problems:
        raise InvalidGameList(problems[:MAX_PROBLEMS])
    listed = {e.code for e in entries}
    report.missing.extend(sorted(code for code in existing if code not in listed))
    if withdraw_missing:
        for code in report.missing:
            game = existing[code]
            if game.withdrawn_at is None:  # withdrawn once; a later run finds it missing and leaves it
                report.withdrawn.append(GameDiff(code, game.title, [FieldChange("enabled", game.enabled, False)]))
                updates.append({"id": game.id, "enabled": False, "withdrawn_at": now})
    if dry_run or not (inserts or updates):
        return report
    changed(db, CATALOGUE)  # after commit: the lobby and kept answers are dropped everywhere
    if inserts:
        await db.execute(insert(Game), inserts)
    for row in updates:  # few per run; each names only the columns that changed
        await db.execute(
            update(Game).where(col(Game.id) == row["id"]).values({k: v for k, v in row.items() if k != "id"})
        )
    await audit.append(
        db,
        actor=actor,
        action="game_provider.catalog_imported",
        target_type="game_provider",
        target_id=provider.id,
        after={
            "code": provider.code,
            "added": [d.code for d in report.added],
            "changed": {d.code: sorted(c.field for c in d.changes) for d in report.changed},
            "unchanged": len(report.unchanged),
            "missing": report.missing,
            # A sync's (services/providers/catalogue_sync.py): named only when there are some.
            **({"withdrawn": [d.code for d in report.withdrawn]} if report.withdrawn else {}),
            **({"restored": [d.code for d in report.restored]} if report.restored else {}),
        },
        reason=note,
    )
    return report
