"""Affiliate plans and deals (docs/affiliate-plans.md): staff make commission plans (CPA, revenue share, hybrid;
never edited) and put partners on them per brand from a date on (never retroactive). Money in inputs is a
decimal string in the plan's currency; rates are parts per million (25 % = 250000)."""

from __future__ import annotations

from datetime import date, datetime

import strawberry
from strawberry import relay

from models.affiliates import PlanKind
from schema.base import Money, UserError
from schema.input_limits import REASON, TITLE, text
from services.affiliates.deals import Deal
from services.affiliates.plan_store import Plan
from services.affiliates.plans import RevShareKind

strawberry.enum(PlanKind, name="AffiliatePlanKind", description="cpa, revshare, or hybrid (both).")
strawberry.enum(
    RevShareKind,
    name="AffiliateRevshareKind",
    description="flat: one rate; tiered: each slice of NGR at its tier's rate; ladder: all NGR at the tier reached.",
)
AffiliatePlanKind = PlanKind
AffiliateRevshareKind = RevShareKind


@strawberry.type(description="A CPA: paid once for a player whose first deposit and wagering meet the rule in time.")
class AffiliateCpaTerms:
    amount: Money
    min_first_deposit: Money
    min_wagering: Money = strawberry.field(description="Cash staked, net of rollbacks.")
    within_days: int = strawberry.field(description="Both met within this many days of registration.")


@strawberry.type(description="A tier of a revenue share: its rate from an NGR in the period on.")
class AffiliateRevshareTier:
    from_ngr: Money
    rate_ppm: int


@strawberry.type(description="A revenue share of the NGR of the partner's players (a flat one has one tier).")
class AffiliateRevshareTerms:
    kind: AffiliateRevshareKind
    tiers: list[AffiliateRevshareTier]


@strawberry.type(description="A commission plan. Never edited: new terms are a new plan, taken up by a new deal.")
class AffiliatePlan(relay.Node):
    id: relay.NodeID[str]
    code: str
    name: str
    kind: AffiliatePlanKind
    currency: str
    cpa: AffiliateCpaTerms | None
    revshare: AffiliateRevshareTerms | None
    second_tier_ppm: int = strawberry.field(description="What a parent partner earns on this partner's commission.")
    created_at: datetime

    @classmethod
    def of(cls, plan: Plan) -> AffiliatePlan:
        terms, cur = plan.terms, plan.currency
        cpa = terms.cpa
        rev = terms.revshare
        return cls(
            id=str(plan.id),
            code=plan.code,
            name=plan.name,
            kind=terms.kind,
            currency=cur,
            cpa=AffiliateCpaTerms(
                amount=Money.of(cpa.amount, cur),
                min_first_deposit=Money.of(cpa.qualification.min_first_deposit, cur),
                min_wagering=Money.of(cpa.qualification.min_wagering, cur),
                within_days=cpa.qualification.within_days,
            )
            if cpa
            else None,
            revshare=AffiliateRevshareTerms(
                kind=rev.kind,
                tiers=[
                    AffiliateRevshareTier(from_ngr=Money.of(t.from_ngr, cur), rate_ppm=t.rate_ppm) for t in rev.tiers
                ],
            )
            if rev
            else None,
            second_tier_ppm=terms.second_tier_ppm,
            created_at=plan.created_at,
        )


@strawberry.type(description="A partner on a plan for a brand, from a UTC day on, until the next deal begins.")
class AffiliateDeal(relay.Node):
    id: relay.NodeID[str]
    affiliate_code: str
    brand_code: str
    plan: AffiliatePlan
    effective_from: date
    effective_until: date | None = strawberry.field(description="Its last day (the day before the next deal).")
    negative_carry_over: bool = strawberry.field(description="Negative NGR carries into the next period.")
    in_force: bool = strawberry.field(description="In force today (UTC).")
    created_at: datetime

    @classmethod
    def of(cls, deal: Deal, today: date) -> AffiliateDeal:
        return cls(
            id=str(deal.id),
            affiliate_code=deal.affiliate_code,
            brand_code=deal.brand_code,
            plan=AffiliatePlan.of(deal.plan),
            effective_from=deal.effective_from,
            effective_until=deal.until,
            negative_carry_over=deal.negative_carry_over,
            in_force=deal.in_force(today),
            created_at=deal.created_at,
        )


@strawberry.input(description="CPA terms. Money as decimal strings in the plan's currency.")
class AffiliateCpaTermsInput:
    amount: str = text(32)
    min_first_deposit: str = text(32)
    min_wagering: str = text(32)
    within_days: int


@strawberry.input
class AffiliateRevshareTierInput:
    from_ngr: str = text(32)
    rate_ppm: int


@strawberry.input(description="flat: `ratePpm`; tiered and ladder: `tiers` (the first from 0).")
class AffiliateRevshareTermsInput:
    kind: AffiliateRevshareKind
    rate_ppm: int | None = None
    tiers: list[AffiliateRevshareTierInput] | None = None


@strawberry.input(description="A plan: `cpa` for CPA, `revshare` for a revenue share, both for hybrid.")
class CreateAffiliatePlanInput:
    code: str = text(40)
    name: str = text(TITLE)
    currency: str = text(8)
    kind: AffiliatePlanKind
    cpa: AffiliateCpaTermsInput | None = None
    revshare: AffiliateRevshareTermsInput | None = None
    second_tier_ppm: int = 0
    reason: str | None = text(REASON, default=None)


@strawberry.input(description="Put a partner on a plan for a brand from a day on (today at the earliest).")
class CreateAffiliateDealInput:
    affiliate_code: str = text(40)
    brand_code: str = text(40)
    plan_id: strawberry.ID
    effective_from: date
    negative_carry_over: bool = False
    reason: str | None = text(REASON, default=None)


@strawberry.input
class CancelAffiliateDealInput:
    deal_id: strawberry.ID
    reason: str | None = text(REASON, default=None)


@strawberry.type
class AffiliatePlanPayload:
    plan: AffiliatePlan | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class AffiliateDealPayload:
    deal: AffiliateDeal | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
