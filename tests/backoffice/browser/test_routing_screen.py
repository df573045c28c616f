"""The payment routing screen (admin/app/routing.js): finance previews a route, changes a rule from the form (a
refusal is said, not swallowed), sees the new version and its history, and the preview follows the change."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in


async def test_finance_changes_a_routing_rule_and_the_preview_follows(page: Any, make_staff: Any) -> None:
    finance = await make_staff(("finance", None), login=False)
    await sign_in(page, finance)
    await page.get_by_role("link", name="Payment routing").click()
    await expect(page.locator("[data-version]")).to_have_text("0")

    preview = page.get_by_role("form", name="Preview a route")
    await preview.get_by_role("button", name="Preview route").click()
    shown = page.locator("[data-preview]")
    await expect(shown).to_contain_text("cardpay (fee 0.00) → swiftpay (fee 0.00) by rule cards")

    form = page.get_by_role("form", name="Save routing rule")
    await form.get_by_label("Name").fill("cards")
    await form.get_by_label("PSPs, in order").fill("swiftpay, nopay")
    await form.get_by_label("Priority").fill("30")
    await form.get_by_label("Methods").fill("card")
    await form.get_by_label("Reason").fill("cheaper acquiring")
    await form.get_by_role("button", name="Save rule").click()
    await expect(page.get_by_role("alert")).to_contain_text("Unknown psps 'nopay'")
    await form.get_by_label("PSPs, in order").fill("swiftpay, cardpay")
    await form.get_by_role("button", name="Save rule").click()
    await expect(page.get_by_role("status")).to_have_text("Rule cards saved as a new version.")
    await expect(page.locator("[data-version]")).to_have_text("1")
    await expect(page.get_by_role("table", name="Routing history")).to_contain_text("cheaper acquiring")

    await preview.get_by_role("button", name="Preview route").click()
    await expect(shown).to_contain_text("swiftpay (fee 0.00) → cardpay (fee 0.00) by rule cards")
