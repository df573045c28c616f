"""Adversarial review findings (review-tn): each test failed on the code as merged."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.tournaments.conftest import Arena, join, tournament_uuid
from tests.tournaments.test_buy_ins import cash, pool_balance


async def test_two_concurrent_first_joins_charge_once_and_refuse_the_other_cleanly(
    rt: Any, gql: Any, make_player: Any, create: Any
) -> None:
    """A double-clicked join: one entry, one buy-in, and the other answer a payload refusal, never an error."""
    gid = (await create(buyIn="5.00"))["tournament"]["id"]
    player = await make_player(balance="20.00 EUR")
    first, second = await asyncio.gather(join(gql, player, gid), join(gql, player, gid))
    codes = sorted(e["code"] for p in (first, second) for e in p["errors"])
    assert codes == ["TOURNAMENT_ALREADY_JOINED"], (first, second)
    assert await cash(rt, player) == 15_00
    assert await pool_balance(rt, tournament_uuid(gid)) == 5_00


async def test_an_entrant_who_never_scored_wins_no_prize(
    rt: Any, gql: Any, make_player: Any, create: Any, arena: Arena
) -> None:
    """A free opt-in tournament with fixed cash prizes: joining without playing must not be paid."""
    gid = (
        await create(
            prizes=[
                {"rankFrom": 1, "rankTo": 1, "kind": "CASH", "amount": "50.00"},
                {"rankFrom": 2, "rankTo": 2, "kind": "CASH", "amount": "20.00"},
            ]
        )
    )["tournament"]["id"]
    player, idle = await make_player(balance="10.00 EUR"), await make_player(balance="1.00 EUR")
    assert (await join(gql, player, gid))["errors"] == []
    assert (await join(gql, idle, gid))["errors"] == []
    await arena.stake(player, 100_000, "r-1")
    await arena.scores.drain()
    payouts = (await arena.settle(gid))["tournament"]["payouts"]
    assert [(p["rank"], p["amount"]) for p in payouts] == [(1, "50.00")]
    assert await cash(rt, idle) == 1_00


async def test_play_after_the_end_still_waiting_for_the_consumer_does_not_hold_the_settlement_up(
    gql: Any, make_player: Any, create: Any, arena: Arena
) -> None:
    """On a live platform the consumer always has a few bets to apply; only those that can still change this
    tournament's standings (placed before its end, or rollbacks of its entrants) may hold its settlement up."""
    from services.tournaments import lifecycle
    from tests.tournaments.conftest import EUR, SETTLE, finish

    gid = (await create())["tournament"]["id"]
    player, passer_by = await make_player(balance="10.00 EUR"), await make_player(balance="10.00 EUR")
    assert (await join(gql, player, gid))["errors"] == []
    await arena.stake(player, 1 * EUR, "r-1")
    await arena.scores.drain()
    finish()
    await lifecycle.tick(arena.rt)
    await arena.stake(passer_by, 1 * EUR, "later-1")  # after the end, not applied yet
    body = await gql(SETTLE, {"input": {"tournamentId": gid}}, token=arena.organiser.token)
    settled = body["data"]["settleTournament"]
    assert settled["errors"] == [], settled
    assert settled["tournament"]["state"] == "SETTLED"
    await arena.scores.drain()


async def test_an_entrants_rollback_after_the_end_still_holds_the_settlement_until_applied(
    gql: Any, make_player: Any, create: Any, arena: Arena
) -> None:
    """The other side of the filter above: a rollback counts whenever it comes, so settlement waits for it."""
    from services.tournaments import lifecycle
    from tests.tournaments.conftest import EUR, SETTLE, bet, finish, roll_back

    gid = (await create())["tournament"]["id"]
    player = await make_player(balance="10.00 EUR")
    assert (await join(gql, player, gid))["errors"] == []
    seat = await arena.seat(player)
    placed = await bet(arena.wallet, seat, 1 * EUR, "r-1")
    await arena.scores.drain()
    finish()
    await lifecycle.tick(arena.rt)
    await roll_back(arena.wallet, seat, placed)
    body = await gql(SETTLE, {"input": {"tournamentId": gid}}, token=arena.organiser.token)
    assert body["data"]["settleTournament"]["errors"][0]["code"] == "TOURNAMENT_SCORES_PENDING"
    await arena.scores.drain()
    body = await gql(SETTLE, {"input": {"tournamentId": gid}}, token=arena.organiser.token)
    assert body["data"]["settleTournament"]["tournament"]["state"] == "SETTLED"
    assert [e["score"] for e in await arena.scores.entries(tournament_uuid(gid))] == [0]
