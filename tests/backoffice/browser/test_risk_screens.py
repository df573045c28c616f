"""Risk in the back office, in a real browser: the player 360's linked accounts (a picture of the cluster and
what links each account) and the block and watch list editor. Support sees neither."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in
from tests.risk.conftest import Signals, register, registered, signals  # noqa: F401  (fixture)

DEVICE = "device-shared-by-three"


async def test_an_analyst_sees_the_linked_accounts_and_what_links_them(
    page: Any,
    gql: Any,
    make_staff: Any,
    signals: Signals,  # noqa: F811
) -> None:
    ann = await registered(gql, "ann.abela@example.com", device=DEVICE)
    await registered(gql, "ben.borg@example.com", device=DEVICE)
    await registered(gql, "ann.abela+2@example.com")  # the same mailbox, another device
    await registered(gql, "nobody@example.com")
    await signals.drain()
    analyst = await make_staff("risk_analyst", login=False)

    await sign_in(page, analyst)
    await page.goto(f"/admin/#/players/{ann.id}")
    section = page.locator("cr-player-risk")
    await expect(section.locator("[data-field=cluster-size]")).to_have_text("Cluster of 3 accounts.")
    await expect(section.get_by_role("img", name="This player and 2 linked accounts")).to_be_visible()
    await expect(section.get_by_role("list", name="Flags")).to_have_count(0)  # nothing listed, nothing flagged
    by_device = cell(section, "ben.borg@example.com")
    await expect(by_device).to_contain_text("device: …-three")
    by_mail = cell(section, "ann.abela+2@example.com")
    await expect(by_mail).to_contain_text("email: a***@example.com")
    await by_device.get_by_role("link", name="ben.borg@example.com").click()
    await expect(page.get_by_role("heading", name="ben.borg@example.com")).to_be_visible()
    await expect(page.locator("cr-player-risk [data-field=cluster-size]")).to_have_text("Cluster of 3 accounts.")


async def test_an_analyst_blocks_an_ip_range_and_lifts_it_again(page: Any, gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst", login=False)
    await sign_in(page, analyst)
    await page.get_by_role("link", name="Risk lists").click()
    await expect(page.get_by_text("No active entry.")).to_be_visible()

    form = page.get_by_role("form", name="Add an entry")
    await form.get_by_label("List").select_option("BLOCK")
    await form.get_by_label("Kind").select_option("IP")
    await form.get_by_label("Value").fill("203.0.113.0/24")
    await form.get_by_label("Reason").fill("bonus abuse ring")
    await form.get_by_role("button", name="Add").click()
    await expect(page.get_by_role("status")).to_have_text("Added 203.0.113.0/24.")
    row = cell(page, "203.0.113.0/24")
    await expect(row).to_contain_text("bonus abuse ring")
    await expect(row).to_contain_text("blocked")
    # The test client registers from 203.0.113.7: refused now.
    assert [e["code"] for e in (await register(gql, "ring@example.com"))["errors"]] == ["RISK_BLOCKED"]

    # A malformed value is refused with the server's words.
    await form.get_by_label("Kind").select_option("CARD_BIN")
    await form.get_by_label("Value").fill("42")
    await form.get_by_label("Reason").fill("typo")
    await form.get_by_role("button", name="Add").click()
    await expect(page.get_by_role("alert")).to_contain_text("6 to 8 digits")

    removal = row.get_by_role("form", name="Remove 203.0.113.0/24")
    await removal.get_by_label("Why remove it").fill("ring dismantled")
    await removal.get_by_role("button", name="Remove").click()
    await expect(page.get_by_role("status")).to_have_text("Removed 203.0.113.0/24.")
    await expect(page.get_by_text("No active entry.")).to_be_visible()
    assert (await register(gql, "ring@example.com"))["errors"] == []


async def test_support_sees_no_linked_accounts_nor_the_lists(
    page: Any,
    gql: Any,
    make_staff: Any,
    signals: Signals,  # noqa: F811
) -> None:
    cara = await registered(gql, "cara@example.com", device=DEVICE)
    await registered(gql, "dan@example.com", device=DEVICE)
    await signals.drain()
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Risk lists")).to_have_count(0)
    await page.goto(f"/admin/#/players/{cara.id}")
    await expect(page.locator("cr-player-kyc")).to_contain_text("verified")  # the 360 has loaded
    await expect(page.locator("cr-player-risk")).to_have_count(0)
