"""Crypto edges found in review: a quote kept alive past its expiry, amounts and rates beyond the default
limits, a deposit address credited to another asset (no rate to lock), a reorganisation's callbacks out of order."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from core.clock import clock
from tests.bonuses.conftest import CLAIM, campaign, rules  # noqa: F401  (fixture)
from tests.crypto.conftest import ADDRESS, BTC_DESTINATION, QUOTE, Chain, address_of, cash, withdraw


async def test_a_quote_bound_by_a_refused_withdrawal_still_expires(
    rt: Any,
    gql: Any,
    chain: Chain,
    brand: Any,
    make_player: Any,
    campaign: Any,  # noqa: F811
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "2.00"}), code="KEEPALIVE")
    player = await make_player(balance="500.00 EUR")
    claimed = await gql(CLAIM, {"input": {"code": "KEEPALIVE"}}, token=player.token)
    assert claimed["data"]["claimBonus"]["errors"] == []
    body = await gql(
        QUOTE,
        {"input": {"asset": "BTC", "currency": "EUR", "direction": "WITHDRAWAL", "amount": "60.00"}},
        token=player.token,
    )
    quote = body["data"]["cryptoQuote"]["quote"]
    # Refused (an active bonus): nothing held, the quote bound to the key all the same.
    refused = await withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, quoteId=quote["id"], idempotencyKey="k")
    assert [e["code"] for e in refused["errors"]] == ["BONUS_ACTIVE"]

    # Later the market has moved (a bitcoin now worth 10 EUR): the old quote is no option.
    clock.advance(timedelta(seconds=rt.settings.crypto_quote_ttl_seconds + 1))
    await chain.settings(rates={"BTC/EUR": "10.00"})
    late = await withdraw(
        gql,
        player,
        asset="BTC",
        address=BTC_DESTINATION,
        quoteId=quote["id"],
        idempotencyKey="k",
        forfeitBonuses=True,
    )
    assert [e["code"] for e in late["errors"]] == ["CRYPTO_QUOTE_EXPIRED"]
    assert late["payment"] is None
    assert [t for t in await chain.transfers() if t["kind"] == "withdrawal"] == []
    assert await cash(rt, player, "EUR") == 50_000


async def test_a_quote_too_large_for_the_ledger_is_refused_not_an_internal_error(
    gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    player = await make_player(balance="5.00 EUR")
    for direction in ("DEPOSIT", "WITHDRAWAL"):  # 10^13 EUR is 1.09 x 10^19 micro-USDT: beyond a BIGINT
        body = await gql(
            QUOTE,
            {"input": {"asset": "USDT", "currency": "EUR", "direction": direction, "amount": "10000000000000.00"}},
            token=player.token,
        )
        assert "errors" not in body, body
        payload = body["data"]["cryptoQuote"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_AMOUNT", "amount")], payload


async def test_a_deposit_address_is_credited_to_its_asset_or_a_fiat_currency_never_another_asset(
    gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    player = await make_player(brand_code="satoshi", currency="EUR")
    # No quote prices bitcoin in ether (quotes are in fiat): coins sent there would wait for a rate forever.
    body = await gql(ADDRESS, {"input": {"asset": "BTC", "currency": "ETH"}}, token=player.token)
    payload = body["data"]["cryptoDepositAddress"]
    assert payload["address"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "currency")]
    fine = await gql(ADDRESS, {"input": {"asset": "BTC", "currency": "EUR"}}, token=player.token)
    assert fine["data"]["cryptoDepositAddress"]["address"]["creditCurrency"] == "EUR"


async def test_one_quote_taken_at_once_by_two_withdrawals_serves_one(
    rt: Any, gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    player = await make_player(balance="500.00 EUR")
    body = await gql(
        QUOTE,
        {"input": {"asset": "BTC", "currency": "EUR", "direction": "WITHDRAWAL", "amount": "60.00"}},
        token=player.token,
    )
    quote = body["data"]["cryptoQuote"]["quote"]
    asked = await asyncio.gather(
        *(
            withdraw(gql, player, asset="BTC", address=BTC_DESTINATION, quoteId=quote["id"], idempotencyKey=f"r-{n}")
            for n in range(4)
        )
    )
    assert sorted(tuple(e["code"] for e in a["errors"]) for a in asked) == [()] + [("CRYPTO_QUOTE_USED",)] * 3
    [paid_out] = [t for t in await chain.transfers() if t["kind"] == "withdrawal"]
    assert (paid_out["amount"], paid_out["currency"]) == ("0.00100000", "BTC")
    assert await cash(rt, player, "EUR") == 44_000  # one hold, sent


async def test_a_drop_reported_before_the_confirmations_still_flags_the_credit_for_finance(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any
) -> None:
    """Confirmed, then dropped (a deep reorganisation); the processor's callbacks arrive in another order: the
    drop first. The same final state as in order: credited (the coins were confirmed) and flagged."""
    from sqlmodel import col, select

    from models.outbox import OutboxEvent

    player = await make_player(brand_code="satoshi", currency="BTC")
    address = await address_of(gql, player, "BTC")
    await chain.settings(mode="hold")
    sent = await chain.send("BTC", address["address"], "0.10000000")
    await chain.mine(2)
    await chain.drop(sent["id"])
    seen, two, dropped = await chain.callbacks(sent["id"])
    results = []
    for callback in (seen, dropped, two):
        response = await chain.deliver(callback)
        assert response.status_code == 200, response.text
        results.append(response.json()["result"])
    assert await cash(rt, player, "BTC") == 10_000_000
    async with rt.database.session() as db:
        topics = (
            await db.scalars(
                select(OutboxEvent.topic).where(col(OutboxEvent.topic) == "crypto.deposit_dropped_after_credit")
            )
        ).all()
    assert len(topics) == 1, results


async def test_a_rate_of_eleven_digits_is_locked_exactly_not_an_internal_error(
    gql: Any, chain: Chain, brand: Any, make_player: Any
) -> None:
    """Within the column's 18 integer digits; the default decimal context (28 digits) could not quantize it."""
    player = await make_player(balance="5.00 EUR")
    await chain.settings(rates={"BTC/EUR": "12345678901.5"})
    body = await gql(QUOTE, {"input": {"asset": "BTC", "currency": "EUR", "direction": "DEPOSIT"}}, token=player.token)
    assert "errors" not in body, body
    payload = body["data"]["cryptoQuote"]
    assert payload["errors"] == []
    assert payload["quote"]["rate"] == "12345678901.5"


def test_screening_fails_closed_on_a_level_it_does_not_know() -> None:
    """Review (session): only "high" and "severe" were refused, so a processor answering "Severe" or a level
    of its own was paid to. Only low and medium (any case) pass now."""
    from services.cashier.psp.cryptopay import Screening

    assert [Screening(level, ()).refused for level in ("low", "Medium", " LOW ")] == [False, False, False]
    assert all(Screening(level, ()).refused for level in ("high", "Severe", "HIGH_RISK", "unknown", ""))
