"""Demo affiliate terms: a hybrid plan, and the demo partner (`demo-partner`, seeded by the partners' demo data)
on it at Royal from the day of the seed, so a click on the demo link, a registration, a first deposit of 10.00
and 20.00 staked qualify a CPA of 25.00 EUR. Safe to run twice (an existing plan or deal is kept)."""

from __future__ import annotations

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.clock import clock
from core.errors import NotFound
from core.runtime import Runtime
from services.affiliates import deals, plan_store

DEMO_PLAN = "demo-hybrid"
DEMO_PARTNER = "demo-partner"
DEMO_TERMS = {
    "amount": 2500,
    "qualification": {"min_first_deposit": 1000, "min_wagering": 2000, "within_days": 30},
    "revshare": {
        "kind": "tiered",
        "tiers": [{"from_ngr": 0, "rate_ppm": 250_000}, {"from_ngr": 500_000, "rate_ppm": 350_000}],
    },
    "second_tier_ppm": 50_000,
}


async def seed_affiliate_plans(rt: Runtime) -> list[str]:
    async with rt.database.transaction() as db:
        plan_id = await db.scalar(text("SELECT id FROM affiliate_plans WHERE code = :c"), {"c": DEMO_PLAN})
        if plan_id is None:
            plan = await plan_store.create_plan(
                db, code=DEMO_PLAN, name="Demo hybrid: CPA 25.00 + tiered revenue share", currency="EUR",
                kind="hybrid", terms=DEMO_TERMS, actor=SYSTEM, reason="demo data",
            )  # fmt: skip
            plan_id = plan.id
        lines = [f"plan {DEMO_PLAN}: CPA 25.00 EUR (first deposit 10.00, 20.00 wagered, 30 days) + 25 %/35 % tiered"]
        try:
            partner_id, brand_id = await deals.find_partner_and_brand(db, DEMO_PARTNER, "royal")
        except NotFound:
            return [*lines, f"no {DEMO_PARTNER} partner yet: no deal"]
        if await deals.deal_in_force(db, partner_id, brand_id, clock.now().date()) is None:
            await deals.create_deal(
                db, affiliate_id=partner_id, brand_id=brand_id, plan_id=plan_id, effective_from=clock.now().date(),
                negative_carry_over=True, actor=SYSTEM, reason="demo data",
            )  # fmt: skip
        return [*lines, f"{DEMO_PARTNER} at royal on {DEMO_PLAN}"]
