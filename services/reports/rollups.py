"""Rollups of the player projections: what the player and cohort KPIs read instead of every player's days.

At a million players a month holds millions of player days, and counting distinct players over them (or
joining them with the players' registrations) takes seconds. So the `reports` consumer also keeps, in the
same transaction as the player days (exactly once, like every projection):

- `report_period_players`: per whole period (UTC day, ISO week, calendar month), brand and currency, the
  players active (a bet) and paying (a deposit) in it; currency '' counts a player once across currencies;
- `report_cohort_days`: per registration day, brand and day, how many players registered (on the
  registration day's own row), how many of them were active that day, how many made their first deposit
  that day;
- `report_cohort_ngr`: per registration day, brand, day and currency, the NGR of the cohort's players;
- in `report_cashier_days`, the first deposits (count and amount) by their day and currency.

A month of any of them is at most a few hundred rows per brand and currency.

How they stay exact. A player day's two facts only ever become true (its bet and deposit counts only
grow), a registration day once known never changes, and a player's first deposit only moves earlier. A
batch knows what it changes: the player days' counts after its upsert (and its own additions to them), the
players' registrations and first deposits before and after it, and — read once per batch, only for the
players it made active or paying somewhere for the first time — their other days in the same weeks and
months. Each rollup row then gets the difference between the players' contributions after the batch and
before it: a player is added to a period the first time they do it in that period, to a cohort's day the
first time they play that day (or, when their registration arrives after their play, for every day played
so far), a first deposit moves from its old day to its new one. Sums do not care about order, so events in
any order, redelivered (the framework drops them) or replayed build the same rows.

`check` recomputes every rollup from the player days and the players (the definitions of docs/reports.md)
and lists what differs; `croupier reports verify` runs it, and so does every report test.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

import asyncpg
from sqlalchemy import RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reports import sums
from services.reports.periods import Period, period_end, period_start

TABLES = ("report_period_players", "report_cohort_days", "report_cohort_ngr")
GRAINS = (Period.DAY, Period.WEEK, Period.MONTH)
ANY_CURRENCY = ""  # the currency of a count of players across currencies (each player once)

FirstDeposit = tuple[datetime, int, date, int, str]  # (time, event id, day, amount, currency)
DayKey = tuple[str, date, str]  # a player day: player, day, currency

_PERIOD_UPSERT = sums.upsert(
    "report_period_players",
    [("period", "varchar"), ("period_start", "date"), ("brand_id", "uuid"), ("currency", "varchar")],
    ("active", "paying"),
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

    periods: dict[tuple[str, date, str, str], sums.Row] = field(default_factory=dict)
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
    seen = await _read_days(conn, firsts, joining)

    for player, became in firsts.items():
        brand = days[next(iter(became))][0]  # the player days' brand (the player's)
        now = after.get(player)
        cohort = (now.registered_on, now.brand_id) if now and now.registered_on and player not in joining else None
        _first_in_periods(changes, brand, seen.get(player, []), became, cohort)
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


async def _read_days(
    conn: asyncpg.Connection, firsts: Mapping[str, Mapping[DayKey, tuple[bool, bool]]], joining: set[str]
) -> dict[str, list[_Day]]:
    """The days the batch's changes depend on: for a player it made active or paying somewhere for the
    first time, their days in the weeks and months of those days; for a player whose registration it
    brought, all their days. One query."""
    windows: dict[str, tuple[date, date]] = {player: (date.min, date.max) for player in joining}
    for player, became in firsts.items():
        if player in windows:
            continue
        touched = {day for _, day, _ in became}
        windows[player] = (
            min(min(period_start(day, Period.WEEK), period_start(day, Period.MONTH)) for day in touched),
            max(max(_last_day(day, Period.WEEK), _last_day(day, Period.MONTH)) for day in touched),
        )
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


def _last_day(day: date, period: Period) -> date:
    return period_end(period_start(day, period), period)


def _first_in_periods(
    changes: _Changes,
    brand: str,
    seen: list[_Day],
    became: Mapping[DayKey, tuple[bool, bool]],
    cohort: tuple[date, str] | None,
) -> None:
    """Count a player (whose days are `seen`) in each period, per currency and across currencies, where
    the batch made them active or paying for the first time; and in their cohort's day (registration
    day, brand) when they first played on it."""
    for grain in GRAINS:
        touched = {period_start(day, grain) for _, day, _ in became}
        flags: dict[tuple[date, str], list[bool]] = {}  # [active, was active, paying, was paying]
        for day in seen:
            start = period_start(day.day, grain)
            if start not in touched:
                continue
            for currency in (day.currency, ANY_CURRENCY):
                held = flags.setdefault((start, currency), [False, False, False, False])
                held[0] |= day.active
                held[1] |= day.was_active
                held[2] |= day.paying
                held[3] |= day.was_paying
        for (start, currency), (active, was_active, paying, was_paying) in flags.items():
            new_active, new_paying = active and not was_active, paying and not was_paying
            if not (new_active or new_paying):
                continue
            row = sums.row(changes.periods, (grain.value, start, brand, currency))
            row["active"] += new_active
            row["paying"] += new_paying
            if grain == Period.DAY and currency == ANY_CURRENCY and new_active and cohort is not None:
                sums.row(changes.cohort_days, (*cohort, start))["active"] += 1


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
    currency its players have a player day in (zero or not), and a cohort day that a first deposit left
    with nothing to count goes."""
    for statement, rows, names in (
        (_PERIOD_UPSERT, changes.periods, ("active", "paying")),
        (_COHORT_DAY_UPSERT, changes.cohort_days, ("registered", "active", "depositors")),
        (_COHORT_NGR_UPSERT, changes.cohort_ngr, ("ngr",)),
    ):
        if rows:
            await conn.execute(statement, *sums.columns(list(rows.items()), names))
    left = [key for key, row in changes.cohort_days.items() if row["depositors"] < 0]
    if left:
        await conn.execute(_EMPTY_COHORT_DAYS, *(list(column) for column in zip(*left, strict=True)))


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


_PERIOD_KEYS = ("period", "period_start", "brand_id", "currency")
_COHORT_DAY_KEYS = ("registered_on", "brand_id", "day")
_COHORT_NGR_KEYS = ("registered_on", "brand_id", "day", "currency")
_FTD_KEYS = ("day", "brand_id", "currency")
# Every period that holds a day of the range, whole.
_CHECKS = {
    "report_period_players": (
        "player days",
        _PERIOD_KEYS,
        ("active", "paying"),
        """
        SELECT g.period, date_trunc(g.period, d.day::timestamp)::date AS period_start, d.brand_id,
               CASE WHEN grouping(d.currency) = 1 THEN '' ELSE d.currency END AS currency,
               count(DISTINCT d.player_id) FILTER (WHERE d.bet_count > 0) AS active,
               count(DISTINCT d.player_id) FILTER (WHERE d.deposit_count > 0) AS paying
        FROM (VALUES ('day'), ('week'), ('month')) AS g(period)
        JOIN report_player_days d
          ON d.day >= date_trunc(g.period, CAST(:start AS timestamp))::date
         AND d.day < date_trunc(g.period, CAST(:end AS timestamp)) + ('1 ' || g.period)::interval
        GROUP BY GROUPING SETS ((g.period, 2, d.brand_id, d.currency), (g.period, 2, d.brand_id))""",
        """
        SELECT period, period_start, brand_id, currency, active, paying FROM report_period_players
        WHERE period_start >= date_trunc(period, CAST(:start AS timestamp))::date AND period_start <= :end""",
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
                    day, brand, currency = _where(table, row)
                    named = _named(table, figure, row)
                    found.append(Mismatch(table, day, brand, currency, named, expected, held, against))
    return found


def _where(table: str, row: RowMapping) -> tuple[date, str, str]:
    day = row["period_start"] if table == "report_period_players" else row["day"]
    assert isinstance(day, date)
    return day, str(row["brand_id"]), str(row.get("currency") or "")


def _named(table: str, figure: str, row: RowMapping) -> str:
    if table == "report_period_players":
        return f"{figure} players ({row['period']})"
    if table.startswith("report_cohort"):
        return f"{figure} (registered {row['registered_on']})"
    return figure
