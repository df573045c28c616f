"""The Partners screen: an affiliate manager creates a partner from the form, makes it a tracking link and a
portal user and suspends it with a reason; support opens a player a partner brought and sees the attribution."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from playwright.async_api import expect

from authz.subjects import SYSTEM
from services.affiliates import links, partners
from tests.backoffice.browser.conftest import cell, sign_in
from tests.conftest import PASSWORD


async def test_an_affiliate_manager_creates_a_partner_with_a_link_and_a_portal_user(
    page: Any, make_staff: Any, brand: Any
) -> None:
    manager = await make_staff("affiliate_manager", login=False)
    await sign_in(page, manager)
    await page.get_by_role("link", name="Partners").click()
    await expect(page.get_by_text("No partner matches.")).to_be_visible()
    await page.get_by_role("button", name="New partner").click()
    form = page.get_by_role("form", name="New partner")
    await form.get_by_label("Code").fill("acme")
    await form.get_by_label("Company").fill("Acme Media Ltd")
    await form.get_by_label("Email").fill("ops@acme.example.com")
    await form.get_by_label("IBAN / account").fill("MT84MALT011000012345MTLCAST001S")
    await form.get_by_label("Royal Casino").check()
    await form.get_by_role("button", name="Create partner").click()
    await expect(page.get_by_role("status")).to_have_text("Partner acme created.")
    await cell(page, "Acme Media Ltd").get_by_role("link", name="acme").click()

    await expect(page.get_by_role("region", name="Partner")).to_contain_text("MT84MALT011000012345MTLCAST001S")
    link_form = page.get_by_role("form", name="New link")
    await link_form.get_by_label("Tag").fill("spring")
    await link_form.get_by_label("Landing path").fill("/welcome")
    await link_form.get_by_role("button", name="Make link").click()
    await expect(page.get_by_role("status")).to_have_text("Link created.")
    await expect(page.locator("tr[data-link='spring']")).to_contain_text("/a/")
    await expect(page.locator("tr[data-link='spring']")).to_contain_text("live")

    user_form = page.get_by_role("form", name="New portal user")
    await user_form.get_by_label("Email").fill("jo@acme.example.com")
    await user_form.get_by_label("Password").fill("short")
    await user_form.get_by_role("button", name="Add portal user").click()
    await expect(page.get_by_role("alert")).not_to_be_empty()  # a weak password is said, not swallowed
    await user_form.get_by_label("Password").fill(PASSWORD)
    await user_form.get_by_role("button", name="Add portal user").click()
    await expect(page.get_by_role("status")).to_have_text("Portal user created.")
    await expect(page.locator("tr[data-user='jo@acme.example.com']")).to_contain_text("active")

    status = page.get_by_role("region", name="Status")
    await status.get_by_label("Reason").fill("traffic review")
    await status.get_by_role("button", name="Suspend").click()
    await expect(page.get_by_role("status")).to_have_text("Partner suspended.")
    await expect(page.get_by_role("heading", level=2)).to_contain_text("suspended")


async def test_support_sees_which_partner_brought_a_player(
    page: Any, rt: Any, client: Any, make_staff: Any, make_player: Any, brand: Any
) -> None:
    partner = await partners.create(
        rt,
        SYSTEM,
        partners.PartnerDraft(
            code="acme", company="Acme Media Ltd", contact_email="ops@acme.example.com", payout_currency="EUR",
            brand_ids=[brand.id],
        ),
    )  # fmt: skip
    link = await links.create(rt, SYSTEM, partner.id, links.LinkDraft(brand_id=brand.id, tag="spring"))
    clicked = await client.get(f"/a/{link.code}", params={"sub1": "banner-7"}, follow_redirects=False)
    player = await make_player(affiliateClick=clicked.cookies["croupier_click"])
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await page.goto(f"/admin/#/players/{quote(player.id, safe='')}")
    section = page.get_by_role("region", name="Affiliate")
    await expect(section.locator("[data-attribution]")).to_contain_text("acme")
    await expect(section).to_contain_text("sub1=banner-7")
    await expect(section).to_contain_text("spring")
