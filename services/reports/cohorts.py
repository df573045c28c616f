"""Registration cohorts: retention on day n and lifetime value (docs/reports.md).

A cohort is the players registered in one period (day, ISO week or calendar month) of the range asked
for; each player's day n counts from their own registration day. Figures are as of a day `as_of`
(default: today's UTC day at the caller): a player whose day n is after it is not yet counted for Dn.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, ErrorCode
from core.money import currency as currency_info
from services.reports import fx
from services.reports.periods import Period, bucket, in_brands, period_start, ratio, spans

RETENTION_DAYS = (1, 7, 30)
MAX_RETENTION_DAY = 366


@dataclass(frozen=True)
class Retention:
    day: int  # n: the n-th day after registration
    eligible: int  # players of the cohort whose day n has come (on or before `as_of`)
    retained: int  # of them, those active (a bet) on their day n
    rate: Decimal | None  # retained / eligible


@dataclass(frozen=True)
class Cohort:
    start: date
    end: date
    size: int  # players registered in the period
    retention: tuple[Retention, ...]


# From the cohorts' days (rollups.py): each registration day's size (on its own day) and its players
# active on each day n asked for.
_RETENTION = text(f"""
SELECT registered_on, day - registered_on AS n, sum(registered) AS registered, sum(active) AS active
FROM report_cohort_days
WHERE {in_brands("brand_id")} AND registered_on BETWEEN :start AND :end
  AND (day = registered_on OR day - registered_on = ANY(CAST(:days AS integer[])))
GROUP BY 1, 2""")  # noqa: S608  (a fixed filter)


async def retention(
    db: AsyncSession,
    *,
    brands: Sequence[uuid.UUID] | None,
    start: date,
    end: date,
    as_of: date,
    period: Period = Period.DAY,
    days: Sequence[int] = RETENTION_DAYS,
) -> list[Cohort]:
    """Dn retention (default D1, D7, D30; any n from 1 to 366) of the cohorts registered from `start` to
    `end`. One query."""
    periods = spans(start, end, period)
    wanted = sorted(set(days))
    if not wanted or wanted[0] < 1 or wanted[-1] > MAX_RETENTION_DAY:
        raise DomainError(
            f"Retention days are from 1 to {MAX_RETENTION_DAY}.", field="days", code=ErrorCode.INVALID_INPUT
        )
    params = {
        "brands": list(brands) if brands is not None else None,
        "start": start,
        "end": end,
        "as_of": as_of,
        "days": wanted,
    }
    rows = [
        (row.registered_on, int(row.n), int(row.registered), int(row.active))
        for row in await db.execute(_RETENTION, params)
    ]
    sizes = {registered_on: size for registered_on, n, size, _ in rows if n == 0}
    size: dict[date, int] = defaultdict(int)
    eligible: dict[tuple[date, int], int] = defaultdict(int)
    retained: dict[tuple[date, int], int] = defaultdict(int)
    for registered_on, joined in sizes.items():
        cohort = period_start(registered_on, period, start)
        size[cohort] += joined
        for n in wanted:
            if registered_on + timedelta(days=n) <= as_of:  # their day n has come
                eligible[(cohort, n)] += joined
    for registered_on, n, _, active in rows:
        if n in wanted and registered_on + timedelta(days=n) <= as_of:
            retained[(period_start(registered_on, period, start), n)] += active
    return [
        Cohort(
            span.start,
            span.end,
            size[key],
            tuple(
                Retention(n, eligible[(key, n)], retained[(key, n)], ratio(retained[(key, n)], eligible[(key, n)]))
                for n in wanted
            ),
        )
        for key, span in periods.items()
    ]


@dataclass(frozen=True)
class CohortValue:
    start: date
    end: date
    size: int  # players registered in the period (depositors or not)
    ngr_by_currency: dict[str, int]  # the cohort's NGR from registration to `as_of`, per currency
    ltv_by_currency: dict[str, int]  # that divided by the cohort's size
    ngr: int | None  # everything in the reporting currency (None: not asked)
    ltv: int | None  # ngr / size (None: not asked, or nobody registered)


_SIZES = text(f"""
SELECT {bucket("registered_on")} AS cohort, sum(registered) AS size
FROM report_cohort_days WHERE {in_brands("brand_id")} AND registered_on BETWEEN :start AND :end AND day = registered_on
GROUP BY 1""")  # noqa: S608
_VALUE = text(f"""
SELECT {bucket("registered_on")} AS cohort, day, currency, sum(ngr) AS ngr
FROM report_cohort_ngr WHERE {in_brands("brand_id")} AND registered_on BETWEEN :start AND :end AND day <= :as_of
GROUP BY 1, 2, 3""")  # noqa: S608


async def lifetime_value(
    db: AsyncSession,
    *,
    brands: Sequence[uuid.UUID] | None,
    start: date,
    end: date,
    as_of: date,
    period: Period = Period.MONTH,
    reporting_currency: str | None = None,
) -> list[CohortValue]:
    """LTV of the cohorts registered from `start` to `end`: their cumulative NGR up to `as_of` per
    registered player, per currency and, with `reporting_currency`, converted day by day. Two queries
    and the rates."""
    periods = spans(start, end, period)
    target = currency_info(reporting_currency).code if reporting_currency else None
    params = {
        "brands": list(brands) if brands is not None else None,
        "start": start,
        "end": end,
        "period": period.value,
        "as_of": as_of,
    }
    sizes = {row.cohort: int(row.size) for row in await db.execute(_SIZES, params)}
    rows = [(row.cohort, row.day, row.currency, int(row.ngr)) for row in await db.execute(_VALUE, params)]
    book = fx.RateBook()
    if target is not None and rows:
        needed = {(code, day) for _, day, code, ngr in rows if ngr}
        first = min(day for _, day, _, _ in rows)
        book = await fx.load_rates(db, {code for code, _ in needed} | {target}, first, as_of)
        book.require(needed, target)
    by_currency: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    converted: dict[date, Fraction] = defaultdict(Fraction)
    for cohort, day, code, ngr in rows:
        by_currency[cohort][code] += ngr
        if target is not None and ngr:
            converted[cohort] += book.convert(ngr, code, day, target)
    values = []
    for key, span in periods.items():
        size = sizes.get(key, 0)
        in_currency = dict(sorted(by_currency[key].items()))
        total = fx.rounded(converted[key]) if target is not None else None
        values.append(
            CohortValue(
                span.start,
                span.end,
                size,
                in_currency,
                {code: fx.rounded(Fraction(amount, size)) for code, amount in in_currency.items()} if size else {},
                total,
                fx.rounded(converted[key] / size) if target is not None and size else None,
            )
        )
    return values
