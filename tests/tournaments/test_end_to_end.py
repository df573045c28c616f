"""A demo tournament end to end: created by staff through GraphQL, joined by players, played on the demo
provider (its own process, calling the wallet as a provider does) and through the Hub88 wallet API (where the
aggregator rolls a bet back), scored by the `tournaments` consumer, finished by the clock, settled with a prize
from the house, verified from its rounds by `croupier tournaments verify`, and the ledger verified clean."""

from __future__ import annotations

import asyncio
import hashlib
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlmodel import col, select
from strawberry import relay

from core.consumers import Event
from integrations.demo import seed
from integrations.demo.provider import fair
from integrations.demo.provider.platform import register_demo_provider
from models.games import Game, Provider
from services.tournaments import lifecycle
from tests.tournaments.conftest import (
    EUR,
    MY_ENTRIES,
    SETTLE,
    Scores,
    bet,
    finish,
    join,
    roll_back,
    run_cli,
    seated,
    tournament_uuid,
    win,
)

LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code message } } }"""


async def demo_spins(
    rt: Any, gql: Any, demo_provider: Any, player: Any, spins: int, stake: str
) -> list[dict[str, Any]]:
    """Launch the demo slot for real money and spin it `spins` times at `stake`."""
    async with rt.database.session() as db:
        game_id = await db.scalar(
            select(col(Game.id))
            .join(Provider, col(Provider.id) == col(Game.provider_id))
            .where(col(Provider.code) == "demo", col(Game.code) == fair.SLOT)
        )
    launched = (
        await gql(
            LAUNCH, {"input": {"gameId": str(relay.GlobalID("Game", str(game_id))), "mode": "REAL"}}, token=player.token
        )
    )["data"]["launchGame"]
    assert launched["errors"] == [], launched
    params = {k: v[0] for k, v in parse_qs(urlsplit(launched["launchUrl"]).query).items()}
    async with httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as http:
        assert (await http.get("/play", params=params)).status_code == 200
        return [
            (await http.post("/api/spin", json={"token": params["token"], "game": fair.SLOT, "bet": stake})).json()
            for _ in range(spins)
        ]


async def test_a_demo_tournament_runs_scores_settles_and_verifies(
    rt: Any,
    gql: Any,
    make_player: Any,
    create: Any,
    scores: Scores,
    organiser: Any,
    demo_provider: Any,
    hub88_provider: Any,
    aggregator: Any,
) -> None:
    await seed.seed_games(rt)
    async with rt.database.transaction() as db:
        assert await register_demo_provider(db, demo_provider.public_key_pem, f"{demo_provider.base}/play")
    created = await create(
        scoring="POINTS_PER_WAGER",
        points=10,
        per="1.00",
        prizes=[{"rankFrom": 1, "rankTo": 1, "kind": "CASH", "amount": "25.00"}],
    )
    assert created["errors"] == [], created
    gid = created["tournament"]["id"]
    tid = tournament_uuid(gid)
    alice, bob, carol = [await make_player(balance="100.00 EUR") for _ in range(3)]
    for player in (alice, bob):
        joined = await join(gql, player, gid)
        assert joined["errors"] == [], joined
        assert joined["entry"]["status"] == "ACTIVE"

    # Alice plays the demo slot: 4 spins of 2.00 → 8.00 staked → 80 points.
    rounds = await demo_spins(rt, gql, demo_provider, alice, 4, "2.00")
    assert [r["status"] for r in rounds] == ["RS_OK"] * 4
    staked = sum(int(Decimal(r["bet"]) * 100) for r in rounds)
    assert staked == 800
    # Bob plays through the Hub88 wallet: 3.00 and 5.00 staked, and the aggregator rolls the 5.00 back.
    at_bob = await seated(rt, hub88_provider, bob)
    first = await bet(aggregator, at_bob, 3 * EUR, "b-1")
    await win(aggregator, at_bob, 1 * EUR, first)
    second = await bet(aggregator, at_bob, 5 * EUR, "b-2")
    # Carol never joined this opt-in tournament: her play counts nowhere.
    await bet(aggregator, await seated(rt, hub88_provider, carol), 9 * EUR, "c-1")

    assert await scores.drain() > 0
    assert [(e["player_id"], e["score"]) for e in await scores.entries(tid)] == [(alice.uuid, 80), (bob.uuid, 80)]
    # Tied at 80: Alice reached it first (her last spin's event came before Bob's second bet).
    changed = {(c.player_id, c.score) for c in scores.changes}
    assert {(alice.uuid, 80), (bob.uuid, 80)} <= changed  # the after-commit hook saw the new scores

    await roll_back(aggregator, at_bob, second)
    await scores.drain()
    standing = {e["player_id"]: e["score"] for e in await scores.entries(tid)}
    assert standing == {alice.uuid: 80, bob.uuid: 30}  # the rolled-back 5.00 took its 50 points back

    # Redelivery changes nothing: every event applied again, as the stream would redeliver them.
    before = await scores.entries(tid)
    rows = await scores.conn.fetch("SELECT * FROM outbox_events WHERE topic LIKE 'ledger.game_%' ORDER BY id")
    from core import outbox

    assert await scores.runner.apply(scores.conn, [Event.of(outbox.envelope_of(r)) for r in rows]) == set()
    assert await scores.entries(tid) == before
    # ...and a rebuild from the outbox gives the same standings.
    await scores.replay()
    assert await scores.entries(tid) == before

    body = await gql(MY_ENTRIES, token=bob.token)
    [entry] = body["data"]["myTournamentEntries"]["edges"]
    assert (entry["node"]["score"], entry["node"]["roundsCounted"], entry["node"]["tournament"]["id"]) == (30, 1, gid)

    # The clock starts it (the CLI runs on real time: it started a minute ago), then finishes it (the platform
    # clock moved past its end, as the server's tournament clock would see it); it is settled once, its prize
    # paid from the house.
    assert await run_cli("tournaments", "tick") == (0, "started 1, finished 0\n")
    finish()
    assert (await lifecycle.tick(rt)).finished == [tid]
    settled_body = await gql(SETTLE, {"input": {"tournamentId": gid}}, token=organiser.token)
    assert settled_body.get("data"), settled_body
    settled = settled_body["data"]["settleTournament"]
    assert settled["errors"] == [], settled
    assert settled["tournament"]["state"] == "SETTLED"
    assert settled["tournament"]["payouts"] == [
        {"rank": 1, "kind": "CASH", "amount": "25.00", "currency": "EUR", "status": "PAID"}
    ]
    again = (await gql(SETTLE, {"input": {"tournamentId": gid}}, token=organiser.token))["data"]["settleTournament"]
    assert again["tournament"]["resultsHash"] == settled["tournament"]["resultsHash"]
    async with rt.database.session() as db:
        from services import wallet

        [alice_eur] = await wallet.balances(db, alice.uuid)
    won = sum(int(Decimal(r["win"]) * 100) for r in rounds)
    assert alice_eur.cash == 100_00 - 800 + won + 25_00  # paid once

    # Anyone with the published document recomputes the hash; verify recomputes the standings.
    code, document = await run_cli("tournaments", "results", str(tid))
    assert code == 0
    assert hashlib.sha256(document.encode()).hexdigest() == settled["tournament"]["resultsHash"]
    code, out = await run_cli("tournaments", "verify", str(tid))
    assert code == 0, out
    assert out.endswith(": OK\n"), out
    assert "2 entries, 6 rounds" in out, out
    code, out = await asyncio.wait_for(run_cli("ledger", "verify"), 120)
    assert code == 0, out
