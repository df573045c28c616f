"""What the jackpot surface tests share: jackpots created through `createJackpot` as staff do, bets placed
through the Hub88 wallet as the aggregator does, and the `jackpots` consumer drained on demand (as the
server's runner would; the test server runs no consumer)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from tests.backoffice.browser.conftest import browser, page  # noqa: F401  (fixtures: the screens' tests)
from tests.conftest import DATABASE_URL
from tests.events.tally import until
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
    seat,
)

CREATE = """mutation($input: CreateJackpotInput!) { createJackpot(input: $input) {
  jackpot { id code status levels { id level amount { amount currency } } } errors { code field message } } }"""
EUR = 100_000  # one euro in Hub88 units (the ledger's minor unit is 1,000 of them)


def one_level(seed: str, percent: str, must_drop_by: str) -> list[dict[str, Any]]:
    """The `levels` of a jackpot with one must-drop-by-amount level, `mini`."""
    return [
        {"level": "mini", "seed": seed, "contributionPercent": percent, "trigger": "AMOUNT", "mustDropBy": must_drop_by}
    ]


def jackpot_input(code: str = "mega", **overrides: Any) -> dict[str, Any]:
    """A local progressive EUR jackpot of royal with two must-drop-by-amount levels."""
    levels = [
        {"level": "mini", "seed": "10.00", "contributionPercent": "1", "trigger": "AMOUNT", "mustDropBy": "50.00"},
        {"level": "major", "seed": "100.00", "contributionPercent": "0.5", "trigger": "AMOUNT", "mustDropBy": "500.00"},
    ]
    return {
        "code": code,
        "name": code.title(),
        "kind": "LOCAL",
        "type": "PROGRESSIVE",
        "currency": "EUR",
        "brands": ["royal"],
        "levels": levels,
        **overrides,
    }


async def create_jackpot(gql: Any, token: str, code: str = "mega", **overrides: Any) -> dict[str, Any]:
    body = await gql(CREATE, {"input": jackpot_input(code, **overrides)}, token=token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["createJackpot"]
    return payload


async def created(gql: Any, token: str, code: str = "mega", **overrides: Any) -> dict[str, Any]:
    payload = await create_jackpot(gql, token, code, **overrides)
    assert payload["errors"] == [], payload
    jackpot: dict[str, Any] = payload["jackpot"]
    return jackpot


@dataclass
class Contributions:
    """The `jackpots` consumer, drained when a test chooses, after the relay published what came before."""

    runner: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        async def published() -> bool:
            return not await self.conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")

        await until(published, "the relay to publish every event")
        return await self.runner.drain(self.conn)


@pytest.fixture
async def contributions(rt: Any, settings: Any) -> AsyncIterator[Contributions]:
    from services.jackpots.consumer import JackpotConsumer

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        consumer = JackpotConsumer(settings.stated_rates)
        yield Contributions(Runner(consumer, DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}"), conn)
    finally:
        await conn.close()


async def bet(wallet: Aggregator, at: Seat, euros: int) -> None:
    answer = await wallet.call("transaction/bet", at.bet(euros * EUR))
    assert answer["status"] == "RS_OK", answer
