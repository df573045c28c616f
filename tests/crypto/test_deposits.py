"""Crypto deposits through the demo processor: an address per player and asset, credited once the
confirmations we require are in, whatever the callbacks' number and order; fiat wallets at a locked rate."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from core.clock import clock
from services import cashier
from tests.crypto.conftest import QUOTE, Chain, address_of, cash, payments_of, transfers_seen
from tests.kyc.conftest import fully_verified


async def test_a_btc_deposit_is_credited_only_once_it_has_its_confirmations(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    address = await address_of(gql, player, "BTC")
    assert (address["network"], address["creditCurrency"]) == ("bitcoin", "BTC")
    assert address["address"].startswith("bc1q")
    assert await address_of(gql, player, "BTC") == address  # the same address every time

    sent = await chain.send("BTC", address["address"], "0.01500000")
    [seen] = await chain.deliver_all(sent["id"])
    assert seen["result"] == "applied"
    [payment] = await payments_of(gql, player)
    assert (payment["kind"], payment["status"], payment["method"], payment["psp"]) == (
        "DEPOSIT",
        "PENDING",
        "CRYPTO",
        "cryptopay",
    )
    assert payment["amount"] == {"amount": "0.01500000", "currency": "BTC"}
    assert await cash(rt, player, "BTC") == 0
    await cashier.reconcile(rt, older_than_seconds=0)  # no status to poll: the chain reports, never "abandoned"
    assert (await payments_of(gql, player))[0]["status"] == "PENDING"

    await chain.mine(1)  # one confirmation of the two required
    await chain.deliver_all(sent["id"])
    assert (await payments_of(gql, player))[0]["status"] == "PENDING"
    assert await cash(rt, player, "BTC") == 0

    await chain.mine(1)
    await chain.deliver_all(sent["id"])
    assert (await payments_of(gql, player))[0]["status"] == "SUCCEEDED"
    assert await cash(rt, player, "BTC") == 1_500_000

    # Every callback again (the processor retries): duplicates, nothing moves.
    again = await chain.deliver_all(sent["id"])
    assert {r["result"] for r in again} == {"duplicate"}
    assert await cash(rt, player, "BTC") == 1_500_000

    finance = await make_staff(("finance", "satoshi"))
    [transfer] = await transfers_seen(gql, finance.token)
    assert (transfer["status"], transfer["paymentStatus"]) == ("credited", "SUCCEEDED")
    assert (transfer["confirmations"], transfer["requiredConfirmations"]) == (2, 2)
    assert (transfer["txid"], transfer["address"]) == (sent["txid"], address["address"])


async def test_ether_is_credited_in_units_of_ten_gwei_and_its_dust_is_kept_apart(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    """Callbacks out of order, repeated and concurrent: one payment, one credit, the dust never credited."""
    player = await make_player(brand_code="satoshi", currency="ETH")
    await fully_verified(rt, player.uuid)  # 1.23 ETH is 3,700 EUR: over the KYC deposit thresholds
    address = await address_of(gql, player, "ETH")
    sent = await chain.send("ETH", address["address"], "1.234567891234567891")
    await chain.mine(12)
    first, confirmed = await chain.callbacks(sent["id"])
    # The confirmed one first, then the first sighting, several times at once.
    assert (await chain.deliver(confirmed)).json()["result"] == "applied"
    results = await asyncio.gather(*(chain.deliver(first) for _ in range(4)), chain.deliver(confirmed))
    assert sorted(r.json()["result"] for r in results) == ["applied", *["duplicate"] * 4]
    assert await cash(rt, player, "ETH") == 123_456_789  # 1.23456789 ETH
    [transfer] = await transfers_seen(gql, player.token)  # a player reads their own transfers
    assert transfer["chainAmount"] == "1.234567891234567891"
    assert transfer["assetAmount"] == {"amount": "1.23456789", "currency": "ETH"}
    assert transfer["dust"] == "0.000000001234567891"
    [payment] = await payments_of(gql, player)
    assert payment["status"] == "SUCCEEDED"


async def test_a_fiat_wallet_is_credited_at_the_rate_its_quote_locked(
    rt: Any, gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    player = await make_player(currency="EUR")
    address = await address_of(gql, player, "BTC")
    assert address["creditCurrency"] == "EUR"  # this casino keeps no BTC wallets
    body = await gql(
        QUOTE,
        {"input": {"asset": "BTC", "currency": "EUR", "direction": "DEPOSIT", "amount": "600.00"}},
        token=player.token,
    )
    quote = body["data"]["cryptoQuote"]["quote"]
    assert quote["rate"] == "60000"
    assert quote["assetAmount"] == {"amount": "0.01000000", "currency": "BTC"}

    await chain.settings(rates={"BTC/EUR": "70000.00"})  # the market moves after the quote
    sent = await chain.send("BTC", address["address"], "0.01000000")
    await chain.deliver_all(sent["id"])
    await chain.mine(2)
    await chain.deliver_all(sent["id"])
    assert await cash(rt, player, "EUR") == 60_000  # 600.00 EUR, at the quote's 60,000

    # The quote has expired: the next transfer is priced when first seen, at the processor's rate then.
    clock.advance(timedelta(seconds=rt.settings.crypto_quote_ttl_seconds + 1))
    later = await chain.send("BTC", address["address"], "0.00100000")
    await chain.deliver_all(later["id"])
    await chain.settings(rates={"BTC/EUR": "10.00"})  # no repricing after the first sight
    await chain.mine(2)
    await chain.deliver_all(later["id"])
    assert await cash(rt, player, "EUR") == 60_000 + 7_000
    transfers = await transfers_seen(gql, player.token)
    assert sorted(t["rate"] for t in transfers) == ["60000", "70000"]


async def test_a_transfer_dropped_from_the_chain_is_never_credited(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    await fully_verified(rt, player.uuid)  # 0.1 BTC is 6,000 EUR: over the KYC deposit thresholds
    address = await address_of(gql, player, "BTC")
    sent = await chain.send("BTC", address["address"], "0.20000000")
    await chain.deliver_all(sent["id"])
    await chain.drop(sent["id"])
    await chain.deliver_all(sent["id"])
    [payment] = await payments_of(gql, player)
    assert payment["status"] == "FAILED"
    assert await cash(rt, player, "BTC") == 0

    # Credited, then reported dropped (a deep reorganisation): flagged, nothing debited.
    kept = await chain.send("BTC", address["address"], "0.10000000")
    await chain.mine(2)
    await chain.deliver_all(kept["id"])
    await chain.drop(kept["id"])
    results = await chain.deliver_all(kept["id"])
    assert results[-1]["result"] == "dropped_after_credit"
    assert await cash(rt, player, "BTC") == 10_000_000


async def test_callbacks_are_refused_unsigned_and_ignored_for_unknown_addresses(
    gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    sent = await chain.send("BTC", "bc1qnobodyhasthisaddressqqqqqqqqqqqqqqqqq", "0.10000000")
    [callback] = await chain.callbacks(sent["id"])
    assert (await chain.deliver(callback, signature="0" * 128)).status_code == 401
    response = await chain.deliver(callback)
    assert response.status_code == 200
    assert response.json()["result"] == "unknown_address"


async def test_the_card_cashier_refuses_crypto_it_has_entry_points_of_its_own(gql: Any, make_player: Any) -> None:
    player = await make_player(balance="50.00 EUR")
    deposit = "mutation($input: DepositInput!) { deposit(input: $input) { payment { id } errors { code field } } }"
    body = await gql(deposit, {"input": {"amount": "10.00", "currency": "EUR", "method": "CRYPTO"}}, token=player.token)
    assert body["data"]["deposit"] == {"payment": None, "errors": [{"code": "INVALID_INPUT", "field": "method"}]}
    withdrawal = "mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) { errors { field } } }"
    body = await gql(
        withdrawal, {"input": {"amount": "10.00", "currency": "EUR", "method": "CRYPTO"}}, token=player.token
    )
    assert body["data"]["requestWithdrawal"]["errors"] == [{"field": "method"}]


async def test_a_deposit_confirmed_after_its_quote_expired_is_credited_at_the_rate_of_its_confirmation(
    rt: Any, gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    """The quote's rate holds for `CRYPTO_QUOTE_TTL_SECONDS`: a slow chain's transfer is repriced once, when its
    confirmations are in, and a callback replayed afterwards never prices it again."""
    player = await make_player(currency="EUR")
    address = await address_of(gql, player, "BTC")
    body = await gql(QUOTE, {"input": {"asset": "BTC", "currency": "EUR", "direction": "DEPOSIT"}}, token=player.token)
    quote = body["data"]["cryptoQuote"]["quote"]
    expires_at = datetime.fromisoformat(quote["expiresAt"])
    lifetime = timedelta(seconds=rt.settings.crypto_quote_ttl_seconds)
    assert lifetime - timedelta(seconds=5) < expires_at - clock.now() <= lifetime

    sent = await chain.send("BTC", address["address"], "0.01000000")
    await chain.deliver_all(sent["id"])  # first seen while the quote is valid: pending at 60,000
    [payment] = await payments_of(gql, player)
    assert payment["amount"] == {"amount": "600.00", "currency": "EUR"}

    await chain.mine(1)
    await chain.deliver_all(sent["id"])  # one confirmation of two, the quote still valid: nothing repriced
    clock.advance(timedelta(seconds=rt.settings.crypto_quote_ttl_seconds))  # expired at exactly its expiry
    await chain.settings(rates={"BTC/EUR": "50000.00"})
    await chain.mine(1)
    await chain.deliver_all(sent["id"])
    assert await cash(rt, player, "EUR") == 50_000  # 0.01 BTC at 50,000, the rate when it was confirmed
    [payment] = await payments_of(gql, player)
    assert (payment["status"], payment["amount"]) == ("SUCCEEDED", {"amount": "500.00", "currency": "EUR"})
    [transfer] = await transfers_seen(gql, player.token)
    assert (transfer["rate"], transfer["status"]) == ("50000", "credited")

    await chain.settings(rates={"BTC/EUR": "1.00"})
    await chain.mine(1)  # later callbacks (more confirmations, replays) never reprice a credited transfer
    for callback in await chain.callbacks(sent["id"]):
        assert (await chain.deliver(callback)).status_code == 200
    assert await cash(rt, player, "EUR") == 50_000


async def test_a_deposit_confirmed_within_its_first_seen_rate_lifetime_keeps_that_rate(
    rt: Any, gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    """No player quote: the rate locked at first sight also lasts the quote lifetime, then expires the same way."""
    player = await make_player(currency="EUR")
    address = await address_of(gql, player, "BTC")
    quick = await chain.send("BTC", address["address"], "0.00100000")
    await chain.deliver_all(quick["id"])
    clock.advance(timedelta(seconds=rt.settings.crypto_quote_ttl_seconds - 1))
    await chain.settings(rates={"BTC/EUR": "10.00"})
    await chain.mine(2)
    await chain.deliver_all(quick["id"])
    assert await cash(rt, player, "EUR") == 6_000  # 0.001 BTC at the 60,000 locked when first seen

    slow = await chain.send("BTC", address["address"], "0.00100000")
    await chain.deliver_all(slow["id"])  # locked at 10.00 EUR: 0.01 EUR
    clock.advance(timedelta(seconds=rt.settings.crypto_quote_ttl_seconds + 1))
    await chain.settings(rates={"BTC/EUR": "80000.00"})
    await chain.mine(2)
    await chain.deliver_all(slow["id"])
    assert await cash(rt, player, "EUR") == 6_000 + 8_000
