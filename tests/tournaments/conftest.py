"""Tournament fixtures: the `tournaments` consumer drained on demand (as the server's runner would), staff that
run tournaments, a tournament created through GraphQL, Hub88 play (tests/providers, tests/reports), and the
after-test check every tournament test ends with: each tournament's standings recompute from its rounds
(`croupier tournaments verify`), unless the test tampers on purpose."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from strawberry import relay

from core.clock import clock
from core.consumers import Runner, replay
from services.tournaments import results
from services.tournaments.consumer import ScoreChange, TournamentsConsumer
from tests.conftest import DATABASE_URL
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    Aggregator,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
)

EUR = 100_000  # one euro in Hub88 units (a ledger cent is 1_000 of them)

CREATE = """
mutation($input: CreateTournamentInput!) {
  createTournament(input: $input) {
    tournament { id state scoring entryMode buyIn { amount currency } prizes { rankFrom rankTo kind shareBps } }
    errors { code field message }
  }
}"""
JOIN = """
mutation($input: JoinTournamentInput!) {
  joinTournament(input: $input) {
    entry { status score buyIns rebuys roundsCounted tournament { id name } }
    errors { code field message }
  }
}"""
MY_ENTRIES = """
{ myTournamentEntries { edges { node { score roundsCounted reachedAt finalRank status buyIns rebuys
  tournament { id state } } } } }"""
SETTLE = """
mutation($input: SettleTournamentInput!) {
  settleTournament(input: $input) {
    tournament { id state resultsHash payouts { rank kind amount currency status } }
    errors { code field message }
  }
}"""
CANCEL = """
mutation($input: CancelTournamentInput!) {
  cancelTournament(input: $input) { tournament { id state } errors { code field message } }
}"""


def tournament_uuid(gid: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(gid).node_id)


@dataclass
class Scores:
    """The `tournaments` consumer, run when the test chooses; `changes` is what its after-commit hook got."""

    runner: Runner
    conn: asyncpg.Connection
    changes: list[ScoreChange] = field(default_factory=list)

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)

    async def replay(self) -> int:
        return await replay(self.runner, self.conn)

    async def entries(self, tournament_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT player_id, score, reached_seq, rounds_counted, status FROM tournament_entries "
            "WHERE tournament_id = $1 ORDER BY score DESC, reached_seq ASC NULLS LAST, player_id",
            tournament_id,
        )
        return [dict(r) for r in rows]


@pytest.fixture
async def scores(rt: Any) -> AsyncIterator[Scores]:
    conn = await asyncpg.connect(DATABASE_URL)
    holder: list[ScoreChange] = []

    async def hook(changes: list[ScoreChange]) -> None:
        holder.extend(changes)

    consumer = TournamentsConsumer(on_scores_changed=hook)
    runner = Runner(consumer, DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}")
    try:
        yield Scores(runner, conn, holder)
    finally:
        await conn.close()


@pytest.fixture(autouse=True)
async def standings_recompute_from_rounds(
    request: pytest.FixtureRequest, clean_state: None, rt: Any
) -> AsyncIterator[None]:
    """After each test (unless it tampers on purpose): every tournament verifies."""
    yield
    if request.node.get_closest_marker("tampers") is not None:
        return
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        for row in await conn.fetch("SELECT id FROM tournaments"):
            check = await results.verify(conn, row["id"])
            assert check.ok, check.problems
    finally:
        await conn.close()


@pytest.fixture
async def organiser(make_staff: Any) -> Any:
    """A brand admin of royal: creates, cancels and settles tournaments."""
    return await make_staff("brand_admin")


@pytest.fixture
def create(gql: Any, organiser: Any) -> Any:
    """Create a tournament through GraphQL (from a minute ago to five minutes from now, unless told otherwise:
    `finish` moves the clock past its end within the staff's access token's life)."""

    async def make(**overrides: Any) -> dict[str, Any]:
        now = clock.now()
        spec = {
            "name": "Friday Drops",
            "currency": "EUR",
            "startsAt": (now - timedelta(minutes=1)).isoformat(),
            "endsAt": (now + timedelta(minutes=5)).isoformat(),
            "scoring": "POINTS_PER_WAGER",
            **overrides,
        }
        body = await gql(CREATE, {"input": spec}, token=organiser.token)
        payload: dict[str, Any] = body["data"]["createTournament"]
        return payload

    return make


async def join(gql: Any, player: Any, tournament_gid: str, *, rebuy: int | None = None) -> dict[str, Any]:
    body = await gql(JOIN, {"input": {"tournamentId": tournament_gid, "rebuyNumber": rebuy}}, token=player.token)
    assert body.get("data"), body
    payload: dict[str, Any] = body["data"]["joinTournament"]
    return payload


async def seated(rt: Any, provider: Any, player: Any, currency: str = "EUR") -> Seat:
    token = await open_session(rt, provider, player.uuid, currency=currency, ttl=timedelta(days=31))
    return Seat(str(player.uuid), player.uuid, token, currency)


async def bet(wallet: Aggregator, at: Seat, stake: int, round_ref: str) -> dict[str, Any]:
    sent = at.bet(stake, round_ref=round_ref)
    assert (await wallet.call("transaction/bet", sent))["status"] == "RS_OK"
    return sent


async def win(wallet: Aggregator, at: Seat, amount: int, on: dict[str, Any]) -> dict[str, Any]:
    sent = at.win(amount, on["transaction_uuid"], round_ref=on["round"])
    assert (await wallet.call("transaction/win", sent))["status"] == "RS_OK"
    return sent


async def roll_back(wallet: Aggregator, at: Seat, transaction: dict[str, Any]) -> None:
    answer = await wallet.call(
        "transaction/rollback", at.rollback(transaction["transaction_uuid"], round_ref=transaction["round"])
    )
    assert answer["status"] == "RS_OK", answer


def finish(minutes: float = 6) -> None:
    """Move the platform clock past the tournament's end."""
    clock.advance(timedelta(minutes=minutes))


async def run_cli(*args: str) -> tuple[int, str]:
    """`croupier ARGS` as a child process (tests/cli_process.py): exit code and output."""
    import os

    from tests import cli_process
    from tests.conftest import TEST_ENV

    done = await cli_process.run_async(*args, env={**os.environ, **TEST_ENV}, merge_stderr=True, timeout=120)
    return done.returncode, done.stdout


@dataclass
class Arena:
    """Hub88 play scored by the consumer, and the organiser who settles: what most tournament tests need."""

    rt: Any
    gql: Any
    organiser: Any
    scores: Scores
    provider: Any
    wallet: Aggregator

    async def seat(self, player: Any) -> Seat:
        return await seated(self.rt, self.provider, player)

    async def stake(self, player: Any, amount: int, round_ref: str) -> dict[str, Any]:
        return await bet(self.wallet, await self.seat(player), amount, round_ref)

    async def settle(self, gid: str) -> dict[str, Any]:
        """The clock past the end, the tournament finished, settled through GraphQL: the payload."""
        from services.tournaments import lifecycle

        finish()
        await lifecycle.tick(self.rt)
        body = await self.gql(SETTLE, {"input": {"tournamentId": gid}}, token=self.organiser.token)
        payload: dict[str, Any] = body["data"]["settleTournament"]
        return payload


@pytest.fixture
async def arena(
    rt: Any,
    gql: Any,
    organiser: Any,
    scores: Scores,
    hub88_provider: Any,  # noqa: F811  (the fixture, imported above)
    aggregator: Aggregator,  # noqa: F811
) -> Arena:
    return Arena(rt, gql, organiser, scores, hub88_provider, aggregator)
