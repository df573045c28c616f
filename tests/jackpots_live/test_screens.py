"""The jackpot screens in a real browser (Debian's Chromium): marketing creates a jackpot with the form, the
list shows its pots and moves them live as bets come in; the jackpot's page shows levels, commitments and
history, verifies a revealed drop point, and pauses the jackpot with a reason; support reads, not manages."""

from __future__ import annotations

import re
from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.jackpots_live.conftest import Contributions, bet, created, one_level


async def test_marketing_creates_a_jackpot_and_watches_its_pots_move_live(
    page: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    marketing = await make_staff("marketing", login=False)
    await sign_in(page, marketing)
    await page.get_by_role("link", name="Jackpots").click()
    await page.get_by_role("button", name="Create a jackpot").click()
    form = page.get_by_role("form", name="New jackpot")
    await form.get_by_label("Code", exact=True).fill("live-drop")
    await form.get_by_label("Name", exact=True).fill("Live Drop")
    await form.get_by_label("Brands", exact=True).fill("royal")
    await form.get_by_label("Level 1 name").fill("mini")
    await form.get_by_label("Level 1 seed").fill("10.00")
    await form.get_by_label("Level 1 contribution").fill("1")
    await form.get_by_label("Level 1 must drop by").fill("900.00")
    await form.get_by_role("button", name="Create jackpot").click()
    await expect(page.get_by_role("status")).to_contain_text("Live Drop created")

    row = page.locator("tr[data-jackpot=live-drop]")
    await expect(row.locator("[data-level=mini] .amount")).to_have_text("10.00 EUR")
    await expect(row.locator("[data-live]")).to_be_visible()  # subscribed: the first tick (the snapshot) came
    player = await seat(balance=100_000)
    await bet(aggregator, player, 20)
    await contributions.drain()
    await expect(row.locator("[data-level=mini] .amount")).to_have_text("10.20 EUR")  # pushed, no reload
    await expect(row.locator("[data-total]")).to_have_text("10.20 EUR")
    await page.reload()  # the figures since creation, as the books have them
    await expect(page.locator("tr[data-jackpot=live-drop] [data-contributed]")).to_have_text("0.20 EUR")
    await expect(page.locator("tr[data-jackpot=live-drop] [data-won]")).to_have_text("0.00 EUR")


async def test_the_jackpot_page_verifies_a_drop_and_pauses_with_a_reason(
    page: Any, gql: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    marketing = await make_staff("marketing")
    jackpot = await created(
        gql,
        marketing.token,
        "page-drop",
        levels=one_level("1.00", "10", "2.00"),
    )
    player = await seat(balance=100_000)
    await bet(aggregator, player, 10)  # 1 € into a pot of 1 € that must drop by 2 €: it drops, once
    await contributions.drain()

    await sign_in(page, marketing, step_offset=1)  # (its API login used this step's code)
    await page.goto(f"/admin/#/jackpots/{jackpot['id']}")
    await expect(page.locator("h2")).to_contain_text("Page-Drop")
    level = page.locator("tr[data-level=mini]")
    await expect(level.locator("[data-commitment]")).to_have_text(re.compile("^[0-9a-f]{64}$"))
    history = page.get_by_role("region", name="History of mini")
    await expect(history.locator("[data-table=wins] tbody tr")).to_have_count(1)
    await expect(history.locator("[data-table=reseeds] tbody tr")).to_have_count(2)
    await expect(history.locator("[data-table=days] tbody tr")).to_have_count(1)
    await expect(history.locator("[data-table=commitments] tr[data-generation='1'] [data-verified]")).to_have_text(
        "verified"
    )
    await expect(history.locator("[data-table=commitments] tr[data-generation='2'] [data-verified]")).to_have_text(
        "sealed"
    )

    await expect(page.locator("[data-verification]")).to_contain_text("1 drop checks out")

    await page.get_by_role("button", name="Pause").click()
    await expect(page.get_by_role("alert")).to_contain_text("Give a reason")
    await page.get_by_label("Reason for a change").fill("end of the promotion")
    await page.get_by_role("button", name="Pause").click()
    await expect(page.get_by_role("status")).to_contain_text("is now paused")
    await expect(page.locator("h2 .badge")).to_have_text("paused")


async def test_support_reads_the_jackpots_and_is_offered_no_command(page: Any, gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    jackpot = await created(gql, marketing.token, "read-only")
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await page.get_by_role("link", name="Jackpots").click()
    await expect(page.locator("tr[data-jackpot=read-only]")).to_be_visible()
    await expect(page.get_by_role("button", name="Create a jackpot")).to_have_count(0)
    await page.goto(f"/admin/#/jackpots/{jackpot['id']}")
    await expect(page.locator("tr[data-level=mini]")).to_be_visible()
    await expect(page.get_by_role("button", name="Pause")).to_have_count(0)


async def test_closing_a_jackpot_from_its_page_refunds_the_pots_and_shows_the_commitment_void(
    page: Any, gql: Any, make_staff: Any
) -> None:
    marketing = await make_staff("marketing")
    jackpot = await created(gql, marketing.token, "closing-drop", levels=one_level("5.00", "10", "20.00"))
    await sign_in(page, marketing, step_offset=1)
    await page.goto(f"/admin/#/jackpots/{jackpot['id']}")
    await expect(page.locator("h2")).to_contain_text("Closing-Drop")
    asked: list[str] = []

    async def accept(dialog: Any) -> None:  # the confirmation names what goes back
        asked.append(dialog.message)
        await dialog.accept()

    page.on("dialog", accept)
    await page.get_by_label("Reason for a change").fill("season over")
    await page.get_by_role("button", name="Close").click()
    await expect(page.get_by_role("status")).to_contain_text("its pots went back to the seed account")
    assert "mini 5.00 EUR" in asked[0]
    await expect(page.locator("h2 .badge")).to_have_text("closed")
    history = page.get_by_role("region", name="History of mini")
    await expect(history.locator("[data-table=commitments] tr[data-generation='1'] [data-verified]")).to_have_text(
        "void, verified"
    )
