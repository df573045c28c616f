"""The affiliate plans screen (admin/app/affiliate-plans.js): a brand admin makes a CPA plan and a tiered revenue
share from the form (a refusal is said, not swallowed), puts a partner on a plan from today, is told that a second
deal today would be retroactive, schedules one for later and cancels it; finance reads without the forms; support
has no such screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from playwright.async_api import expect

from tests.affiliate_plans.conftest import insert_partner
from tests.backoffice.browser.conftest import cell, sign_in


async def open_screen(page: Any, staff: Any) -> None:
    await sign_in(page, staff)
    await page.get_by_role("link", name="Affiliate plans").click()


async def make_plan(page: Any, code: str, kind: str, fields: dict[str, str], share: str | None = None) -> Any:
    plans = page.get_by_role("region", name="Plans")
    await plans.get_by_role("button", name="New plan").click()
    form = plans.get_by_role("form", name="New plan")
    await form.get_by_label("Code").fill(code)
    await form.get_by_label("Name", exact=True).fill(code.upper())
    await form.get_by_label("Kind").select_option(kind)
    if share:
        await form.get_by_label("Share", exact=True).select_option(share)
    for label, value in fields.items():
        await form.get_by_label(label).fill(value)
    await form.get_by_role("button", name="Create plan").click()
    return form


async def test_a_brand_admin_makes_plans_and_deals(page: Any, rt: Any, make_staff: Any, brand: Any) -> None:
    await insert_partner(rt, brand.id, "acme")
    admin = await make_staff("brand_admin", login=False)
    await open_screen(page, admin)
    plans = page.get_by_role("region", name="Plans")
    await expect(plans.get_by_text("No plan yet.")).to_be_visible()

    await make_plan(page, "cpa-50", "CPA", {"CPA amount": "50.00", "Minimum first deposit": "20.00",
                                           "Minimum wagering": "100.00"})  # fmt: skip
    await expect(plans.get_by_role("status")).to_have_text("Plan cpa-50 created.")
    await expect(cell(plans, "cpa-50")).to_contain_text("first deposit ≥")
    await expect(cell(plans, "cpa-50")).to_contain_text("within 30 days")

    form = await make_plan(page, "bad-tiers", "REVSHARE", {"Tiers (NGR from: %, one per line)": "100: 25\n50: 30"},
                           share="TIERED")  # fmt: skip
    await expect(form.get_by_role("alert")).to_contain_text("NGR")  # the first tier must start at zero
    await form.get_by_label("Code").fill("tiered-25")
    await form.get_by_label("Tiers (NGR from: %, one per line)").fill("0: 25\n10000.00: 30")
    await form.get_by_role("button", name="Create plan").click()
    await expect(plans.get_by_role("status")).to_have_text("Plan tiered-25 created.")
    await expect(cell(plans, "tiered-25")).to_contain_text("tiered")
    await expect(cell(plans, "tiered-25")).to_contain_text("30 %")

    deals = page.get_by_role("region", name="Deals")
    await deals.get_by_role("button", name="New deal").click()
    form = deals.get_by_role("form", name="New deal")
    await form.get_by_label("Partner").fill("acme")
    await form.get_by_label("Brand").fill("royal")
    await form.get_by_label("Plan").select_option(label="cpa-50 — CPA-50")
    await form.get_by_role("button", name="Create deal").click()
    today = datetime.now(UTC).date()
    await expect(deals.get_by_role("status")).to_have_text(f"Deal made: acme on cpa-50 from {today.isoformat()}.")
    await expect(cell(deals, "cpa-50")).to_contain_text("in force")

    await deals.get_by_role("button", name="New deal").click()  # a second deal today would rewrite part of today
    form = deals.get_by_role("form", name="New deal")
    await form.get_by_label("Partner").fill("acme")
    await form.get_by_label("Brand").fill("royal")
    await form.get_by_label("Plan").select_option(label="tiered-25 — BAD-TIERS")
    await form.get_by_role("button", name="Create deal").click()
    await expect(form.get_by_role("alert")).to_contain_text("tomorrow at the earliest")
    later = today + timedelta(days=10)
    await form.get_by_label("From (UTC day)").fill(later.isoformat())
    await form.get_by_role("button", name="Create deal").click()
    await expect(deals.get_by_role("status")).to_have_text(f"Deal made: acme on tiered-25 from {later.isoformat()}.")
    await expect(cell(deals, "cpa-50")).to_contain_text((later - timedelta(days=1)).isoformat())  # until

    await cell(deals, "tiered-25").get_by_role("button", name="Cancel deal").click()
    await expect(deals.get_by_role("status")).to_have_text(f"Deal from {later.isoformat()} cancelled.")
    await expect(cell(deals, "tiered-25")).to_have_count(0)
    await expect(cell(deals, "cpa-50").get_by_role("button", name="Cancel deal")).to_have_count(0)  # it has begun


async def test_finance_reads_without_the_forms_and_support_has_no_screen(
    page: Any, rt: Any, gql: Any, make_staff: Any, brand: Any
) -> None:
    from tests.affiliate_plans.conftest import create_deal, create_plan

    await insert_partner(rt, brand.id, "acme")
    admin = await make_staff("brand_admin")
    plan = await create_plan(gql, admin.token)
    assert (await create_deal(gql, admin.token, plan["plan"]["id"]))["errors"] == []
    finance = await make_staff("finance", login=False)
    await open_screen(page, finance)
    await expect(cell(page.get_by_role("region", name="Plans"), "cpa-50")).to_be_visible()
    await expect(cell(page.get_by_role("region", name="Deals"), "acme")).to_contain_text("in force")
    await expect(page.get_by_role("button", name="New plan")).to_have_count(0)
    await expect(page.get_by_role("button", name="New deal")).to_have_count(0)

    support = await make_staff("support", login=False)
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Affiliate plans")).to_have_count(0)
