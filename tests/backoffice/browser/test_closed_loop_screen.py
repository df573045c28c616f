"""The closed loop on the player 360, in a real browser: finance sees what each deposit method is owed back and
waives an expired card's share with a reason, then revokes the waiver; support sees the shares, not the forms."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.cashier.test_closed_loop import licensed_in_malta, pay_in


async def test_finance_waives_a_share_and_revokes_it_from_the_player_360(
    page: Any,
    browser: Any,
    live_server: str,
    rt: Any,
    gql: Any,
    psp: Any,
    make_player: Any,
    make_staff: Any,
    brand: Any,
) -> None:
    await licensed_in_malta(rt, brand)
    player = await make_player(country="MT")
    await pay_in(gql, player, "60.00", "CARD", await psp.tokenise())
    await pay_in(gql, player, "40.00", "EWALLET", await psp.tokenise())
    finance = await make_staff("finance", login=False)
    support = await make_staff("support", login=False)

    await sign_in(page, finance)
    await page.goto(f"/admin/#/players/{player.id}")
    section = page.locator("cr-player-closed-loop")
    await expect(section).to_contain_text("Owed back to the deposits' methods: 100.00 EUR")
    card = section.locator("tr[data-share^='CARD']")
    await expect(card).to_contain_text("60.00 EUR")
    await card.get_by_label("Amount to waive (empty: all owed)").fill("25.00")
    await card.get_by_label("Reason").fill("card expired")
    await card.get_by_role("button", name="Waive").click()
    await expect(section.get_by_role("status")).to_have_text(
        "Waived 25.00 EUR: withdrawals may go elsewhere for that much."
    )
    await expect(section).to_contain_text("Owed back to the deposits' methods: 75.00 EUR")
    waiver = section.locator("tr[data-exception]")
    await expect(waiver).to_contain_text("card expired")
    await waiver.get_by_label("Reason to revoke").fill("the card works again")
    await waiver.get_by_role("button", name="Revoke").click()
    await expect(section.get_by_role("status")).to_have_text(
        "Revoked: 25.00 EUR is owed to the deposit's method again."
    )
    await expect(section).to_contain_text("Owed back to the deposits' methods: 100.00 EUR")
    await expect(waiver).to_contain_text("the card works again")

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    other = await context.new_page()
    try:
        await sign_in(other, support)
        await other.goto(f"/admin/#/players/{player.id}")
        seen = other.locator("cr-player-closed-loop")
        await expect(seen).to_contain_text("Owed back to the deposits' methods: 100.00 EUR")
        await expect(seen.get_by_role("button", name="Waive")).to_have_count(0)
    finally:
        await context.close()
