"""Monitoring fixtures: the `aml_monitoring` consumer drained on demand (as the server's runner would),
deposits and withdrawal requests through the cashier's GraphQL with the demo PSP, and the alerts stored."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from services.aml.monitoring.consumer import MonitoringConsumer
from tests.cashier.conftest import psp  # noqa: F401  (fixture)
from tests.conftest import DATABASE_URL
from tests.kyc.conftest import fully_verified

DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status } errors { code field message } }
}"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status } errors { code field message } }
}"""


@dataclass
class Monitoring:
    runner: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)

    async def alerts(self) -> list[dict[str, Any]]:
        return [dict(r) for r in await self.conn.fetch("SELECT * FROM aml_alerts ORDER BY event_id")]

    async def event_id(self, topic: str, **data: str) -> list[int]:
        rows = await self.conn.fetch(
            "SELECT id FROM outbox_events WHERE topic = $1 AND payload @> $2::jsonb ORDER BY id",
            topic,
            json.dumps(data),
        )
        return [r["id"] for r in rows]


@pytest.fixture
async def monitoring(rt: Any) -> AsyncIterator[Monitoring]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        member = f"test-{uuid.uuid4().hex[:6]}"
        yield Monitoring(Runner(MonitoringConsumer(), DATABASE_URL, rt.redis, member=member), conn)
    finally:
        await conn.close()


@pytest.fixture
def deposit(gql: Any, psp: Any, rt: Any) -> Any:  # noqa: F811
    """`await deposit(player, "1900.00")`: a card deposit through GraphQL and the demo PSP; one card per
    player unless `card` names another (the instrument rule counts cards). Each player is verified for KYC
    first: monitoring watches verified players' money too, and the CDD gate is not what these tests test."""
    cards: dict[Any, str] = {}
    verified: set[Any] = set()

    async def run(player: Any, amount: str, *, card: str | None = None) -> str:
        if player.id not in verified:
            await fully_verified(rt, player.uuid)
            verified.add(player.id)
        key = (player.id, card)
        if key not in cards:
            cards[key] = await psp.tokenise()
        body = await gql(
            DEPOSIT,
            {"input": {"amount": amount, "currency": "EUR", "method": "CARD", "pspToken": cards[key]}},
            token=player.token,
        )
        payload = body["data"]["deposit"]
        assert payload["errors"] == [], body
        assert payload["payment"]["status"] == "SUCCEEDED", body
        return str(payload["payment"]["id"])

    return run


@pytest.fixture
def withdraw(gql: Any) -> Any:
    async def run(player: Any, amount: str) -> dict[str, Any]:
        body = await gql(
            WITHDRAW,
            {"input": {"amount": amount, "currency": "EUR", "method": "BANK_TRANSFER"}},
            token=player.token,
        )
        payload: dict[str, Any] = body["data"]["requestWithdrawal"]
        assert payload["errors"] == [], body
        return payload

    return run


WINDOWS = {
    "aml_monitoring_players": "player_id",
    "aml_monitoring_deposits": "player_id, event_id",
    "aml_alerts": "event_id",
    "aml_cases": "source_id",  # what block_and_review and decline open (services/aml/monitoring/acting.py)
    "aml_restrictions": "case_id",
    "aml_case_events": "case_id, action",
}


async def snapshot(conn: asyncpg.Connection) -> dict[str, list[dict[str, Any]]]:
    """Every row the consumer keeps, and the alerts it announced, in key order."""
    found = {
        table: [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY {order}")]
        for table, order in WINDOWS.items()
    }
    found["announced"] = [
        dict(r) for r in await conn.fetch("SELECT id, payload FROM outbox_events WHERE topic LIKE 'aml.%' ORDER BY id")
    ]
    return found
