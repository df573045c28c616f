"""Free rounds granted through a provider's API, on the player 360 in a real browser: support sees the grant
(provider, rounds left, bet, the provider's reward) and cancels it, at the provider first (docs/free-rounds.md)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.bonuses.conftest import campaign as campaign  # the fixture, reused
from tests.free_rounds.conftest import GRANT, SPINS
from tests.free_rounds.conftest import demo_free_rounds as demo_free_rounds  # the fixture, reused


async def test_support_sees_a_players_free_rounds_and_cancels_them_at_the_provider(
    page: Any, gql: Any, demo_free_rounds: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    campaign_id = await campaign("FREE_SPINS", SPINS)
    player, support = await make_player(), await make_staff("support")
    granted = await gql(
        GRANT, {"input": {"playerId": player.id, "campaignId": campaign_id, "reason": "VIP gift"}}, token=support.token
    )
    grant = granted["data"]["grantFreeRounds"]["grant"]
    assert grant["status"] == "GRANTED"

    await sign_in(page, await make_staff("support", login=False))
    await page.goto(f"/admin/#/players/{player.id}")
    section = page.locator("cr-player-free-rounds")
    row = section.locator(f'[data-grant="{grant["id"]}"]')
    await expect(row).to_contain_text("demo")
    await expect(row).to_contain_text("3 of 3 left")
    await expect(row).to_contain_text("0.50")
    await expect(row).to_contain_text("granted", ignore_case=True)
    page.once("dialog", lambda dialog: dialog.accept("Sent by mistake"))
    await row.get_by_role("button", name="Cancel").click()
    await expect(row).to_contain_text("cancelled", ignore_case=True)
    await expect(row.get_by_role("button", name="Cancel")).to_have_count(0)
