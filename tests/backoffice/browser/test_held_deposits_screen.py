"""Deposits a risk rule held, in a real browser: the risk queue screen lists them (player, amount, method, when,
the rule's reason) and the risk desk releases or declines each with a reason; the player 360's payments show a
held deposit with the same decision. Support sees the held status but neither the list nor the buttons."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.risk.inline_support import add_rule
from tests.risk.test_held_desk import HOLD_SECOND, held_deposit


async def test_the_risk_desk_declines_and_releases_held_deposits_from_the_risk_queue_screen(
    page: Any, rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}, {"kind": "flag_review"}])
    mule = await make_player(email="mule@example.com")
    regular = await make_player(email="regular@example.com")
    await held_deposit(gql, psp, mule, "45.50")
    await held_deposit(gql, psp, regular, "30.00")
    analyst = await make_staff("risk_analyst", login=False)

    await sign_in(page, analyst)
    await page.get_by_role("link", name="Risk queue").click()
    table = page.get_by_role("table", name="Held deposits")
    rows = table.locator("tbody tr")
    await expect(rows).to_have_count(2)
    await expect(rows.nth(0)).to_contain_text("regular@example.com")  # the newest first, as payments are
    mule_row = rows.filter(has_text="mule@example.com")
    await expect(mule_row).to_contain_text("45.50 EUR")
    await expect(mule_row).to_contain_text("card")
    await expect(mule_row.get_by_role("list", name="Why held")).to_have_text(
        "hold-second: 2 deposits by this player in 10 minutes"
    )
    await expect(page.locator("cr-risk-queue tbody tr")).to_have_count(2)  # the rule's flags, below

    await mule_row.get_by_role("button", name="Decline").click()
    await expect(page.locator("cr-held-deposits").get_by_role("alert")).to_have_text(
        "Write a reason: why release or decline it."
    )
    await mule_row.get_by_label("Reason").fill("no")
    await mule_row.get_by_role("button", name="Decline").click()
    await expect(page.locator("cr-held-deposits").get_by_role("alert")).to_have_text("Say why (at least 3 characters).")
    await mule_row.get_by_label("Reason").fill("money mule pattern")
    await mule_row.get_by_role("button", name="Decline").click()
    await expect(page.locator("cr-held-deposits").get_by_role("status")).to_have_text(
        "Declined 45.50 EUR: nothing was charged. (mule@example.com)"
    )
    await expect(rows).to_have_count(1)

    regular_row = rows.filter(has_text="regular@example.com")
    await regular_row.get_by_label("Reason").fill("known player, payday")
    await regular_row.get_by_role("button", name="Release").click()
    await expect(page.locator("cr-held-deposits").get_by_role("status")).to_have_text(
        "Released 30.00 EUR: the deposit is now succeeded. (regular@example.com)"
    )
    await expect(page.locator("cr-held-deposits")).to_contain_text("No deposit is held.")

    async with rt.database.session() as db:
        from sqlalchemy import text

        found = (
            await db.execute(
                text(
                    "SELECT p.status, p.failure_code, u.email FROM payments p JOIN players u ON u.id = p.player_id "
                    "WHERE p.amount IN (4550, 3000) ORDER BY p.amount"
                )
            )
        ).all()
        decided = (
            await db.execute(
                text("SELECT action, reason FROM audit_log WHERE action LIKE 'risk.deposit_%' ORDER BY seq")
            )
        ).all()
    assert [tuple(r) for r in found] == [
        ("succeeded", None, "regular@example.com"),
        ("failed", "RISK_DECLINED", "mule@example.com"),
    ]
    assert [tuple(r) for r in decided] == [
        ("risk.deposit_declined", "money mule pattern"),
        ("risk.deposit_released", "known player, payday"),
    ]


async def test_the_player_360_shows_a_held_deposit_and_releases_it_for_the_risk_desk_only(
    page: Any, browser: Any, live_server: str, rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player(email="held.at.360@example.com")
    payment_id = await held_deposit(gql, psp, player, "25.00")
    support = await make_staff("support", login=False)
    analyst = await make_staff("risk_analyst", login=False)

    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Risk queue")).to_have_count(0)
    await page.goto(f"/admin/#/players/{player.id}")
    held_row = page.locator(f"cr-player-payments tr[data-payment='{payment_id}']")
    await expect(held_row).to_contain_text("held")
    await expect(held_row).to_contain_text("held by a risk rule")
    await expect(held_row.get_by_role("button")).to_have_count(0)
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, analyst)
    await page.goto(f"/admin/#/players/{player.id}")
    section = page.locator("cr-player-payments")
    await expect(held_row.get_by_role("button", name="Release")).to_be_visible()
    await expect(held_row.get_by_role("button", name="Decline")).to_be_visible()
    await held_row.get_by_label("Reason").fill("spoke to the player")
    await held_row.get_by_role("button", name="Release").click()
    await expect(section.get_by_role("status")).to_have_text("Released 25.00 EUR: the deposit is now succeeded.")
    await expect(held_row).to_contain_text("succeeded")
    await expect(held_row.get_by_role("button")).to_have_count(0)
    await expect(page.locator("cr-player-balances")).to_contain_text("45.00")  # both deposits in cash now
