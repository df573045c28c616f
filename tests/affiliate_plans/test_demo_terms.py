"""The demo's affiliate terms: a hybrid plan, and the demo partner on it at Royal once the partner exists, so the
demo's click, registration and first deposit can qualify a CPA. Seeding twice changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from integrations.demo.affiliate_plans import DEMO_PLAN, seed_affiliate_plans
from tests.affiliate_plans.conftest import insert_partner


async def test_the_demo_partner_gets_the_demo_plan_once(rt: Any, brand: Any) -> None:
    assert (await seed_affiliate_plans(rt))[-1] == "no demo-partner partner yet: no deal"
    await insert_partner(rt, brand.id, "demo-partner")
    assert (await seed_affiliate_plans(rt))[-1] == f"demo-partner at royal on {DEMO_PLAN}"
    await seed_affiliate_plans(rt)
    async with rt.database.session() as db:
        plans = (await db.execute(text("SELECT code, kind FROM affiliate_plans"))).all()
        deals = (await db.execute(text("SELECT negative_carry_over FROM affiliate_deals"))).all()
    assert [tuple(p) for p in plans] == [(DEMO_PLAN, "hybrid")]
    assert [tuple(d) for d in deals] == [(True,)]
