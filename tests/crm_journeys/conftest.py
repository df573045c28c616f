"""Journey fixtures: journeys built through GraphQL by marketing, players who consent to email (the CRM
consent rows), and the `crm-journeys` consumer and the clock worker driven by the test (no sleeping: the
clock moves)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from core.consumers import Runner
from services.crm.journeys import clock as journey_clock
from services.crm.journeys.consumer import JourneysConsumer
from tests.conftest import DATABASE_URL
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
)

CENT = 1_000  # Hub88 units of a ledger cent

CREATE = """
mutation($input: CreateJourneyInput!) { createJourney(input: $input) {
  journey { id key version name status triggerKind definition } errors { code field message } } }"""
UPDATE = """
mutation($input: UpdateJourneyInput!) { updateJourney(input: $input) {
  journey { id name status definition } errors { code field message } } }"""
NEW_VERSION = """
mutation($input: NewJourneyVersionInput!) { newJourneyVersion(input: $input) {
  journey { id key version status } errors { code field message } } }"""
SET_STATUS = """
mutation($input: SetJourneyStatusInput!) { setJourneyStatus(input: $input) {
  journey { id status supersededBy } errors { code field message } } }"""
SELF_EXCLUDE = "mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"


def welcome(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A definition triggered by registration (no quiet hours unless given)."""
    return {"trigger": {"kind": "registered"}, "quiet_hours": None, "steps": list(steps), **extra}


SEND = {"kind": "send", "channel": "email", "template": "welcome"}


@dataclass
class Journeys:
    rt: Any
    gql: Any
    token: str
    runner: Runner
    conn: asyncpg.Connection

    async def create(self, definition: dict[str, Any], *, name: str = "Welcome", activate: bool = True) -> str:
        body = await self.gql(CREATE, {"input": {"name": name, "definition": definition}}, token=self.token)
        payload = body["data"]["createJourney"]
        assert payload["errors"] == [], payload
        journey_id = str(payload["journey"]["id"])
        if activate:
            await self.status(journey_id, "ACTIVE")
        return journey_id

    async def status(self, journey_id: str, status: str) -> dict[str, Any]:
        body = await self.gql(SET_STATUS, {"input": {"journeyId": journey_id, "status": status}}, token=self.token)
        payload: dict[str, Any] = body["data"]["setJourneyStatus"]
        return payload

    async def decide(self) -> int:
        """What the consumer does with the events so far."""
        return await self.runner.drain(self.conn)

    async def step(self) -> int:
        """One round of the clock worker: time triggers, then the due runs."""
        await journey_clock.time_triggers(self.rt)
        return await journey_clock.run_due(self.rt)

    async def runs(self, player_id: uuid.UUID | None = None) -> list[Any]:
        return list(
            await self.conn.fetch(
                "SELECT * FROM crm_journey_runs WHERE $1::uuid IS NULL OR player_id = $1 ORDER BY decided_at, id",
                player_id,
            )
        )

    async def steps(self, player_id: uuid.UUID) -> list[tuple[str, str, str | None]]:
        rows = await self.conn.fetch(
            "SELECT s.kind, s.outcome, s.reason FROM crm_journey_steps s JOIN crm_journey_runs r ON r.id = s.run_id "
            "WHERE r.player_id = $1 ORDER BY s.id",
            player_id,
        )
        return [(r["kind"], r["outcome"], r["reason"]) for r in rows]

    async def messages(self, player_id: uuid.UUID) -> list[Any]:
        return list(
            await self.conn.fetch(
                "SELECT template, channel, status, source_kind FROM crm_messages WHERE player_id = $1 "
                "ORDER BY created_at",
                player_id,
            )
        )


@pytest.fixture
async def journeys(rt: Any, gql: Any, make_staff: Any) -> AsyncIterator[Journeys]:
    conn = await asyncpg.connect(DATABASE_URL)
    runner = Runner(JourneysConsumer(), DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}")
    try:
        yield Journeys(rt, gql, (await make_staff("marketing")).token, runner, conn)
    finally:
        await conn.close()


@pytest.fixture
def reachable(rt: Any, make_player: Any) -> Any:
    """`await reachable(time_zone=...)`: a player who accepted marketing, with email and inbox consent for
    casino (the CRM consent rows)."""

    async def make(*, time_zone: str = "UTC", **extra: Any) -> Any:
        player = await make_player(marketingConsent=True, **extra)
        async with rt.database.transaction() as db:
            await db.execute(
                text("UPDATE players SET time_zone = :tz WHERE id = :id"), {"tz": time_zone, "id": player.uuid}
            )
            for channel in ("email", "inbox"):
                await db.execute(
                    text(
                        "INSERT INTO crm_consents (player_id, product, channel, granted, source) "
                        "VALUES (:id, 'casino', :channel, true, 'registration') ON CONFLICT DO NOTHING"
                    ),
                    {"id": player.uuid, "channel": channel},
                )
        return player

    return make


@pytest.fixture
def play(rt: Any, hub88_provider: Any, aggregator: Aggregator) -> Any:  # noqa: F811  (the fixtures above)
    """`await play(player, stake=100, won=15_000)`: a real round on the Hub88 aggregator (cents)."""

    async def make(player: Any, *, stake: int, won: int) -> None:
        token = await open_session(rt, hub88_provider, player.uuid, currency="EUR", ttl=timedelta(days=31))
        seat = Seat(str(player.uuid), player.uuid, token, "EUR")
        round_ref = f"r-{uuid.uuid4().hex[:8]}"
        bet = seat.bet(stake * CENT, round_ref=round_ref)
        assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
        paid = seat.win(won * CENT, bet["transaction_uuid"], round_ref=round_ref)
        assert (await aggregator.call("transaction/win", paid))["status"] == "RS_OK"

    return make
