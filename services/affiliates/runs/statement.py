"""A run's statement from its inputs, with no database: player days under the deal in force each day, the
deals' sums (services/affiliates/runs/maths.py), CPA lines and second-tier lines.

A player's days are split by the deal in force on each day (the deal with the latest `effective_from` on or
before it; days before a partner's first deal earn nothing and are left out), so a deal change mid-period
gives the player one line per deal. A CPA goes on the line of the deal it qualified under (a line with no
play of its own when the player did not play under that deal in the period).

Currencies: a deal with a revenue share earns it on NGR in its plan's currency. A day a player plays in another
currency is converted with the reports' reference rates (services/reports/fx.py) in force on that day, and the
rate is recorded on the line: the player's days under one deal in one currency at one rate make one line,
whose `stakes`, `wins` and `bonus_cost` stay in the player's currency (`player_currency`) and whose `ngr` is
their NGR times `fx_rate` (plan currency per unit of the player's, 10 decimals), rounded half to even to the
plan currency's minor unit — what the partner re-computes from the line. Everything after (the deal's NGR, its
carry-over, the revenue share) is in the plan's currency, so another currency's NGR is neither dropped nor
mixed in unconverted. A deal with no revenue share (CPA only) keeps its lines in the player's currency.

Second tier: a parent earns on a sub-partner's commission at the rate of the parent's deal in force on the day
the commission was earned, never a later deal's: a line's revenue share is split over the parent's deals in
force on the line's days by those days' positive NGR (a losing day made none of it; a line with no winning day
goes to the parent's deal of its last day), a CPA goes to the day it qualified. One second-tier line per
parent deal, sub-partner and currency, its `first_day` and `last_day` the days of the period that deal governs.
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from fractions import Fraction

from core.money import CURRENCIES
from services.affiliates.plans import Terms
from services.affiliates.runs import maths
from services.reports.fx import RateBook

FX_PLACES = Decimal("1e-10")


@dataclass(frozen=True)
class PlayerDay:
    player_id: uuid.UUID
    affiliate_id: uuid.UUID
    sub_id: str | None
    day: date
    currency: str
    stakes: int
    wins: int
    bonus_cost: int


@dataclass(frozen=True)
class Deal:
    id: uuid.UUID
    affiliate_id: uuid.UUID
    plan_id: uuid.UUID
    effective_from: date
    negative_carry_over: bool
    plan_currency: str
    terms: Terms


@dataclass(frozen=True)
class Cpa:
    player_id: uuid.UUID
    affiliate_id: uuid.UUID
    sub_id: str | None
    deal_id: uuid.UUID
    amount: int
    currency: str
    qualified_on: date


@dataclass
class Line:
    affiliate_id: uuid.UUID
    kind: str  # player | second_tier
    currency: str
    player_id: uuid.UUID | None = None
    sub_affiliate_id: uuid.UUID | None = None
    deal_id: uuid.UUID | None = None
    plan_id: uuid.UUID | None = None
    sub_id: str | None = None
    first_day: date | None = None
    last_day: date | None = None
    stakes: int = 0
    wins: int = 0
    bonus_cost: int = 0
    ngr: int = 0
    revshare: int = 0
    cpa: bool = False
    cpa_amount: int = 0
    second_tier_base: int = 0
    second_tier: int = 0
    tier: int | None = None
    rate_ppm: int | None = None
    player_currency: str | None = None  # stakes, wins and bonus cost in it; None: in `currency`
    fx_rate: Decimal | None = None  # `currency` per unit of `player_currency`
    days_ngr: dict[date, int] = field(default_factory=dict, repr=False)  # not stored: the second tier's weights
    cpa_day: date | None = field(default=None, repr=False)

    @property
    def total(self) -> int:
        return self.revshare + self.cpa_amount + self.second_tier


@dataclass(frozen=True)
class DealRow:
    deal: Deal
    currency: str
    sums: maths.DealSums


@dataclass
class Statement:
    deals: list[DealRow] = field(default_factory=list)
    lines: list[Line] = field(default_factory=list)

    def totals(self) -> dict[tuple[uuid.UUID, str], int]:
        """What each partner earns, per currency."""
        found: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
        for line in self.lines:
            found[(line.affiliate_id, line.currency)] += line.total
        return dict(found)


class Timeline:
    """Each partner's deals on the brand, by date: the deal in force on a day."""

    def __init__(self, deals: Iterable[Deal]) -> None:
        self.by_id = {deal.id: deal for deal in deals}
        self._of: dict[uuid.UUID, list[Deal]] = defaultdict(list)
        for deal in sorted(self.by_id.values(), key=lambda d: d.effective_from):
            self._of[deal.affiliate_id].append(deal)

    def in_force(self, affiliate_id: uuid.UUID, on: date) -> Deal | None:
        deals = self._of.get(affiliate_id, [])
        at = bisect.bisect_right([d.effective_from for d in deals], on)
        return deals[at - 1] if at else None

    def span(self, deal: Deal, start: date, end: date) -> tuple[date, date]:
        """The days from `start` to `end` the deal governs."""
        later = [d.effective_from for d in self._of[deal.affiliate_id] if d.effective_from > deal.effective_from]
        return max(start, deal.effective_from), min(end, min(later) - timedelta(days=1)) if later else end


def fx_rate(rates: RateBook, currency: str, day: date, target: str) -> Decimal:
    """Units of `target` per unit of `currency` on `day` (the reference rates' cross rate, 10 decimals): the rate
    a line records and converts by (after `RateBook.require`)."""
    source, wanted = rates.rate(currency, day), rates.rate(target, day)
    assert source is not None
    assert wanted is not None
    cross = wanted / source
    return (Decimal(cross.numerator) / Decimal(cross.denominator)).quantize(FX_PLACES)


def converted(minor: int, rate: Decimal, currency: str, target: str) -> int:
    """`minor` units of `currency` in minor units of `target` at `rate`, rounded half to even."""
    exponents = CURRENCIES[target].exponent - CURRENCIES[currency].exponent
    return round(Fraction(minor) * Fraction(rate) * Fraction(10) ** exponents)


def build(
    *,
    days: Iterable[PlayerDay],
    timeline: Timeline,
    carries: Mapping[tuple[uuid.UUID, str], int],
    cpas: Iterable[Cpa],
    parents: Mapping[uuid.UUID, uuid.UUID | None],
    period_start: date,
    period_end: date,
    rates: RateBook | None = None,
) -> Statement:
    """The statement (see the module's docstring); refuses with fx.MissingRate when a day needs a rate never
    imported."""
    placed = [(day, deal) for day in days if (deal := timeline.in_force(day.affiliate_id, day.day)) is not None]
    foreign = [(day, deal) for day, deal in placed if deal.terms.revshare and day.currency != deal.plan_currency]
    book = rates or RateBook()
    for target in sorted({deal.plan_currency for _, deal in foreign}):
        book.require([(day.currency, day.day) for day, deal in foreign if deal.plan_currency == target], target)
    lines: dict[tuple[uuid.UUID, uuid.UUID, str, Decimal | None], Line] = {}  # (player, deal, currency, rate)
    for day, deal in placed:
        rate = None
        if deal.terms.revshare and day.currency != deal.plan_currency:
            rate = fx_rate(book, day.currency, day.day, deal.plan_currency)
        line = _line(lines, day.player_id, deal, day.currency, rate, day.sub_id)
        line.first_day = min(line.first_day or day.day, day.day)
        line.last_day = max(line.last_day or day.day, day.day)
        line.stakes += day.stakes
        line.wins += day.wins
        line.bonus_cost += day.bonus_cost
        line.ngr += day.stakes - day.wins - day.bonus_cost
        line.days_ngr[day.day] = line.days_ngr.get(day.day, 0) + day.stakes - day.wins - day.bonus_cost
    for line in lines.values():
        if line.fx_rate is not None and line.player_currency is not None:
            line.ngr = converted(line.ngr, line.fx_rate, line.player_currency, line.currency)
    statement = Statement()
    _settle_deals(statement, list(lines.values()), timeline, carries)
    for cpa in cpas:
        found = [
            line for line in lines.values()
            if (line.player_id, line.deal_id, line.currency) == (cpa.player_id, cpa.deal_id, cpa.currency)
        ]  # fmt: skip
        line = found[0] if found else _line(lines, cpa.player_id, timeline.by_id[cpa.deal_id], cpa.currency, None,
                                            cpa.sub_id)  # fmt: skip
        if not found:  # no play under that deal in the period: a line for the CPA alone
            statement.lines.append(line)
        line.cpa, line.cpa_amount, line.cpa_day = True, cpa.amount, cpa.qualified_on
    statement.lines.extend(_second_tier(statement.lines, timeline, parents, period_start, period_end))
    return statement


def _line(
    lines: dict[tuple[uuid.UUID, uuid.UUID, str, Decimal | None], Line],
    player: uuid.UUID,
    deal: Deal,
    currency: str,
    rate: Decimal | None,
    sub: str | None,
) -> Line:
    key = (player, deal.id, currency, rate)
    if key not in lines:
        line = Line(deal.affiliate_id, "player", currency, player, None, deal.id, deal.plan_id, sub)
        if rate is not None:
            line.currency, line.player_currency, line.fx_rate = deal.plan_currency, currency, rate
        lines[key] = line
    return lines[key]


def _settle_deals(
    statement: Statement, lines: Sequence[Line], timeline: Timeline, carries: Mapping[tuple[uuid.UUID, str], int]
) -> None:
    """Each (deal, currency) of the lines, and each deal with a carry-over still open, settled; its revenue
    share split over its lines."""
    grouped: dict[tuple[uuid.UUID, str], list[Line]] = defaultdict(list)
    for line in lines:
        assert line.deal_id is not None
        grouped[(line.deal_id, line.currency)].append(line)
    for key, carried in carries.items():
        if carried < 0 and key[0] in timeline.by_id:
            grouped.setdefault(key, [])
    for (deal_id, currency), group in sorted(grouped.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        deal = timeline.by_id[deal_id]
        revshare = deal.terms.revshare if currency == deal.plan_currency else None
        sums = maths.settle_deal(
            revshare,
            ngr=sum(line.ngr for line in group),
            carry_in=carries.get((deal_id, currency), 0),
            negative_carry_over=deal.negative_carry_over,
        )
        statement.deals.append(DealRow(deal, currency, sums))
        for line, share in zip(group, maths.allocate(sums.revshare, [line.ngr for line in group]), strict=True):
            line.revshare, line.tier, line.rate_ppm = share, sums.tier, sums.rate_ppm
        statement.lines.extend(group)


def _by_parent_deal(line: Line, parent: uuid.UUID, timeline: Timeline) -> dict[uuid.UUID | None, int]:
    """A player line's commission split over the parent's deals in force when it was earned (None: days the
    parent had no deal)."""
    earned: dict[uuid.UUID | None, int] = defaultdict(int)

    def deal_on(day: date) -> uuid.UUID | None:
        deal = timeline.in_force(parent, day)
        return deal.id if deal else None

    if line.revshare:
        weights: dict[uuid.UUID | None, int] = defaultdict(int)
        for day, ngr in sorted(line.days_ngr.items()):
            weights[deal_on(day)] += max(ngr, 0)
        if not any(weights.values()) and line.last_day is not None:
            weights = {deal_on(line.last_day): 1}
        keys = list(weights)
        for key, share in zip(keys, maths.allocate(line.revshare, [weights[k] for k in keys]), strict=True):
            earned[key] += share
    if line.cpa_amount and line.cpa_day is not None:
        earned[deal_on(line.cpa_day)] += line.cpa_amount
    return earned


def _second_tier(
    lines: Sequence[Line],
    timeline: Timeline,
    parents: Mapping[uuid.UUID, uuid.UUID | None],
    period_start: date,
    period_end: date,
) -> list[Line]:
    """A parent's share of each sub-partner's commission (revenue share and CPA, not the sub-partner's own
    second tier: one level only), at the rate of the parent's deal in force when it was earned."""
    earned: dict[tuple[uuid.UUID, str, uuid.UUID], int] = defaultdict(int)
    for line in lines:
        parent = parents.get(line.affiliate_id)
        if line.kind != "player" or parent is None:
            continue
        for deal_id, amount in _by_parent_deal(line, parent, timeline).items():
            if deal_id is not None:
                earned[(line.affiliate_id, line.currency, deal_id)] += amount
    found = []
    for (sub, currency, deal_id), commission in sorted(earned.items(), key=lambda kv: tuple(map(str, kv[0]))):
        deal = timeline.by_id[deal_id]
        if commission <= 0 or not deal.terms.second_tier_ppm:
            continue
        ppm = deal.terms.second_tier_ppm
        first, last = timeline.span(deal, period_start, period_end)
        found.append(
            Line(
                deal.affiliate_id,
                "second_tier",
                currency,
                sub_affiliate_id=sub,
                deal_id=deal.id,
                plan_id=deal.plan_id,
                first_day=first,
                last_day=last,
                second_tier_base=commission,
                second_tier=maths.second_tier_of(commission, ppm),
                rate_ppm=ppm,
            )
        )
    return found
