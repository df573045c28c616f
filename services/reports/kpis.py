"""The KPIs of docs/reports.md over the projections, by day, ISO week or calendar month.

Every function takes the brands to cover (`brands_of(viewer)` gives a staff member's: None is every
brand), an inclusive range of UTC days and a period, and answers with frozen dataclasses: figures in
their original currencies and, when `reporting_currency` is given, everything converted into it with
the rate in force on each day (services/reports/fx.py; FX_RATE_MISSING when one is missing). Amounts
are integer minor units; ratios are Decimals to four places (0.0523 is 5.23 %).

Each function runs a fixed number of aggregate queries, whatever the range or the number of brands.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from core.money import currency as currency_info
from services.reports import fx
from services.reports.periods import Period, bucket, check_range, in_brands, period_start, ratio, spans

AMOUNTS = (
    "turnover_cash",
    "turnover_bonus",
    "wins",
    "bonus_cost",
    "deposits",
    "withdrawals",
    "ftd_amount",
    "chargebacks",
    "chargebacks_reversed",
    "payouts_returned",
)
COUNTS = ("deposit_count", "withdrawal_count", "ftd_count", "chargeback_count")


@dataclass(frozen=True)
class MoneyFigures:
    """One currency's figures over one period (see docs/reports.md for each definition)."""

    currency: str
    turnover: int  # stakes, cash + bonus, net of rolled-back stakes
    turnover_cash: int
    turnover_bonus: int
    wins: int  # paid by the house, net of rolled-back wins
    ggr: int  # turnover - wins
    bonus_cost: int
    ngr: int  # ggr - bonus_cost
    hold: Decimal | None  # ggr / turnover
    deposits: int
    deposit_count: int
    withdrawals: int  # paid out
    withdrawal_count: int
    ftd_count: int  # first deposits made in the period
    ftd_amount: int
    chargebacks: int  # taken back by PSPs (cash and debt), less disputes won back, in the period
    chargeback_count: int
    payouts_returned: int  # paid withdrawals the bank sent back
    net_deposits: int  # deposits - withdrawals - chargebacks + payouts returned: the cash the players left
    active_players: int  # placed at least one bet in the period
    paying_players: int  # made at least one deposit in the period
    arppu: int | None  # ngr / paying players


@dataclass(frozen=True)
class PeriodFigures:
    start: date
    end: date
    by_currency: tuple[MoneyFigures, ...]  # the original currencies, by code
    converted: MoneyFigures | None  # all of them in the reporting currency (None: not asked)


@dataclass
class _Tally:
    """Running sums of one (period, currency), or of a period in the reporting currency."""

    amounts: dict[str, Fraction] = field(default_factory=lambda: defaultdict(Fraction))
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    active: int = 0
    paying: int = 0

    def figures(self, currency: str) -> MoneyFigures:
        cash, bonus, wins, cost = (
            fx.rounded(self.amounts[k]) for k in ("turnover_cash", "turnover_bonus", "wins", "bonus_cost")
        )
        turnover = cash + bonus
        ggr = turnover - wins
        ngr = ggr - cost
        deposits, withdrawals, returned = (
            fx.rounded(self.amounts[k]) for k in ("deposits", "withdrawals", "payouts_returned")
        )
        chargebacks = fx.rounded(self.amounts["chargebacks"] - self.amounts["chargebacks_reversed"])
        return MoneyFigures(
            currency=currency,
            turnover=turnover,
            turnover_cash=cash,
            turnover_bonus=bonus,
            wins=wins,
            ggr=ggr,
            bonus_cost=cost,
            ngr=ngr,
            hold=ratio(ggr, turnover),
            deposits=deposits,
            deposit_count=self.counts["deposit_count"],
            withdrawals=withdrawals,
            withdrawal_count=self.counts["withdrawal_count"],
            ftd_count=self.counts["ftd_count"],
            ftd_amount=fx.rounded(self.amounts["ftd_amount"]),
            chargebacks=chargebacks,
            chargeback_count=self.counts["chargeback_count"],
            payouts_returned=returned,
            net_deposits=deposits - withdrawals - chargebacks + returned,
            active_players=self.active,
            paying_players=self.paying,
            arppu=fx.rounded(Fraction(ngr, self.paying)) if self.paying else None,
        )


_PLAY = text(f"""
SELECT day, currency, sum(stakes_cash) AS turnover_cash, sum(stakes_bonus) AS turnover_bonus,
       sum(wins_cash + wins_bonus) AS wins
FROM report_game_days WHERE {in_brands("brand_id")} AND day BETWEEN :start AND :end
GROUP BY day, currency""")  # noqa: S608  (a fixed filter)
BONUS_COST_SQL = (
    "bonus_granted + bonus_cash + bonus_game - bonus_capped - bonus_forfeited - bonus_expired - bonus_cancelled"
)
_CASHIER = text(f"""
SELECT day, currency, sum(deposits) AS deposits, sum(deposit_count) AS deposit_count,
       sum(withdrawals) AS withdrawals, sum(withdrawal_count) AS withdrawal_count,
       sum({BONUS_COST_SQL}) AS bonus_cost, sum(ftd_count) AS ftd_count, sum(ftd_amount) AS ftd_amount,
       sum(chargebacks) AS chargebacks, sum(chargeback_count) AS chargeback_count,
       sum(chargebacks_reversed) AS chargebacks_reversed, sum(payouts_returned) AS payouts_returned
FROM report_cashier_days WHERE {in_brands("brand_id")} AND day BETWEEN :start AND :end
GROUP BY day, currency""")  # noqa: S608
# Players per period and currency, and per period across currencies (currency NULL): a player active
# in two currencies is one active player of the period. From the gap rollup (rollups.py): the players
# active in a span are those of its days' rows whose previous active day is before the span's (clipped)
# first day; likewise the paying ones.
_PLAYERS = text(f"""
SELECT {bucket("day")} AS period, nullif(currency, '') AS currency, sum(active) AS active, sum(paying) AS paying
FROM report_player_gaps
WHERE {in_brands("brand_id")} AND day BETWEEN :start AND :end
  AND previous < greatest({bucket("day")}, CAST(:start AS date))
GROUP BY 1, 2""")  # noqa: S608


def _window(brands: Sequence[uuid.UUID] | None, start: date, end: date, period: Period) -> dict[str, Any]:
    return {"brands": list(brands) if brands is not None else None, "start": start, "end": end, "period": period.value}


async def figures(
    db: AsyncSession,
    *,
    brands: Sequence[uuid.UUID] | None,
    start: date,
    end: date,
    period: Period = Period.DAY,
    reporting_currency: str | None = None,
) -> list[PeriodFigures]:
    """GGR, NGR, turnover, hold, bonus cost, deposits, withdrawals, FTDs, active and paying players and
    ARPPU for each period from `start` to `end` (inclusive), per currency and, with
    `reporting_currency`, converted into it. Four queries (three and the rates)."""
    periods = spans(start, end, period)
    target = currency_info(reporting_currency).code if reporting_currency else None
    params = _window(brands, start, end, period)
    daily: list[tuple[date, str, dict[str, int]]] = []
    for statement in (_PLAY, _CASHIER):
        for row in (await db.execute(statement, params)).mappings():
            values = {k: int(v or 0) for k, v in row.items() if k not in ("day", "currency")}
            daily.append((row["day"], row["currency"], values))
    players = (await db.execute(_PLAYERS, params)).all()

    tallies: dict[date, dict[str, _Tally]] = {key: defaultdict(_Tally) for key in periods}
    totals: dict[date, _Tally] = {key: _Tally() for key in periods}
    book = await _rates(db, daily, target, start, end)
    for day, code, values in daily:
        key = period_start(day, period, start)
        for name, value in values.items():
            if name in COUNTS:
                tallies[key][code].counts[name] += value
                totals[key].counts[name] += value
            else:
                tallies[key][code].amounts[name] += value
                if target is not None and value:
                    totals[key].amounts[name] += book.convert(value, code, day, target)
    for key, code, active, paying in players:
        tally = tallies[key][code] if code is not None else totals[key]
        tally.active, tally.paying = int(active), int(paying)
    return [
        PeriodFigures(
            span.start,
            span.end,
            tuple(tallies[key][code].figures(code) for code in sorted(tallies[key])),
            totals[key].figures(target) if target is not None else None,
        )
        for key, span in periods.items()
    ]


async def _rates(
    db: AsyncSession, daily: Sequence[tuple[date, str, dict[str, int]]], target: str | None, start: date, end: date
) -> fx.RateBook:
    """The rates the conversion needs, refused up front (MissingRate) when one is not in force."""
    if target is None:
        return fx.RateBook()
    needed = {(code, day) for day, code, values in daily if any(values.values())}
    book = await fx.load_rates(db, {code for code, _ in needed} | {target}, start, end)
    book.require(needed, target)
    return book


# ---- registrations and first deposits ------------------------------------------------------------


@dataclass(frozen=True)
class RegistrationFigures:
    start: date
    end: date
    registrations: int
    depositors: int  # of the players registered in the period, those with a first deposit by `as_of`
    conversion: Decimal | None  # depositors / registrations
    ftd_count: int  # first deposits made in the period, whenever their players registered


# From the cohorts' days (rollups.py): registrations on each cohort's own day, first deposits on theirs.
_REGISTRATIONS = text(f"""
SELECT {bucket("registered_on")} AS period, sum(registered) AS registrations,
       sum(depositors) FILTER (WHERE day <= :as_of) AS depositors
FROM report_cohort_days WHERE {in_brands("brand_id")} AND registered_on BETWEEN :start AND :end
GROUP BY 1""")  # noqa: S608
_FTDS = text(f"""
SELECT {bucket("day")} AS period, sum(ftd_count) AS ftd_count
FROM report_cashier_days WHERE {in_brands("brand_id")} AND day BETWEEN :start AND :end
GROUP BY 1""")  # noqa: S608


async def registrations(
    db: AsyncSession,
    *,
    brands: Sequence[uuid.UUID] | None,
    start: date,
    end: date,
    period: Period = Period.DAY,
    as_of: date | None = None,
) -> list[RegistrationFigures]:
    """Registrations per period and their conversion to a first deposit made by `as_of` (default: the
    range's end), with the period's FTD count. Two queries."""
    periods = spans(start, end, period)
    params = {**_window(brands, start, end, period), "as_of": as_of or end}
    registered = {
        row.period: (int(row.registrations), int(row.depositors or 0))
        for row in await db.execute(_REGISTRATIONS, params)
    }
    ftds = {row.period: int(row.ftd_count) for row in await db.execute(_FTDS, params)}
    found = []
    for key, span in periods.items():
        count, depositors = registered.get(key, (0, 0))
        found.append(
            RegistrationFigures(span.start, span.end, count, depositors, ratio(depositors, count), ftds.get(key, 0))
        )
    return found


# ---- games ---------------------------------------------------------------------------------------

MAX_GAMES = 100


@dataclass(frozen=True)
class GameFigures:
    provider: str
    game: str
    currency: str  # the original currency, or the reporting currency everything was converted into
    turnover: int
    turnover_cash: int
    turnover_bonus: int
    wins: int
    ggr: int
    hold: Decimal | None
    bet_count: int
    win_count: int
    rollback_count: int


def _games_sql(*, by_day: bool) -> TextClause:
    day, grouped = ("day", ", day") if by_day else ("NULL::date AS day", "")
    return text(f"""
SELECT provider, game, currency, {day}, sum(stakes_cash) AS turnover_cash, sum(stakes_bonus) AS turnover_bonus,
       sum(wins_cash + wins_bonus) AS wins, sum(bet_count) AS bet_count, sum(win_count) AS win_count,
       sum(rollback_count) AS rollback_count
FROM report_game_days WHERE {in_brands("brand_id")} AND day BETWEEN :start AND :end
GROUP BY provider, game, currency{grouped}""")  # noqa: S608  (fixed fragments)


_GAMES, _GAMES_BY_DAY = _games_sql(by_day=False), _games_sql(by_day=True)
_GAME_AMOUNTS = ("turnover_cash", "turnover_bonus", "wins")
_GAME_COUNTS = ("bet_count", "win_count", "rollback_count")


async def game_figures(
    db: AsyncSession,
    *,
    brands: Sequence[uuid.UUID] | None,
    start: date,
    end: date,
    reporting_currency: str | None = None,
    limit: int = MAX_GAMES,
) -> list[GameFigures]:
    """The games with the highest GGR over the range: one row per provider, game and currency, or, with
    `reporting_currency`, per provider and game with every currency converted (day by day). At most
    `limit` (≤ 100) rows; two queries at most (the figures, then the rates)."""
    check_range(start, end)
    limit = max(1, min(limit, MAX_GAMES))
    target = currency_info(reporting_currency).code if reporting_currency else None
    statement = _GAMES if target is None else _GAMES_BY_DAY
    rows = (await db.execute(statement, _window(brands, start, end, Period.DAY))).mappings().all()
    daily = [(row["day"], row["currency"], {k: int(row[k]) for k in _GAME_AMOUNTS}) for row in rows]
    book = await _rates(db, daily, target, start, end)
    games: dict[tuple[str, str, str], _Tally] = defaultdict(_Tally)
    for row, (day, code, amounts) in zip(rows, daily, strict=True):
        tally = games[(row["provider"], row["game"], target or code)]
        for name, value in amounts.items():
            tally.amounts[name] += book.convert(value, code, day, target) if target else value
        for name in _GAME_COUNTS:
            tally.counts[name] += int(row[name])
    ranked = sorted(
        (_game(key, tally) for key, tally in games.items()), key=lambda g: (-g.ggr, g.provider, g.game, g.currency)
    )
    return ranked[:limit]


def _game(key: tuple[str, str, str], tally: _Tally) -> GameFigures:
    money = tally.figures(key[2])
    return GameFigures(
        provider=key[0],
        game=key[1],
        currency=key[2],
        turnover=money.turnover,
        turnover_cash=money.turnover_cash,
        turnover_bonus=money.turnover_bonus,
        wins=money.wins,
        ggr=money.ggr,
        hold=money.hold,
        bet_count=tally.counts["bet_count"],
        win_count=tally.counts["win_count"],
        rollback_count=tally.counts["rollback_count"],
    )
