"""The affiliate fraud screens in a real browser (Debian's Chromium): a risk analyst opens the flagged
sub-ids, reads a flag's evidence and CPAs, and confirms it with a note; support has no such screen."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.affiliate_fraud.conftest import Partner, attribute, qualify, statuses, sweep
from tests.backoffice.browser.conftest import cell, sign_in
from tests.risk.conftest import Signals, registered

DEVICE = "dev-farm-0000003"


async def test_a_risk_analyst_confirms_a_flagged_sub_id_from_its_evidence(
    rt: Any, gql: Any, page: Any, make_staff: Any, signals: Signals, partner: Partner
) -> None:
    players = [(await registered(gql, f"farm{n}@example.com", device=DEVICE)).uuid for n in range(3)]
    await signals.drain()
    for player in players:
        await attribute(rt, partner, player, "promo-7")
    await qualify(rt, partner, players[0])
    await sweep(rt)
    analyst = await make_staff("risk_analyst", login=False)

    await sign_in(page, analyst)
    await page.get_by_role("link", name="Affiliate fraud").click()
    row = cell(page, "promo-7")
    await expect(row).to_contain_text("acme")
    await expect(row).to_contain_text("Linked accounts, One device")
    await row.get_by_role("link", name="promo-7").click()

    flag = page.get_by_role("region", name="Flag of acme promo-7")
    await expect(flag.get_by_role("heading", name="One device")).to_be_visible()
    await expect(flag).to_contain_text("3 players seen with one device (…000003)")
    await expect(cell(flag, "farm0@example.com").first).to_be_visible()  # the evidence names the players
    await expect(cell(flag, "50.00 EUR")).to_contain_text("withheld")

    await flag.get_by_role("button", name="Confirm fraud (reject the CPAs)").click()
    await expect(page.get_by_role("alert")).to_contain_text("Say why.")
    await flag.get_by_label("Note").fill("one phone farm, bonus abuse")
    await flag.get_by_role("button", name="Confirm fraud (reject the CPAs)").click()
    await expect(page.get_by_role("status")).to_contain_text("Confirmed: 1 CPA(s) rejected.")
    await expect(flag).to_contain_text("“one phone farm, bonus abuse”")
    await expect(flag.get_by_role("button", name="Clear (qualify the CPAs)")).to_have_count(0)
    assert await statuses(rt) == {players[0]: "rejected"}

    await page.get_by_role("link", name="← Flagged sub-ids").click()
    await expect(page.get_by_text("No flagged sub-id.")).to_be_visible()
    await page.get_by_label("Status").select_option("CONFIRMED")
    await expect(cell(page, "promo-7")).to_contain_text("confirmed")


async def test_support_has_no_affiliate_fraud_screen(page: Any, make_staff: Any) -> None:
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Players")).to_be_visible()
    await expect(page.get_by_role("link", name="Affiliate fraud")).to_have_count(0)
