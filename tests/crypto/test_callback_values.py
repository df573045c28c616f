"""Absurd values in a correctly signed callback: refused with a structured 400 naming the field, and nothing
written (no receipt, no transfer, no payment, no money), so the processor's corrected retry applies cleanly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from models.crypto import CryptoTransfer
from models.payments import Payment, PspWebhookReceipt
from services.cashier.crypto.processor import processor
from services.cashier.psp.cryptopay import signature
from tests.crypto.conftest import Chain, address_of, cash


def _deposit(to: str, **changes: Any) -> dict[str, Any]:
    transaction = {
        "id": "tx_absurd",
        "txid": "ab" * 32,
        "currency": "BTC",
        "amount": "0.01000000",
        "address": to,
        "confirmations": 2,
    }
    transaction.update(changes)
    return {"id": "cb_absurd", "type": "deposit", "status": "confirmed", "transaction": transaction}


ABSURD_DEPOSITS = [
    ({"amount": "-0.01"}, "transaction.amount"),
    ({"amount": "0"}, "transaction.amount"),
    ({"amount": "100000000000"}, "transaction.amount"),  # more satoshi than a ledger amount holds
    ({"amount": "1e30"}, "transaction.amount"),
    ({"amount": "0.000000001"}, "transaction.amount"),  # nine decimals: bitcoin has eight
    ({"amount": "NaN"}, "transaction.amount"),
    ({"amount": "Infinity"}, "transaction.amount"),
    ({"amount": "0x10"}, "transaction.amount"),
    ({"amount": ["0.01"]}, "transaction.amount"),
    ({"currency": "DOGE"}, "transaction.currency"),
    ({"currency": "EUR"}, "transaction.currency"),
    ({"confirmations": "two"}, "transaction.confirmations"),
    ({"confirmations": -1}, "transaction.confirmations"),
    ({"confirmations": 2.5}, "transaction.confirmations"),
    ({"confirmations": True}, "transaction.confirmations"),
    ({"confirmations": 10**12}, "transaction.confirmations"),  # past an INTEGER column
    ({"id": "t" * 101}, "transaction.id"),
    ({"txid": "f" * 129}, "transaction.txid"),
    ({"address": "bc1q" + "x" * 200}, "transaction.address"),
]


async def _deliver(chain: Chain, secret: str, body: dict[str, Any]) -> Any:
    raw = json.dumps(body)
    return await chain.platform.post(
        "/webhooks/psp/cryptopay",
        content=raw,
        headers={"content-type": "application/json", "x-processing-signature": signature(secret, raw.encode())},
    )


async def _written(rt: Any) -> tuple[int, int, int]:
    async with rt.database.session() as db:
        return (
            int(await db.scalar(select(func.count()).select_from(PspWebhookReceipt)) or 0),
            int(await db.scalar(select(func.count()).select_from(CryptoTransfer)) or 0),
            int(await db.scalar(select(func.count()).select_from(Payment)) or 0),
        )


@pytest.mark.parametrize(("change", "field"), ABSURD_DEPOSITS, ids=[f for _, f in ABSURD_DEPOSITS])
async def test_a_signed_deposit_callback_with_an_absurd_value_is_refused_and_changes_nothing(
    rt: Any, gql: Any, chain: Chain, crypto_brand: Any, make_player: Any, change: dict[str, Any], field: str
) -> None:
    player = await make_player(brand_code="satoshi", currency="BTC")
    address = (await address_of(gql, player, "BTC"))["address"]
    secret = processor(rt.settings).secret
    before = await _written(rt)

    response = await _deliver(chain, secret, _deposit(address, **change))

    assert response.status_code == 400, response.text
    refusal = response.json()
    assert (refusal["code"], refusal["field"]) == ("MALFORMED_WEBHOOK", field)
    assert await _written(rt) == before
    assert await cash(rt, player, "BTC") == 0
    # The processor's corrected callback under the same event id is then applied: nothing was kept of the first.
    fixed = await _deliver(chain, secret, _deposit(address))
    assert fixed.status_code == 200
    assert fixed.json() == {"received": True, "duplicate": False, "result": "applied"}
    assert await cash(rt, player, "BTC") == 1_000_000


PAID = {"id": "cb_1", "type": "withdrawal", "status": "confirmed", "foreign_id": "a"}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": "cb_1", "type": "refund", "status": "confirmed"}, "type"),
        ({"id": "cb_1", "type": "deposit", "status": "confirmed", "transaction": "tx_1"}, "transaction"),
        ({"id": "cb_1", "type": "deposit", "status": "mined", "transaction": {}}, "status"),
        ({"id": "x" * 101, "type": "deposit", "status": "confirmed", "transaction": {}}, "id"),
        ({"type": "deposit", "status": "confirmed", "transaction": {}}, "id"),
        ({"id": "cb_1", "type": "withdrawal", "status": "paid", "foreign_id": "a"}, "status"),
        ({"id": "cb_1", "type": "withdrawal", "status": "confirmed", "foreign_id": "a" * 101}, "foreign_id"),
        ({"id": "cb_1", "type": "withdrawal", "status": "confirmed", "foreign_id": "a", "sequence": "x"}, "sequence"),
        ({**PAID, "currency": "BTC", "fee": "-1"}, "fee"),
        ({**PAID, "currency": "BTC", "fee": "0.000000001"}, "fee"),
        ({**PAID, "currency": "XX", "fee": "1"}, "currency"),
    ],
)
async def test_a_signed_callback_of_no_known_shape_is_refused_with_its_field(
    rt: Any, chain: Chain, body: dict[str, Any], field: str
) -> None:
    before = await _written(rt)
    response = await _deliver(chain, processor(rt.settings).secret, body)
    assert response.status_code == 400, response.text
    assert (response.json()["code"], response.json()["field"]) == ("MALFORMED_WEBHOOK", field)
    assert await _written(rt) == before


async def test_a_transfer_worth_more_than_a_fiat_wallet_holds_is_refused_and_changes_nothing(
    rt: Any, gql: Any, chain: Chain, make_player: Any
) -> None:
    """Within the ledger's bounds in bitcoin, but not once priced in euro cents at an absurd rate."""
    player = await make_player(currency="EUR")
    address = (await address_of(gql, player, "BTC"))["address"]
    await chain.settings(rates={"BTC/EUR": "900000000000"})
    before = await _written(rt)
    sent = await chain.send("BTC", address, "5000000")
    response = await chain.deliver((await chain.callbacks(sent["id"]))[0])
    assert response.status_code == 400, response.text
    assert (response.json()["code"], response.json()["field"]) == ("MALFORMED_WEBHOOK", "transaction.amount")
    assert await _written(rt) == before
    assert await cash(rt, player, "EUR") == 0
