"""Risk fixtures: registrations and logins with request headers (device id, client IP), the `risk-signals`
consumer drained on demand (as the server's runner would), list management through GraphQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg
import pytest
from strawberry import relay

from core.consumers import Runner
from services.risk.consumer import SignalsConsumer
from tests.cashier.conftest import psp  # noqa: F401  (fixture)
from tests.conftest import DATABASE_URL, PASSWORD, REGISTER, PlayerAccount

ADD_ENTRY = """
mutation($input: AddRiskListEntryInput!) {
  addRiskListEntry(input: $input) {
    entry { id list kind value reason expiresAt allBrands } errors { code field message }
  }
}"""
REMOVE_ENTRY = """
mutation($input: RemoveRiskListEntryInput!) {
  removeRiskListEntry(input: $input) { entry { id removedAt } errors { code field message } }
}"""
LINKED = """
query($id: ID!) { player(id: $id) { risk { clusterSize linkedPlayers {
  player { id email } sharedSignals { kind value firstSeen } } } } }"""


@dataclass
class Signals:
    runner: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)

    async def cluster_of(self, player: PlayerAccount) -> uuid.UUID | None:
        found: uuid.UUID | None = await self.conn.fetchval(
            "SELECT cluster_id FROM risk_clusters WHERE player_id = $1", player.uuid
        )
        return found


@pytest.fixture(autouse=True)
def royal(brand: Any) -> Any:
    """Every risk test registers at the brand "royal"."""
    return brand


@pytest.fixture
async def signals(rt: Any) -> AsyncIterator[Signals]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        member = f"test-{uuid.uuid4().hex[:6]}"
        yield Signals(Runner(SignalsConsumer(), DATABASE_URL, rt.redis, member=member), conn)
    finally:
        await conn.close()


def request_headers(device: str | None = None, user_agent: str | None = None) -> dict[str, str]:
    headers = {"User-Agent": user_agent or "Mozilla/5.0 (test)"}
    if device is not None:
        headers["X-Device-Id"] = device
    return headers


async def register(
    gql: Any,
    email: str,
    *,
    device: str | None = None,
    phone: str | None = None,
    country: str = "MT",
    address: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The registration's payload as the frontend gets it (errors included); `address` holds the postal
    address's input fields (`addressLine1`, `city`, `postalCode`, ...)."""
    variables: dict[str, Any] = {
        "brand": "royal",
        "email": email,
        "password": PASSWORD,
        "dateOfBirth": date(1990, 1, 1).isoformat(),
        "country": country,
        "currency": "EUR",
        **(address or {}),
    }
    if phone:
        variables["phone"] = phone
    body = await gql(REGISTER, {"input": variables}, headers=request_headers(device))
    payload: dict[str, Any] = body["data"]["registerPlayer"]
    return payload


async def registered(gql: Any, email: str, **given: Any) -> PlayerAccount:
    payload = await register(gql, email, **given)
    assert payload["errors"] == [], payload
    gid = payload["player"]["id"]
    return PlayerAccount(
        gid,
        uuid.UUID(relay.GlobalID.from_id(gid).node_id),
        email,
        "royal",
        payload["tokens"]["accessToken"],
        payload["tokens"]["refreshToken"],
    )


async def add_entry(gql: Any, token: str, **given: Any) -> dict[str, Any]:
    body = await gql(ADD_ENTRY, {"input": {"reason": "fraud ring", **given}}, token=token)
    payload: dict[str, Any] = body["data"]["addRiskListEntry"]
    return payload


# ---- the `risk-rules` consumer's tests (tests/risk/test_stream_*.py) ---------------------------------
from tests.bonuses.conftest import campaign  # noqa: E402, F401  (fixtures)
from tests.cashier.conftest import card_deposit, held  # noqa: E402, F401
from tests.providers.conftest import aggregator, aggregator_key, hub88_provider  # noqa: E402, F401
from tests.risk.stream_support import stream  # noqa: E402, F401
