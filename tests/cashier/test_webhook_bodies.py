"""Signed PSP webhooks whose bodies PostgreSQL could not store (a NUL character) or that are nested
thousands deep: refused with 400 and a JSON error before anything is written; the clean event still
applies afterwards."""

from __future__ import annotations

import json
from typing import Any

import pytest
from sqlalchemy import func, select

from integrations.demo.psp.app import DEMO_SECRETS, sign
from models.payments import PspWebhookReceipt
from services import cashier
from tests.cashier.conftest import THREE_DS_CARD, DemoPsp, assert_ledger_ok, attempts, balances, player_viewer


async def post_signed(client: Any, body: str) -> Any:
    return await client.post(
        "/webhooks/psp/cardpay",
        content=body,
        headers={"content-type": "application/json", "x-psp-signature": sign(DEMO_SECRETS["cardpay"], body)},
    )


async def receipts(rt: Any) -> int:
    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(PspWebhookReceipt)) or 0)


def event(reference: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": "evt_1",
        "type": "deposit.succeeded",
        "sequence": 2,
        "data": {"id": "ca_1", "reference": reference, "status": "succeeded"},
        **extra,
    }


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": "evt\u00001"},
        {"type": "deposit.succeeded\u0000"},
        {"note": {"deep": "\u0000"}},
        {"\u0000": 1},
        {"event_id": "evt_\ud800"},  # an unpaired surrogate: valid JSON, not storable text either
    ],
)
async def test_a_nul_character_in_a_signed_webhook_is_a_400_and_writes_nothing(
    rt: Any, psp: DemoPsp, make_player: Any, brand: Any, client: Any, bad: dict[str, Any]
) -> None:
    player = await make_player()
    payment = await cashier.deposit(
        rt,
        player_viewer(player, brand),
        amount="25.00",
        currency="EUR",
        method="card",
        psp_token=await psp.tokenise(THREE_DS_CARD),
    )
    assert payment.status == "pending"
    [attempt] = await attempts(rt, payment.id)

    refused = await post_signed(client, json.dumps({**event(str(attempt.id)), **bad}))
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"] == "malformed body"
    assert await receipts(rt) == 0
    assert await balances(rt, player.uuid) == (0, 0)

    applied = await post_signed(client, json.dumps(event(str(attempt.id))))  # the PSP's clean retry
    assert (applied.status_code, applied.json()["result"]) == (200, "applied")
    assert await balances(rt, player.uuid) == (2500, 0)
    await assert_ledger_ok(rt)


async def test_a_webhook_nested_ten_thousand_deep_is_a_400(rt: Any, client: Any) -> None:
    deep = "[" * 10_000 + "]" * 10_000
    for body in (deep, json.dumps(event("x"))[:-1] + f', "extra": {deep}}}'):
        response = await post_signed(client, body)
        assert response.status_code == 400, response.text
        assert response.json()["error"] == "malformed body"
    assert await receipts(rt) == 0
