"""Crypto withdrawals: screened before they are taken and again before they are paid, paid on chain by the
demo processor, from a wallet in the asset or from a fiat wallet at the rate a quote locked."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from core.clock import clock
from models.ledger import LedgerAccount, LedgerPosting
from tests.conftest import recorded_statements
from tests.crypto.conftest import (
    APPROVE,
    BTC_DESTINATION,
    ETH_DESTINATION,
    QUOTE,
    TRANSFERS,
    Chain,
    cash,
    deposit_on_chain,
    payments_of,
    transfers_seen,
    withdraw,
)
from tests.kyc.conftest import fully_verified


async def test_a_deposit_comes_back_on_chain_once_finance_approves(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    await fully_verified(rt, player.uuid)  # 0.2 BTC is 12,000 EUR: over the KYC deposit thresholds
    await deposit_on_chain(chain, gql, player, "BTC", "0.20000000")
    asked = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, amount="0.02", idempotencyKey="back-1")
    assert asked["errors"] == []
    payment = asked["payment"]
    assert (payment["status"], payment["method"]) == ("REQUESTED", "CRYPTO")  # no automatic approval in BTC
    assert await cash(rt, player, "BTC") == 18_000_000  # held at once
    retried = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, amount="0.02", idempotencyKey="back-1")
    assert retried["payment"]["id"] == payment["id"]

    finance = await make_staff(("finance", "satoshi"))
    approved = await gql(APPROVE, {"input": {"paymentId": payment["id"]}}, token=finance.token)
    assert approved["data"]["approveWithdrawal"]["payment"]["status"] == "PROCESSING"
    [paid_out] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (paid_out["amount"], paid_out["currency"], paid_out["address"]) == ("0.02000000", "BTC", BTC_DESTINATION)

    await chain.mine(2)  # the payout confirmed on chain: the processor's callback
    await chain.deliver_all(paid_out["foreign_id"])
    statuses = {p["kind"]: p["status"] for p in await payments_of(gql, player)}
    assert statuses == {"DEPOSIT": "SUCCEEDED", "WITHDRAWAL": "PAID"}
    assert await cash(rt, player, "BTC") == 18_000_000
    withdrawal = (await transfers_seen(gql, finance.token, direction="WITHDRAWAL"))[0]
    assert withdrawal["screening"] == {"risk_level": "low", "categories": []}
    assert withdrawal["paymentStatus"] == "PAID"
    assert withdrawal["txid"] == paid_out["txid"]  # the payout's transaction on chain


async def test_an_address_the_screening_refuses_is_never_held_for_nor_paid(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    await fully_verified(rt, player.uuid)  # 0.2 BTC is 12,000 EUR: over the KYC deposit thresholds
    await deposit_on_chain(chain, gql, player, "BTC", "0.20000000")
    sanctioned = BTC_DESTINATION[:-4] + "dead"
    refused = await withdraw(gql, player, asset="BTC", address=sanctioned, amount="0.05")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CRYPTO_ADDRESS_REFUSED", "address")]
    assert await cash(rt, player, "BTC") == 20_000_000
    bad = await withdraw(gql, player, asset="BTC", address="0x52908400098527886e0f7030069857d2e4169ee7", amount="1")
    assert [e["code"] for e in bad["errors"]] == ["INVALID_INPUT"]

    # Flagged after the request, before the payout: the processor's adapter screens again and declines.
    asked = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, amount="0.02")
    await chain.settings(flagged={BTC_DESTINATION: "stolen_funds"})
    finance = await make_staff(("finance", "satoshi"))
    approved = await gql(APPROVE, {"input": {"paymentId": asked["payment"]["id"]}}, token=finance.token)
    result = approved["data"]["approveWithdrawal"]["payment"]
    assert (result["status"], result["failureCode"]) == ("FAILED", "PAYMENT_DECLINED")
    assert await cash(rt, player, "BTC") == 20_000_000  # the hold is voided
    assert [t for t in await chain.transfers() if t["kind"] == "withdrawal"] == []


async def test_a_fiat_withdrawal_pays_the_amount_of_the_asset_its_quote_locked(
    rt: Any, gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    player = await make_player(balance="500.00 EUR")
    body = await gql(
        QUOTE,
        {"input": {"asset": "BTC", "currency": "EUR", "direction": "WITHDRAWAL", "amount": "60.00"}},
        token=player.token,
    )
    quote = body["data"]["cryptoQuote"]["quote"]
    assert quote["assetAmount"] == {"amount": "0.00100000", "currency": "BTC"}
    await chain.settings(rates={"BTC/EUR": "10.00"})  # the market moves: the quote holds

    asked = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, quoteId=quote["id"], idempotencyKey="q-1")
    assert asked["errors"] == []
    assert asked["payment"]["amount"] == {"amount": "60.00", "currency": "EUR"}
    assert asked["payment"]["status"] == "PROCESSING"  # below the automatic approval threshold: sent at once
    [paid_out] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (paid_out["amount"], paid_out["currency"]) == ("0.00100000", "BTC")
    assert await cash(rt, player, "EUR") == 44_000

    again = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, quoteId=quote["id"], idempotencyKey="q-2")
    assert [e["code"] for e in again["errors"]] == ["CRYPTO_QUOTE_USED"]
    later = await gql(
        QUOTE,
        {"input": {"asset": "BTC", "currency": "EUR", "direction": "WITHDRAWAL", "amount": "20.00"}},
        token=player.token,
    )
    clock.advance(timedelta(seconds=rt.settings.crypto_quote_ttl_seconds + 1))
    expired = await withdraw(
        gql, player, asset="BTC", address=BTC_DESTINATION, quoteId=later["data"]["cryptoQuote"]["quote"]["id"]
    )
    assert [e["code"] for e in expired["errors"]] == ["CRYPTO_QUOTE_EXPIRED"]
    assert await cash(rt, player, "EUR") == 44_000


async def test_staff_list_crypto_transfers_in_a_fixed_number_of_statements(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    for _ in range(3):
        player = await make_player(brand_code="satoshi", currency="BTC")
        await deposit_on_chain(chain, gql, player, "BTC", "0.01000000")
    finance = await make_staff(("finance", "satoshi"))
    with recorded_statements(rt) as statements:
        body = await gql(TRANSFERS, {"first": 2}, token=finance.token)
    page = body["data"]["cryptoTransfers"]
    assert len(page["edges"]) == 2
    assert page["pageInfo"]["hasNextPage"] is True
    reads = [s for s in statements if "crypto_transfers" in s or "FROM payments" in s]
    assert len(reads) == 2, reads
    rest = await gql(TRANSFERS, {"first": 2, "after": page["pageInfo"]["endCursor"]}, token=finance.token)
    assert len(rest["data"]["cryptoTransfers"]["edges"]) == 1
    royal = await make_staff("finance")  # another brand's staff see none of them
    assert (await gql(TRANSFERS, {}, token=royal.token))["data"]["cryptoTransfers"]["edges"] == []


async def test_ether_and_tether_convert_exactly_both_ways(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="ETH")
    await fully_verified(rt, player.uuid)
    await deposit_on_chain(chain, gql, player, "USDT", "12.345678")
    assert await cash(rt, player, "USDT") == 12_345_678  # six decimals: exactly
    await deposit_on_chain(chain, gql, player, "ETH", "0.5")
    assert await cash(rt, player, "ETH") == 50_000_000
    # Retried at once, three times: one payment, one hold; below 0.03 ETH it is sent straight away.
    asked = await asyncio.gather(
        *(
            withdraw(gql, player, asset="ETH", address=ETH_DESTINATION, amount="0.02345678", idempotencyKey="eth-1")
            for _ in range(3)
        )
    )
    assert len({a["payment"]["id"] for a in asked}) == 1
    assert await cash(rt, player, "ETH") == 50_000_000 - 2_345_678
    [paid_out] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (paid_out["amount"], paid_out["currency"]) == ("0.023456780000000000", "ETH")  # 10^10 wei a unit


async def test_the_processors_network_fee_on_a_payout_is_booked_once_so_clearing_matches_the_processor(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    await fully_verified(rt, player.uuid)
    await chain.settings(fees={"BTC": "0.00001500"})
    await deposit_on_chain(chain, gql, player, "BTC", "0.20000000")
    asked = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, amount="0.02", idempotencyKey="fee-1")
    finance = await make_staff(("finance", "satoshi"))
    await gql(APPROVE, {"input": {"paymentId": asked["payment"]["id"]}}, token=finance.token)
    [paid_out] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    await chain.mine(2)
    await chain.deliver_all(paid_out["foreign_id"])
    for callback in await chain.callbacks(paid_out["foreign_id"]):  # redelivered: booked once
        assert (await chain.deliver(callback)).status_code == 200

    async with rt.database.session() as db:
        rows = (
            await db.execute(
                select(LedgerAccount.purpose, func.sum(LedgerPosting.amount))
                .join(LedgerPosting, LedgerPosting.account_id == LedgerAccount.id)
                .where(LedgerAccount.brand_id == crypto_brand.id, LedgerAccount.currency == "BTC")
                .where(LedgerAccount.purpose.in_(("psp_clearing", "psp_fees")))
                .group_by(LedgerAccount.purpose)
            )
        ).all()
    books = {purpose: int(total) for purpose, total in rows}
    # What the processor holds for us: 0.2 in, 0.02 out, 0.000015 of fee: 0.179985 BTC (clearing: owed to us).
    assert books == {"psp_clearing": -17_998_500, "psp_fees": -1_500}
    withdrawal = (await transfers_seen(gql, finance.token, direction="WITHDRAWAL"))[0]
    assert withdrawal["fee"] == "0.000015"
