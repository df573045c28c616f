"""Rollups of the player projections: what the player and cohort KPIs read instead of every player's days.

At a million players a month holds millions of player days, and counting distinct players over them (or
joining them with the players' registrations) takes seconds. So the `reports` consumer also keeps, in the
same transaction as the player days (exactly once, like every projection):

- `report_player_gaps`: per day, brand, currency ('' : any currency) and `previous` day, the players active
  (a bet) that day whose previous active day was `previous`, and likewise the paying players (a deposit)
  with their previous paying day (a player's first such day, or one more than `MAX_DAYS` after the one
  before, has `previous` = LONG_AGO). The players active at least once in any range of days [a, b] are
  then exactly those with an active day in it whose previous one is before a: a sum over the range's
  rows, however long the range and whatever it cuts (a week from a Wednesday, the last 30 days);
- `report_cohort_days`: per registration day, brand and day, how many players registered (on the
  registration day's own row), how many of them were active that day, how many made their first deposit
  that day;
- `report_cohort_ngr`: per registration day, brand, day and currency, the NGR of the cohort's players;
- in `report_cashier_days`, the first deposits (count and amount) by their day and currency.

A month of any of them is a few hundred to a few thousand rows per brand and currency.

How they stay exact. A player day's two facts only ever become true (its bet and deposit counts only
grow), a registration day once known never changes, and a player's first deposit only moves earlier. A
batch knows what it changes: the player days' counts after its upsert (and its own additions to them), so
which days became active or paying; the players' registrations and first deposits before and after it. It
reads, for the players it made active or paying on a day for the first time, their days from the first to
the last such day, and their nearest active and paying days before and after those (index probes). Each
rollup row then gets the difference between the players' contributions after the batch and before it: a
new active day splits the gap it falls in (its successor's `previous` becomes that day), a player joins a
cohort's day the first time they play on it (or, when their registration arrives after their play, on
every day played so far), a first deposit moves from its old day to its new one. Sums do not care about
order, so events in any order, redelivered (the framework drops them) or replayed build the same rows
(a row a change leaves all zeros goes, so that the rows themselves are the same).

`check` recomputes every rollup from the player days and the players (the definitions of docs/reports.md)
and lists what differs; `croupier reports verify` runs it, and so does every report test.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import asyncpg
from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import sums
from services.reports.periods import MAX_DAYS

TABLES = ("report_player_gaps", "report_cohort_days", "report_cohort_ngr")
ANY_CURRENCY = ""  # the currency of a count of players across currencies (each player once)
# The `previous` of a player's first active (or paying) day, or of one after a long gap: PostgreSQL's
# '-infinity' (asyncpg reads and writes it as date.min).
LONG_AGO = date.min
FACTS = ("active", "paying")

FirstDeposit = tuple[datetime, int, date, int, str]  # (time, event id, day, amount, currency)
DayKey = tuple[str, date, str]  # a player day: player, day, currency

_GAP_UPSERT = sums.upsert(
    "report_player_gaps",
    [("day", "date"), ("brand_id", "uuid"), ("currency", "varchar"), ("previous", "date")],
    FACTS,
)
_COHORT_DAY_UPSERT = sums.upsert(
    "report_cohort_days",
    [("registered_on", "date"), ("brand_id", "uuid"), ("day", "date")],
    ("registered", "active", "depositors"),
)
_COHORT_NGR_UPSERT = sums.upsert(
    "report_cohort_ngr",
    [("registered_on", "date"), ("brand_id", "uuid"), ("day", "date"), ("currency", "varchar")],
    ("ngr",),
)
# Rows a change left with nothing to count go (the same rows whatever the order of the events).
_EMPTY_GAPS = """
DELETE FROM report_player_gaps g
USING unnest($1::date[], $2::uuid[], $3::varchar[], $4::date[]) AS k(day, brand_id, currency, previous)
WHERE (g.day, g.brand_id, g.currency, g.previous) = (k.day, k.brand_id, k.currency, k.previous)
  AND (g.active, g.paying) = (0, 0)"""
_EMPTY_COHORT_DAYS = """
DELETE FROM report_cohort_days c USING unnest($1::date[], $2::uuid[], $3::date[]) AS k(registered_on, brand_id, day)
WHERE (c.registered_on, c.brand_id, c.day) = (k.registered_on, k.brand_id, k.day)
  AND (c.registered, c.active, c.depositors) = (0, 0, 0)"""
# A player's days in a window, after the batch's upsert (the batch's own additions are known, so what was
# true before it is too).
_WINDOWS = """
SELECT d.player_id::text AS player, d.day, d.currency, d.bet_count > 0 AS active, d.deposit_count > 0 AS paying,
       d.stakes - d.wins - d.bonus_cost AS ngr
FROM unnest($1::uuid[], $2::date[], $3::date[]) AS w(player_id, first, last)
JOIN report_player_days d ON d.player_id = w.player_id AND d.day BETWEEN w.first AND w.last"""
# A player's nearest active and paying days before and after a window, in one currency or any ('');
# probed (backwards or forwards along the player's days) only for the facts asked.
_NEIGHBOURS = """
SELECT w.player_id::text AS player, w.currency,
       CASE WHEN w.active THEN (SELECT d.day FROM report_player_days d WHERE d.player_id = w.player_id
            AND d.day < w.first AND d.bet_count > 0 AND (w.currency = '' OR d.currency = w.currency)
            ORDER BY d.day DESC LIMIT 1) END AS active_before,
       CASE WHEN w.active THEN (SELECT d.day FROM report_player_days d WHERE d.player_id = w.player_id
            AND d.day > w.last AND d.bet_count > 0 AND (w.currency = '' OR d.currency = w.currency)
            ORDER BY d.day LIMIT 1) END AS active_after,
       CASE WHEN w.paying THEN (SELECT d.day FROM report_player_days d WHERE d.player_id = w.player_id
            AND d.day < w.first AND d.deposit_count > 0 AND (w.currency = '' OR d.currency = w.currency)
            ORDER BY d.day DESC LIMIT 1) END AS paying_before,
       CASE WHEN w.paying THEN (SELECT d.day FROM report_player_days d WHERE d.player_id = w.player_id
            AND d.day > w.last AND d.deposit_count > 0 AND (w.currency = '' OR d.currency = w.currency)
            ORDER BY d.day LIMIT 1) END AS paying_after
FROM unnest($1::uuid[], $2::varchar[], $3::date[], $4::date[], $5::boolean[], $6::boolean[])
     AS w(player_id, currency, first, last, active, paying)"""


@dataclass(frozen=True)
class Player:
    """A player as the reports know them (report_players): brand, registration day, first deposit."""

    brand_id: str
    registered_on: date | None = None
    first_deposit: FirstDeposit | None = None

    def then(self, registered_on: date | None, first_deposit: FirstDeposit | None) -> Player:
        """The player after a batch that saw these (as the projection's upsert of report_players): the
        registration day kept once known, the earliest first deposit by (time, event id)."""
        earliest = self.first_deposit
        if first_deposit is not None and (earliest is None or first_deposit[:2] < earliest[:2]):
            earliest = first_deposit
        return Player(self.brand_id, self.registered_on or registered_on, earliest)


@dataclass
class _Changes:
    """What a batch adds to each rollup row."""

    gaps: dict[tuple[date, str, str, date], sums.Row] = field(default_factory=dict)
    cohort_days: dict[tuple[date, str, date], sums.Row] = field(default_factory=dict)
    cohort_ngr: dict[tuple[date, str, date, str], sums.Row] = field(default_factory=dict)


@dataclass(frozen=True)
class _Day:
    """One of a player's days in one currency: its facts after the batch, and before it."""

    day: date
    currency: str
    active: bool
    paying: bool
    was_active: bool
    was_paying: bool
    ngr: int


@dataclass
class _Level:
    """A player's days in one currency (or any), inside the batch's window: for each fact, the days it
    holds after the batch and before it."""

    after: dict[str, set[date]] = field(default_factory=lambda: {fact: set() for fact in FACTS})
    before: dict[str, set[date]] = field(default_factory=lambda: {fact: set() for fact in FACTS})

    def add(self, day: _Day) -> None:
        for fact, now, was in (("active", day.active, day.was_active), ("paying", day.paying, day.was_paying)):
            if now:
                self.after[fact].add(day.day)
            if was:
                self.before[fact].add(day.day)

    def new(self, fact: str) -> set[date]:
        return self.after[fact] - self.before[fact]


async def apply(
    conn: asyncpg.Connection,
    *,
    days: Mapping[DayKey, tuple[str, sums.Row]],
    counts: Mapping[DayKey, tuple[int, int]],
    before: Mapping[str, Player],
    after: Mapping[str, Player],
    cashier: dict[tuple[date, str, str], sums.Row],
) -> None:
    """Bring the rollups up to date with a batch, in its transaction, after its player days were written.

    `days` are the batch's additions to the player days (with each one's brand), `counts` their bet and
    deposit counts after the write; `before` and `after` the batch's players as known before and after it.
    The first deposits that moved are added to `cashier` (the batch's cashier rows, written after)."""
    changes = _Changes()
    firsts: dict[str, dict[DayKey, tuple[bool, bool]]] = defaultdict(dict)  # became (active, paying)
    for key, (_, added) in days.items():
        bets, deposits = counts[key]
        became_active = added["bet_count"] > 0 and bets == added["bet_count"]
        became_paying = added["deposit_count"] > 0 and deposits == added["deposit_count"]
        if became_active or became_paying:
            firsts[key[0]][key] = (became_active, became_paying)
    joining = {
        player
        for player, now in after.items()
        if now.registered_on is not None and (player not in before or before[player].registered_on is None)
    }
    windows = _windows(firsts, joining)
    seen = await _read_days(conn, windows, firsts)
    levels = {player: _levels(seen.get(player, [])) for player in firsts}
    neighbours = await _neighbours(conn, windows, levels)

    for player, by_level in levels.items():
        brand = days[next(iter(firsts[player]))][0]  # the player days' brand (the player's)
        for currency, level in by_level.items():
            for fact in FACTS:
                new = level.new(fact)
                if new:
                    around = neighbours.get((player, currency, fact), (None, None))
                    _split_gaps(changes, (brand, currency, fact), level.before[fact], level.after[fact], around)
        now = after.get(player)
        if now is not None and now.registered_on is not None and player not in joining:
            for played in by_level[ANY_CURRENCY].new("active"):  # the first time they play on that day
                sums.row(changes.cohort_days, (now.registered_on, now.brand_id, played))["active"] += 1
    for player in joining:
        now = after[player]
        _joined(changes, (now.registered_on or date.min, now.brand_id), seen.get(player, []))
    for (player, day, currency), (_, added) in days.items():
        now = after.get(player)
        if now is not None and now.registered_on is not None and player not in joining:
            ngr = added["stakes"] - added["wins"] - added["bonus_cost"]  # (a row even for 0: see _write)
            sums.row(changes.cohort_ngr, (now.registered_on, now.brand_id, day, currency))["ngr"] += ngr
    for player, now in after.items():
        _moved_first_deposit(changes, cashier, before.get(player), now)
    await _write(conn, changes)


def _windows(
    firsts: Mapping[str, Mapping[DayKey, tuple[bool, bool]]], joining: set[str]
) -> dict[str, tuple[date, date]]:
    """The days the batch's changes depend on: for a player it made active or paying on a day for the
    first time, from the first such day to the last; for a player whose registration it brought, all."""
    windows = {player: (date.min, date.max) for player in joining}
    for player, became in firsts.items():
        if player not in windows:
            touched = [day for _, day, _ in became]
            windows[player] = (min(touched), max(touched))
    return windows


async def _read_days(
    conn: asyncpg.Connection,
    windows: Mapping[str, tuple[date, date]],
    firsts: Mapping[str, Mapping[DayKey, tuple[bool, bool]]],
) -> dict[str, list[_Day]]:
    """The players' days in their windows, each with what was true of it before the batch (one query)."""
    if not windows:
        return {}
    players = list(windows)
    rows = await conn.fetch(_WINDOWS, players, [windows[p][0] for p in players], [windows[p][1] for p in players])
    found: dict[str, list[_Day]] = defaultdict(list)
    for row in rows:
        player = row["player"]
        became_active, became_paying = firsts.get(player, {}).get((player, row["day"], row["currency"]), (False, False))
        found[player].append(
            _Day(
                row["day"],
                row["currency"],
                row["active"],
                row["paying"],
                row["active"] and not became_active,
                row["paying"] and not became_paying,
                row["ngr"],
            )
        )
    return found


def _levels(seen: Iterable[_Day]) -> dict[str, _Level]:
    """A player's window by currency, and across currencies ('')."""
    levels: dict[str, _Level] = defaultdict(_Level)
    for day in seen:
        levels[day.currency].add(day)
        levels[ANY_CURRENCY].add(day)
    return levels


async def _neighbours(
    conn: asyncpg.Connection, windows: Mapping[str, tuple[date, date]], levels: Mapping[str, Mapping[str, _Level]]
) -> dict[tuple[str, str, str], tuple[date | None, date | None]]:
    """For each player, currency (or '') and fact the batch made new days of: the nearest day holding
    the fact before the player's window and after it (None: there is none). One query; none for a window
    of all days."""
    wanted = [
        (player, currency, bool(level.new("active")), bool(level.new("paying")))
        for player, by_level in levels.items()
        if windows[player] != (date.min, date.max)
        for currency, level in by_level.items()
        if level.new("active") or level.new("paying")
    ]
    if not wanted:
        return {}
    columns = list(zip(*wanted, strict=True))
    first = [windows[player][0] for player, *_ in wanted]
    last = [windows[player][1] for player, *_ in wanted]
    found: dict[tuple[str, str, str], tuple[date | None, date | None]] = {}
    for row in await conn.fetch(
        _NEIGHBOURS, list(columns[0]), list(columns[1]), first, last, list(columns[2]), list(columns[3])
    ):
        for fact in FACTS:
            found[(row["player"], row["currency"], fact)] = (row[f"{fact}_before"], row[f"{fact}_after"])
    return found


def _split_gaps(
    changes: _Changes,
    where: tuple[str, str, str],
    before: set[date],
    after: set[date],
    around: tuple[date | None, date | None],
) -> None:
    """One player's days holding a fact (in one currency or any: `where` = brand, currency, fact), in the
    window, before and after the batch, with the nearest such days outside it: each gap row loses the
    (day, previous) pairs the old sequence had and gains the new sequence's."""
    brand, currency, fact = where
    for (day, previous), sign in _pair_changes(sorted(before), sorted(after), *around):
        sums.row(changes.gaps, (day, brand, currency, previous))[fact] += sign


def _pair_changes(
    before: list[date], after: list[date], earlier: date | None, later: date | None
) -> Iterator[tuple[tuple[date, date], int]]:
    """The (day, previous day) pairs of a sequence of days, before and after some were added: +1 for each
    new pair, -1 for each one gone."""
    counted: Counter[tuple[date, date]] = Counter(_pairs(after, earlier, later))
    counted.subtract(_pairs(before, earlier, later))
    for pair, change in counted.items():
        if change:
            yield pair, change


def _pairs(days: list[date], earlier: date | None, later: date | None) -> Iterator[tuple[date, date]]:
    sequence = [*days, *((later,) if later is not None else ())]
    previous = earlier
    for day in sequence:
        yield day, _previous(day, previous)
        previous = day


def _previous(day: date, previous: date | None) -> date:
    """What a gap row keeps of a day's previous one: LONG_AGO if none, or if no range of days a report
    covers can hold both (a range from after the previous day is all that matters then)."""
    if previous is None or (day - previous).days > MAX_DAYS:
        return LONG_AGO
    return previous


def _joined(changes: _Changes, joined: tuple[date, str], seen: list[_Day]) -> None:
    """A player whose registration the batch brought joins their cohort (registration day, brand) with
    every day they played so far (`seen`: all their days)."""
    cohort, brand = joined
    sums.row(changes.cohort_days, (cohort, brand, cohort))["registered"] += 1
    for played in {d.day for d in seen if d.active}:
        sums.row(changes.cohort_days, (cohort, brand, played))["active"] += 1
    for day in seen:
        sums.row(changes.cohort_ngr, (cohort, brand, day.day, day.currency))["ngr"] += day.ngr


def _moved_first_deposit(
    changes: _Changes,
    cashier: dict[tuple[date, str, str], sums.Row],
    was: Player | None,
    now: Player,
) -> None:
    """A first deposit that appeared or moved earlier: the FTD figures of its old day and its new one, and
    the cohort's depositors."""
    old = was.first_deposit if was is not None else None
    if old != now.first_deposit:
        for first, sign in ((old, -1), (now.first_deposit, 1)):
            if first is not None:
                row = sums.row(cashier, (first[2], now.brand_id, first[4]))
                row["ftd_count"] += sign
                row["ftd_amount"] += sign * first[3]
    old_cohort = _depositor(was)
    new_cohort = _depositor(now)
    if old_cohort != new_cohort:
        for key, sign in ((old_cohort, -1), (new_cohort, 1)):
            if key is not None:
                sums.row(changes.cohort_days, key)["depositors"] += sign


def _depositor(player: Player | None) -> tuple[date, str, date] | None:
    """The cohort day a player counts in as a depositor: (registration day, brand, first deposit's day)."""
    if player is None or player.registered_on is None or player.first_deposit is None:
        return None
    return (player.registered_on, player.brand_id, player.first_deposit[2])


async def _write(conn: asyncpg.Connection, changes: _Changes) -> None:
    """The rows are the same whatever the order of the events: a cohort's NGR has a row for each day and
    currency its players have a player day in (zero or not), and a gap or cohort day row that a change
    left with nothing to count goes."""
    for statement, rows, names in (
        (_GAP_UPSERT, changes.gaps, FACTS),
        (_COHORT_DAY_UPSERT, changes.cohort_days, ("registered", "active", "depositors")),
        (_COHORT_NGR_UPSERT, changes.cohort_ngr, ("ngr",)),
    ):
        if rows:
            await conn.execute(statement, *sums.columns(list(rows.items()), names))
    for statement, rows in ((_EMPTY_GAPS, changes.gaps), (_EMPTY_COHORT_DAYS, changes.cohort_days)):
        emptied = [key for key, row in rows.items() if min(row.values()) < 0]
        if emptied:
            await conn.execute(statement, *(list(column) for column in zip(*emptied, strict=True)))


# ---- the definitions, from scratch ---------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    """A rollup row that differs from its recomputation."""

    table: str
    day: date  # the period's first day, or the cohort's day
    brand_id: str
    currency: str  # '' : across currencies, or none
    figure: str  # the column, with what else keys the row: "active (week)", "depositors (registered 2026-11-02)"
    expected: int  # recomputed from the player days and the players
    found: int
    against: str  # what it was recomputed from


def _compare(recomputed: str, stored: str, keys: tuple[str, ...], figures: tuple[str, ...]) -> str:
    """One statement (one snapshot, so a batch committing meanwhile cannot show as a difference): the
    rows where the rollup and its recomputation differ, a missing row counting as zeros."""
    values = ", ".join(f"coalesce(s.{f}, 0) AS expected_{f}, coalesce(t.{f}, 0) AS found_{f}" for f in figures)
    differs = " OR ".join(f"coalesce(s.{f}, 0) <> coalesce(t.{f}, 0)" for f in figures)
    return (
        f"WITH s AS ({recomputed}), t AS ({stored}) "  # noqa: S608  (fixed fragments)
        f"SELECT {', '.join(keys)}, {values} FROM s FULL JOIN t USING ({', '.join(keys)}) WHERE {differs}"
    )


_GAP_KEYS = ("day", "brand_id", "currency", "previous")
_COHORT_DAY_KEYS = ("registered_on", "brand_id", "day")
_COHORT_NGR_KEYS = ("registered_on", "brand_id", "day", "currency")
_FTD_KEYS = ("day", "brand_id", "currency")
_CHECKS = {
    # Each player's days holding a fact, in each currency and in any, with the one before (all history).
    "report_player_gaps": (
        "player days",
        _GAP_KEYS,
        FACTS,
        f"""
        WITH levels AS (
            SELECT player_id, brand_id, currency, day, bet_count > 0 AS active, deposit_count > 0 AS paying
            FROM report_player_days WHERE day <= :end
            UNION ALL
            SELECT player_id, brand_id, '', day, bool_or(bet_count > 0), bool_or(deposit_count > 0)
            FROM report_player_days WHERE day <= :end GROUP BY player_id, brand_id, day),
        sequences AS (
            SELECT day, brand_id, currency, 'active' AS fact,
                   lag(day) OVER (PARTITION BY player_id, currency ORDER BY day) AS previous
            FROM levels WHERE active
            UNION ALL
            SELECT day, brand_id, currency, 'paying',
                   lag(day) OVER (PARTITION BY player_id, currency ORDER BY day)
            FROM levels WHERE paying)
        SELECT day, brand_id, currency,
               CASE WHEN previous IS NULL OR day - previous > {MAX_DAYS} THEN DATE '-infinity' ELSE previous END
                   AS previous,
               count(*) FILTER (WHERE fact = 'active') AS active, count(*) FILTER (WHERE fact = 'paying') AS paying
        FROM sequences WHERE day BETWEEN :start AND :end GROUP BY 1, 2, 3, 4""",  # noqa: S608  (constants)
        """
        SELECT day, brand_id, currency, previous, active, paying FROM report_player_gaps
        WHERE day BETWEEN :start AND :end""",
    ),
    "report_cohort_days": (
        "players' days",
        _COHORT_DAY_KEYS,
        ("registered", "active", "depositors"),
        """
        SELECT registered_on, brand_id, day, sum(registered) AS registered, sum(active) AS active,
               sum(depositors) AS depositors
        FROM (
            SELECT registered_on, brand_id, registered_on AS day, 1 AS registered, 0 AS active, 0 AS depositors
            FROM report_players WHERE registered_on BETWEEN :start AND :end
            UNION ALL
            SELECT p.registered_on, p.brand_id, a.day, 0, 1, 0
            FROM (SELECT DISTINCT player_id, day FROM report_player_days
                  WHERE bet_count > 0 AND day BETWEEN :start AND :end) AS a
            JOIN report_players p USING (player_id) WHERE p.registered_on IS NOT NULL
            UNION ALL
            SELECT registered_on, brand_id, first_deposit_on, 0, 0, 1
            FROM report_players WHERE registered_on IS NOT NULL AND first_deposit_on BETWEEN :start AND :end
        ) AS facts GROUP BY 1, 2, 3""",
        """
        SELECT registered_on, brand_id, day, registered, active, depositors FROM report_cohort_days
        WHERE day BETWEEN :start AND :end""",
    ),
    "report_cohort_ngr": (
        "players' days",
        _COHORT_NGR_KEYS,
        ("ngr",),
        """
        SELECT p.registered_on, p.brand_id, d.day, d.currency, sum(d.stakes - d.wins - d.bonus_cost) AS ngr
        FROM report_player_days d JOIN report_players p USING (player_id)
        WHERE p.registered_on IS NOT NULL AND d.day BETWEEN :start AND :end
        GROUP BY 1, 2, 3, 4""",
        """
        SELECT registered_on, brand_id, day, currency, ngr FROM report_cohort_ngr
        WHERE day BETWEEN :start AND :end""",
    ),
    "report_cashier_days": (
        "players",
        _FTD_KEYS,
        ("ftd_count", "ftd_amount"),
        """
        SELECT first_deposit_on AS day, brand_id, first_deposit_currency AS currency, count(*) AS ftd_count,
               sum(first_deposit_amount) AS ftd_amount
        FROM report_players WHERE first_deposit_on BETWEEN :start AND :end GROUP BY 1, 2, 3""",
        """
        SELECT day, brand_id, currency, ftd_count, ftd_amount FROM report_cashier_days
        WHERE day BETWEEN :start AND :end""",
    ),
}


async def check(db: AsyncSession, *, start: date, end: date) -> list[Mismatch]:
    """Every rollup row of the days from `start` to `end` (of the periods holding them, for the periods'
    players) recomputed from the player days and the players; what differs. One statement per rollup."""
    found: list[Mismatch] = []
    for table, (against, keys, figures, recomputed, stored) in _CHECKS.items():
        statement = text(_compare(recomputed, stored, keys, figures))
        for row in (await db.execute(statement, {"start": start, "end": end})).mappings():
            for figure in figures:
                expected, held = int(row[f"expected_{figure}"]), int(row[f"found_{figure}"])
                if expected != held:
                    day, brand, currency = row["day"], str(row["brand_id"]), row.get("currency") or ""
                    named = _named(table, figure, row)
                    found.append(Mismatch(table, day, brand, currency, named, expected, held, against))
    return found


def _named(table: str, figure: str, row: RowMapping) -> str:
    if table == "report_player_gaps":
        previous = "none before" if row["previous"] == LONG_AGO else f"the one before on {row['previous']}"
        return f"{figure} players ({previous})"
    if table.startswith("report_cohort"):
        return f"{figure} (registered {row['registered_on']})"
    return figure
