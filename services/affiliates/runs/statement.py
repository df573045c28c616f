"""A run's statement from its inputs, with no database: player days under the deal in force each day, the
deals' sums (services/affiliates/runs/maths.py), CPA lines and second-tier lines.

A player's days are split by the deal in force on each day (the deal with the latest `effective_from` on or
before it; days before a partner's first deal earn nothing and are left out), so a deal change mid-period
gives the player one line per deal. A CPA goes on the line of the deal it qualified under (a line with no
play of its own when the player did not play under that deal in the period).
"""

from __future__ import annotations

import bisect
import uuid
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from services.affiliates.runs import maths
from services.affiliates.runs.terms import PlanTerms


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
    terms: PlanTerms


@dataclass(frozen=True)
class Cpa:
    player_id: uuid.UUID
    affiliate_id: uuid.UUID
    sub_id: str | None
    deal_id: uuid.UUID
    amount: int
    currency: str


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


def build(
    *,
    days: Iterable[PlayerDay],
    timeline: Timeline,
    carries: Mapping[tuple[uuid.UUID, str], int],
    cpas: Iterable[Cpa],
    parents: Mapping[uuid.UUID, uuid.UUID | None],
    period_end: date,
) -> Statement:
    lines: dict[tuple[uuid.UUID, uuid.UUID, str], Line] = {}  # (player, deal, currency)
    for day in days:
        deal = timeline.in_force(day.affiliate_id, day.day)
        if deal is None:
            continue
        line = _line(lines, day.player_id, deal, day.currency, day.sub_id)
        line.first_day = min(line.first_day or day.day, day.day)
        line.last_day = max(line.last_day or day.day, day.day)
        line.stakes += day.stakes
        line.wins += day.wins
        line.bonus_cost += day.bonus_cost
        line.ngr += day.stakes - day.wins - day.bonus_cost
    statement = Statement()
    _settle_deals(statement, list(lines.values()), timeline, carries)
    for cpa in cpas:
        fresh = (cpa.player_id, cpa.deal_id, cpa.currency) not in lines
        line = _line(lines, cpa.player_id, timeline.by_id[cpa.deal_id], cpa.currency, cpa.sub_id)
        if fresh:  # no play under that deal in the period: a line for the CPA alone
            statement.lines.append(line)
        line.cpa, line.cpa_amount = True, cpa.amount
    statement.lines.extend(_second_tier(statement.lines, timeline, parents, period_end))
    return statement


def _line(
    lines: dict[tuple[uuid.UUID, uuid.UUID, str], Line], player: uuid.UUID, deal: Deal, currency: str, sub: str | None
) -> Line:
    key = (player, deal.id, currency)
    if key not in lines:
        lines[key] = Line(deal.affiliate_id, "player", currency, player, None, deal.id, deal.plan_id, sub)
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


def _second_tier(
    lines: Sequence[Line], timeline: Timeline, parents: Mapping[uuid.UUID, uuid.UUID | None], period_end: date
) -> list[Line]:
    """A parent's share of each sub-partner's commission (revenue share and CPA, not the sub-partner's own
    second tier: one level only), at the rate of the parent's deal in force on the period's last day."""
    earned: dict[tuple[uuid.UUID, str], int] = defaultdict(int)
    for line in lines:
        if line.kind == "player":
            earned[(line.affiliate_id, line.currency)] += line.revshare + line.cpa_amount
    found = []
    for (sub, currency), commission in sorted(earned.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        parent = parents.get(sub)
        deal = timeline.in_force(parent, period_end) if parent else None
        if parent is None or deal is None or commission <= 0 or not deal.terms.second_tier_ppm:
            continue
        ppm = deal.terms.second_tier_ppm
        found.append(
            Line(
                parent,
                "second_tier",
                currency,
                sub_affiliate_id=sub,
                deal_id=deal.id,
                plan_id=deal.plan_id,
                second_tier_base=commission,
                second_tier=maths.second_tier_of(commission, ppm),
                rate_ppm=ppm,
            )
        )
    return found
