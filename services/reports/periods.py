"""What every report query shares: periods (day, ISO week, calendar month, or the whole range as one),
the range asked for, the brands a viewer's reports cover, and ratios."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from fractions import Fraction

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode

MAX_DAYS = 3 * 366  # the longest range one report covers
RATIO_PLACES = Decimal("0.0001")  # ratios (hold, conversion, retention) to 1/100 of a percent


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"  # ISO weeks, Monday to Sunday
    MONTH = "month"
    # The whole range as one period: its totals, with a player active on several days counted once
    # (summing the days' figures would count them again).
    RANGE = "range"


@dataclass(frozen=True)
class Span:
    """One period of a report, clipped to the range asked for (a range starting on a Wednesday has a
    first week from that Wednesday)."""

    start: date
    end: date


def period_start(day: date, period: Period, range_start: date) -> date:
    """The first day of the period `day` falls in; for RANGE, the range's own first day."""
    if period == Period.RANGE:
        return range_start
    if period == Period.WEEK:
        return day - timedelta(days=day.weekday())
    if period == Period.MONTH:
        return day.replace(day=1)
    return day


def _next_start(start: date, period: Period, end: date) -> date:
    if period == Period.RANGE:
        return end + timedelta(days=1)
    if period == Period.WEEK:
        return start + timedelta(days=7)
    if period == Period.MONTH:
        return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return start + timedelta(days=1)


def spans(start: date, end: date, period: Period) -> dict[date, Span]:
    """Every period from `start` to `end` (inclusive), keyed by the period's own first day."""
    check_range(start, end)
    found: dict[date, Span] = {}
    key = period_start(start, period, start)
    while key <= end:
        following = _next_start(key, period, end)
        found[key] = Span(max(key, start), min(following - timedelta(days=1), end))
        key = following
    return found


def check_range(start: date, end: date) -> None:
    if end < start:
        raise DomainError("The range ends before it starts.", field="end", code=ErrorCode.INVALID_INPUT)
    if (end - start).days >= MAX_DAYS:
        raise DomainError(f"A report covers at most {MAX_DAYS} days.", field="end", code=ErrorCode.INVALID_INPUT)


def ratio(part: int | Fraction, whole: int | Fraction) -> Decimal | None:
    """`part / whole` to four decimal places (half to even); None when `whole` is zero."""
    if not whole:
        return None
    exact = Fraction(part) / Fraction(whole)
    return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(RATIO_PLACES, ROUND_HALF_EVEN)


def brands_of(viewer: Viewer) -> list[uuid.UUID] | None:
    """The brands a viewer's reports cover: staff the brand their request is scoped to, global staff and
    the platform every brand (None); anyone else none."""
    if viewer.is_staff or viewer.kind == "system":
        return None if viewer.brand_id is None else [viewer.brand_id]
    return []


def in_brands(column: str) -> str:
    """The SQL filter of a `:brands` parameter (None: every brand)."""
    return f"(CAST(:brands AS uuid[]) IS NULL OR {column} = ANY(CAST(:brands AS uuid[])))"


def bucket(column: str) -> str:
    """The SQL first day of the `:period` a date column falls in (as `period_start`: `:start` for RANGE,
    whose branch PostgreSQL takes without ever evaluating date_trunc on 'range')."""
    return (
        "CASE WHEN CAST(:period AS text) = 'range' THEN CAST(:start AS date) "
        f"ELSE date_trunc(CAST(:period AS text), {column}::timestamp)::date END"
    )
