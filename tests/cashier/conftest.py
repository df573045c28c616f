"""Cashier fixtures: the demo PSP (reset per test), viewers, card deposits, webhook delivery."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from authz.subjects import Viewer

CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"
THREE_DS_CARD = "4000 0000 0000 3220"


class DemoPsp:
    """Drives the demo PSP's control API, its vault (as the hosted form would) and its webhook log."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def configure(self, psp: str, **behaviour: Any) -> None:
        response = await self.http.post(f"/control/{psp}", json=behaviour)
        assert response.status_code == 200, response.text

    async def tokenise(self, number: str = CARD) -> str:
        response = await self.http.post("/vault/tokens", json={"number": number, "expiry": "12/30", "cvc": "123"})
        assert response.status_code == 201, response.text
        return str(response.json()["token"])

    async def transactions(self, reference: str | None = None) -> list[dict[str, Any]]:
        response = await self.http.get("/control/transactions", params={"reference": reference} if reference else {})
        return list(response.json())

    async def webhooks(self, *, psp: str | None = None, reference: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in (("psp", psp), ("reference", reference)) if v}
        return list((await self.http.get("/control/webhooks", params=params)).json())


@pytest.fixture
async def psp(demo_psp: str) -> AsyncIterator[DemoPsp]:
    async with httpx.AsyncClient(base_url=demo_psp, timeout=10) as http:
        await http.post("/control/reset")
        yield DemoPsp(http)
        await http.post("/control/reset")


def player_viewer(player: Any, brand: Any) -> Viewer:
    return Viewer(kind="player", id=player.uuid, brand_id=brand.id, brand_code=brand.code, roles=frozenset({"player"}))


def staff_viewer(staff: Any, brand: Any, role: str = "finance") -> Viewer:
    return Viewer(kind="staff", id=staff.id, brand_id=brand.id, brand_code=brand.code, roles=frozenset({role, "staff"}))


async def deliver(client: httpx.AsyncClient, delivery: dict[str, Any]) -> httpx.Response:
    """POST a webhook the demo PSP produced to the platform, exactly as the PSP would."""
    return await client.post(
        f"/webhooks/psp/{delivery['psp']}",
        content=delivery["body"],
        headers={"content-type": "application/json", "x-psp-signature": delivery["signature"]},
    )


async def balances(rt: Any, player_uuid: uuid.UUID, currency: str = "EUR") -> tuple[int, int]:
    """(cash, withdrawal pending) in minor units."""
    from services import wallet

    async with rt.database.session() as db:
        found = {b.currency: b for b in await wallet.balances(db, player_uuid)}
    balance = found.get(currency)
    return (balance.cash, balance.withdrawal_pending) if balance else (0, 0)


async def ledger_count(rt: Any, player_uuid: uuid.UUID, kind: str) -> int:
    from models.ledger import LedgerTransaction

    async with rt.database.session() as db:
        return int(
            await db.scalar(
                select(func.count())
                .select_from(LedgerTransaction)
                .where(
                    LedgerTransaction.player_id == player_uuid,
                    LedgerTransaction.kind == kind,
                    LedgerTransaction.status == "committed",
                )
            )
            or 0
        )


async def assert_ledger_ok(rt: Any) -> None:
    from services import ledger

    async with rt.database.session() as db:
        result = await ledger.verify(db)
    assert result.ok, result.discrepancies


async def attempts(rt: Any, payment_id: uuid.UUID) -> list[Any]:
    from services import cashier

    async with rt.database.session() as db:
        return (await cashier.attempts_of(db, [payment_id])).get(payment_id, [])


@pytest.fixture
def card_deposit(rt: Any, psp: DemoPsp, brand: Any) -> Any:
    """`await card_deposit(player, "25.00")`: a real card deposit through the demo PSP, for tests that need
    one. To only give a player money: `make_player(balance="100.00 EUR")`."""

    async def deposit(player: Any, amount: str) -> Any:
        from services import cashier

        token = await psp.tokenise()
        payment = await cashier.deposit(
            rt, player_viewer(player, brand), amount=amount, currency="EUR", method="card", psp_token=token
        )
        assert payment.status == "succeeded", payment
        return payment

    return deposit


@pytest.fixture
def fund(card_deposit: Any) -> Any:
    """The former name of `card_deposit`, kept for tests written against it."""
    return card_deposit


# ---- chargebacks and returned payouts (tests/cashier/test_chargebacks.py, test_disputes.py) ------------


@pytest.fixture
async def held(psp: DemoPsp) -> DemoPsp:
    """The demo PSP keeps its webhooks (the test delivers them, in the order it chooses)."""
    for name in ("cardpay", "bankwire", "swiftpay"):
        await psp.configure(name, webhook="hold")
    return psp


async def notice(psp: DemoPsp, payment: Any, rt: Any, kind: str, **fields: Any) -> dict[str, Any]:
    """The demo PSP announces a notice about the payment's (only) attempt; returns its signed delivery."""
    [attempt] = await attempts(rt, payment.id)
    response = await psp.http.post(f"/control/notices/{attempt.psp}/{attempt.id}", json={"kind": kind, **fields})
    assert response.status_code == 200, response.text
    event_id = response.json()["event_id"]
    [delivery] = [d for d in await psp.webhooks(reference=str(attempt.id)) if d["event_id"] == event_id]
    return delivery
