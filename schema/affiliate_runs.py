"""Commission run types, inputs and payloads (docs/affiliate-commissions.md). Finance makes, approves, books and
pays runs; affiliate managers read them; partners read their own commissions in the portal
(schema/affiliate_portal.py)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry

from models import affiliate_runs as m
from schema.base import Money, UserError, to_global_id
from schema.input_limits import REASON, text

strawberry.enum(m.RunState, name="AffiliateRunState")
strawberry.enum(m.PayoutStatus, name="AffiliatePayoutStatus")
AffiliateRunState = m.RunState
AffiliatePayoutStatus = m.PayoutStatus


def _id(type_name: str, value: object | None) -> strawberry.ID | None:
    return None if value is None else strawberry.ID(str(to_global_id(type_name, str(value))))


@strawberry.type(description="A run's total in one currency.")
class AffiliateRunTotal:
    total: Money
    lines: int


@strawberry.type(description="One deal's period in a run: NGR, carry-over in and out, the tier and rate reached.")
class AffiliateRunDeal:
    affiliate_id: strawberry.ID
    deal_id: strawberry.ID
    plan_id: strawberry.ID
    negative_carry_over: bool
    ngr: Money
    carry_in: Money = strawberry.field(description="The deal's negative balance from its previous run (≤ 0).")
    base: Money = strawberry.field(description="NGR + carry-over in: what the rate applies to.")
    revshare: Money
    carry_out: Money = strawberry.field(description="What the next run carries in (≤ 0).")
    tier: int | None = strawberry.field(description="Index of the tier reached (from 0); null for a flat rate.")
    rate_ppm: int | None

    @classmethod
    def from_model(cls, row: m.AffiliateRunDeal) -> AffiliateRunDeal:
        c = row.currency
        return cls(
            affiliate_id=strawberry.ID(str(to_global_id("Affiliate", row.affiliate_id))),
            deal_id=strawberry.ID(str(to_global_id("AffiliateDeal", row.deal_id))),
            plan_id=strawberry.ID(str(to_global_id("AffiliatePlan", row.plan_id))),
            negative_carry_over=row.negative_carry_over,
            ngr=Money.of(row.ngr, c),
            carry_in=Money.of(row.carry_in, c),
            base=Money.of(row.base, c),
            revshare=Money.of(row.revshare, c),
            carry_out=Money.of(row.carry_out, c),
            tier=row.tier,
            rate_ppm=row.rate_ppm,
        )


@strawberry.type(description="One line of a run: a player under one deal (or a parent's second tier), with the "
                 "figures behind it.")  # fmt: skip
class AffiliateRunLine:
    kind: str = strawberry.field(description="player | second_tier")
    affiliate_id: strawberry.ID
    player_id: strawberry.ID | None
    sub_affiliate_id: strawberry.ID | None = strawberry.field(description="Second tier: the sub-partner it is on.")
    deal_id: strawberry.ID | None
    sub_id: str | None
    first_day: date | None
    last_day: date | None
    stakes: Money = strawberry.field(description="In the player's currency (`playerCurrency` when converted).")
    wins: Money
    bonus_cost: Money
    ngr: Money = strawberry.field(
        description="In the line's currency: converted, (stakes - wins - bonusCost) times fxRate, half to even."
    )
    player_currency: str | None = strawberry.field(
        description="The player's currency when it is not the plan's (its NGR converted at fxRate); else null."
    )
    fx_rate: str | None = strawberry.field(
        description="The reference rate the NGR was converted at: the line's currency per unit of playerCurrency."
    )
    tier: int | None
    rate_ppm: int | None
    revshare: Money
    cpa: bool
    cpa_amount: Money
    second_tier_base: Money
    second_tier: Money
    total: Money

    @classmethod
    def from_model(cls, row: m.AffiliateRunLine) -> AffiliateRunLine:
        c = row.currency
        played = row.player_currency or c
        return cls(
            kind=row.kind,
            affiliate_id=strawberry.ID(str(to_global_id("Affiliate", row.affiliate_id))),
            player_id=_id("Player", row.player_id),
            sub_affiliate_id=_id("Affiliate", row.sub_affiliate_id),
            deal_id=_id("AffiliateDeal", row.deal_id),
            sub_id=row.sub_id,
            first_day=row.first_day,
            last_day=row.last_day,
            stakes=Money.of(row.stakes, played),
            wins=Money.of(row.wins, played),
            bonus_cost=Money.of(row.bonus_cost, played),
            ngr=Money.of(row.ngr, c),
            player_currency=row.player_currency,
            fx_rate=None if row.fx_rate is None else str(row.fx_rate),
            tier=row.tier,
            rate_ppm=row.rate_ppm,
            revshare=Money.of(row.revshare, c),
            cpa=row.cpa,
            cpa_amount=Money.of(row.cpa_amount, c),
            second_tier_base=Money.of(row.second_tier_base, c),
            second_tier=Money.of(row.second_tier, c),
            total=Money.of(row.total, c),
        )


@strawberry.type(description="What a booked run owes one partner in one currency, and its payout.")
class AffiliatePayout:
    id: strawberry.ID
    affiliate_id: strawberry.ID
    amount: Money
    status: AffiliatePayoutStatus
    psp: str | None
    psp_reference: str | None
    failure: str | None
    paid_at: datetime | None

    @classmethod
    def from_model(cls, row: m.AffiliatePayout) -> AffiliatePayout:
        return cls(
            id=strawberry.ID(str(to_global_id("AffiliatePayout", row.id))),
            affiliate_id=strawberry.ID(str(to_global_id("Affiliate", row.affiliate_id))),
            amount=Money.of(row.amount, row.currency),
            status=m.PayoutStatus(row.status),
            psp=row.psp,
            psp_reference=row.psp_reference,
            failure=row.failure,
            paid_at=row.paid_at,
        )


@strawberry.type(description="A commission run of one brand over one period.")
class AffiliateRun:
    id: strawberry.ID
    brand_id: strawberry.ID
    period_start: date
    period_end: date
    state: AffiliateRunState
    created_at: datetime
    approved_at: datetime | None
    booked_at: datetime | None
    paid_at: datetime | None
    totals: list[AffiliateRunTotal]
    deals: list[AffiliateRunDeal] = strawberry.field(description="Only on `affiliateRun` (empty in lists).")
    payouts: list[AffiliatePayout] = strawberry.field(description="Only on `affiliateRun` (empty in lists).")

    @classmethod
    def from_model(
        cls,
        row: m.AffiliateRun,
        totals: list[tuple[str, int, int]],
        deals: list[m.AffiliateRunDeal] | None = None,
        payouts: list[m.AffiliatePayout] | None = None,
    ) -> AffiliateRun:
        return cls(
            id=strawberry.ID(str(to_global_id("AffiliateRun", row.id))),
            brand_id=strawberry.ID(str(to_global_id("Brand", row.brand_id))),
            period_start=row.period_start,
            period_end=row.period_end,
            state=m.RunState(row.state),
            created_at=row.created_at,
            approved_at=row.approved_at,
            booked_at=row.booked_at,
            paid_at=row.paid_at,
            totals=[AffiliateRunTotal(total=Money.of(total, c), lines=n) for c, total, n in totals],
            deals=[AffiliateRunDeal.from_model(d) for d in deals or []],
            payouts=[AffiliatePayout.from_model(p) for p in payouts or []],
        )


@strawberry.input
class CreateAffiliateRunInput:
    brand_id: strawberry.ID | None = strawberry.field(default=None, description="Global staff: the brand.")
    from_: date | None = strawberry.field(default=None, name="from", description="Default: last calendar month.")
    to: date | None = None


@strawberry.input
class AffiliateRunActionInput:
    run_id: strawberry.ID
    reason: str | None = text(REASON, default=None)


@strawberry.type
class AffiliateRunPayload:
    run: AffiliateRun | None = None
    awaiting_second_approval: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)
