"""Crypto fixtures: the demo crypto processor's chain (inside the demo PSP's process), a brand that takes
crypto, players' addresses, and callbacks delivered to the platform as the processor would."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

ADDRESS = """
mutation($input: CryptoDepositAddressInput!) {
  cryptoDepositAddress(input: $input) { address { asset network address creditCurrency } errors { code field message } }
}"""
QUOTE = """
mutation($input: CryptoQuoteInput!) {
  cryptoQuote(input: $input) {
    quote { id asset currency direction rate amount { amount currency } assetAmount { amount currency } expiresAt }
    errors { code field message }
  }
}"""
WITHDRAW = """
mutation($input: CryptoWithdrawInput!) {
  cryptoWithdraw(input: $input) {
    payment { id status method amount { amount currency } psp failureCode }
    errors { code field message }
  }
}"""
TRANSFERS = """
query($filter: CryptoTransferFilter, $first: Int, $after: String) {
  cryptoTransfers(filter: $filter, first: $first, after: $after) {
    edges { node { id direction asset network address chainAmount assetAmount { amount currency } dust txid
                   confirmations requiredConfirmations status creditCurrency rate screening paymentId paymentStatus
                   heldReason senderAddress fee } }
    pageInfo { hasNextPage endCursor }
  }
}"""
PAYMENTS = (
    "query { me { payments(first: 20) { edges { node { id kind status method psp amount { amount currency } } } } } }"
)


class Chain:
    """The demo processor's control API: the chain's transfers and blocks, its callbacks (kept: the test
    delivers them to the platform, in the order it chooses)."""

    def __init__(self, http: httpx.AsyncClient, platform: httpx.AsyncClient) -> None:
        self.http = http
        self.platform = platform

    async def settings(self, **changes: Any) -> None:
        response = await self.http.post("/cryptopay/control/settings", json=changes)
        assert response.status_code == 200, response.text

    async def send(self, currency: str, address: str, amount: str) -> dict[str, Any]:
        response = await self.http.post(
            "/cryptopay/control/send", json={"currency": currency, "address": address, "amount": amount}
        )
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def mine(self, blocks: int = 1) -> list[str]:
        response = await self.http.post("/cryptopay/control/mine", json={"blocks": blocks})
        return list(response.json()["callbacks"])

    async def drop(self, tx_id: str) -> None:
        assert (await self.http.post(f"/cryptopay/control/drop/{tx_id}")).status_code == 200

    async def callbacks(self, reference: str | None = None) -> list[dict[str, Any]]:
        params = {"reference": reference} if reference else {}
        return list((await self.http.get("/cryptopay/control/webhooks", params=params)).json())

    async def transfers(self) -> list[dict[str, Any]]:
        return list((await self.http.get("/cryptopay/control/transfers")).json())

    async def deliver(self, callback: dict[str, Any], *, signature: str | None = None) -> httpx.Response:
        """POST a callback to the platform exactly as the processor does."""
        return await self.platform.post(
            "/webhooks/psp/cryptopay",
            content=callback["body"],
            headers={
                "content-type": "application/json",
                "x-processing-signature": signature or callback["signature"],
            },
        )

    async def deliver_all(self, reference: str | None = None) -> list[dict[str, Any]]:
        results = []
        for callback in await self.callbacks(reference):
            response = await self.deliver(callback)
            assert response.status_code == 200, response.text
            results.append(response.json())
        return results


@contextlib.asynccontextmanager
async def processor_chain(demo_psp: str, client: httpx.AsyncClient) -> AsyncIterator[Chain]:
    """The demo processor's chain, reset before and after (the `chain` fixture; other folders' tests too)."""
    async with httpx.AsyncClient(base_url=demo_psp, timeout=10) as http:
        await http.post("/cryptopay/control/reset")
        yield Chain(http, client)
        await http.post("/cryptopay/control/reset")


@pytest.fixture
async def chain(demo_psp: str, client: httpx.AsyncClient) -> AsyncIterator[Chain]:
    async with processor_chain(demo_psp, client) as found:
        yield found


@pytest.fixture
async def crypto_brand(rt: Any, brand: Any) -> Any:
    """A brand that keeps wallets in crypto too (the `royal` brand takes fiat only)."""
    from services import brands

    async with rt.database.transaction() as db:
        return await brands.create_brand(
            db,
            code="satoshi",
            name="Satoshi Casino",
            default_currency="BTC",
            currencies=["BTC", "ETH", "USDT", "EUR"],
            countries=["MT"],
            minimum_age=18,
        )


async def address_of(gql: Any, player: Any, asset: str, currency: str | None = None) -> dict[str, Any]:
    body = await gql(
        ADDRESS, {"input": {"asset": asset, **({"currency": currency} if currency else {})}}, token=player.token
    )
    payload = body["data"]["cryptoDepositAddress"]
    assert payload["errors"] == [], payload
    return dict(payload["address"])


async def cash(rt: Any, player: Any, currency: str) -> int:
    from services import wallet

    async with rt.database.session() as db:
        found = {b.currency: b for b in await wallet.balances(db, player.uuid)}
    return found[currency].cash if currency in found else 0


async def payments_of(gql: Any, player: Any) -> list[dict[str, Any]]:
    body = await gql(PAYMENTS, token=player.token)
    return [edge["node"] for edge in body["data"]["me"]["payments"]["edges"]]


async def transfers_seen(gql: Any, token: str, **filter: Any) -> list[dict[str, Any]]:
    body = await gql(TRANSFERS, {"filter": filter or None}, token=token)
    assert not body.get("errors"), body
    return [edge["node"] for edge in body["data"]["cryptoTransfers"]["edges"]]


APPROVE = """
mutation($input: ApproveWithdrawalInput!) {
  approveWithdrawal(input: $input) { payment { id status failureCode } errors { code field message } }
}"""
# Addresses of the right shapes nobody flagged (the demo screening refuses those ending in "dead").
BTC_DESTINATION = "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
ETH_DESTINATION = "0x52908400098527886e0f7030069857d2e4169ee7"


async def deposit_on_chain(chain: Chain, gql: Any, player: Any, asset: str, amount: str) -> None:
    """Coins sent to the player's address and confirmed, every callback delivered."""
    address = await address_of(gql, player, asset)
    sent = await chain.send(asset, address["address"], amount)
    await chain.mine(12)
    await chain.deliver_all(sent["id"])


async def withdraw(gql: Any, player: Any, **input: Any) -> dict[str, Any]:
    body = await gql(WITHDRAW, {"input": input}, token=player.token)
    assert not body.get("errors"), body
    return dict(body["data"]["cryptoWithdraw"])
