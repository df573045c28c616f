"""The Crypto screen: finance reads a crypto deposit credited to a fiat wallet (its confirmations, chain amount
and locked rate) and filters the transfers by direction."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.crypto.conftest import address_of, deposit_on_chain, processor_chain


async def test_finance_reads_a_crypto_deposit_with_its_confirmations_and_rate(
    page: Any, live_server: str, demo_psp: str, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(currency="EUR")
    assert (await address_of(gql, player, "BTC"))["creditCurrency"] == "EUR"
    async with processor_chain(demo_psp, client) as chain:
        await deposit_on_chain(chain, gql, player, "BTC", "0.01000000")
    finance = await make_staff("finance", login=False)

    await sign_in(page, finance)
    await page.get_by_role("link", name="Crypto").click()
    await expect(page.get_by_role("heading", name="Crypto payments")).to_be_visible()
    row = page.locator("tr[data-transfer]")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("0.01000000 BTC")
    await expect(row).to_contain_text("12 / 2")
    await expect(row).to_contain_text("credited")
    await expect(row).to_contain_text("succeeded")
    await expect(row).to_contain_text("60000 EUR")
    await page.get_by_label("Direction").select_option("WITHDRAWAL")
    await expect(page.get_by_text("No crypto transfer matches.")).to_be_visible()


async def test_finance_refunds_a_held_crypto_deposit_to_its_sender(
    page: Any, live_server: str, demo_psp: str, client: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """0.1 BTC (6,000 EUR) from a player not yet verified: held for KYC, refunded from the screen."""
    player = await make_player(currency="EUR")
    await address_of(gql, player, "BTC")
    async with processor_chain(demo_psp, client) as chain:
        await deposit_on_chain(chain, gql, player, "BTC", "0.10000000")
        finance = await make_staff("finance", login=False)

        await sign_in(page, finance)
        await page.get_by_role("link", name="Crypto").click()
        await page.get_by_label("Status").select_option("held")
        row = page.locator("tr[data-transfer]")
        await expect(row).to_have_count(1)
        await expect(row).to_contain_text("held: KYC_REQUIRED")
        await row.get_by_role("button", name="Refund to sender").click()
        await expect(page.get_by_role("alert")).to_contain_text("Write a reason")
        await row.get_by_label("Reason").fill("player asked for the coins back")
        await row.get_by_role("button", name="Refund to sender").click()
        await expect(page.get_by_role("status")).to_contain_text("Refunded 0.10000000 BTC")
        await expect(page.get_by_text("No crypto transfer matches.")).to_be_visible()  # none held any more
        [payout] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
        assert payout["amount"] == "0.10000000"
