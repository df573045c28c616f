"""Buy-ins, re-buys, refunds and pool prizes: every movement a ledger transaction into or out of the tournament's
pool, each once (the books check after every test runs `ledger verify`, which holds a settled or cancelled pool
to zero and a cancelled tournament to one refund per buy-in)."""

from __future__ import annotations

from typing import Any

import pytest

from services import wallet
from tests.conftest import error_codes
from tests.tournaments.conftest import (
    CANCEL,
    EUR,
    JOIN,
    Arena,
    Scores,
    bet,
    join,
    seated,
    tournament_uuid,
)

TIME_OUT = """
mutation($input: TakeTimeOutInput!) { takeTimeOut(input: $input) { errors { code } } }"""


async def cash(rt: Any, player: Any) -> int:
    async with rt.database.session() as db:
        [eur] = await wallet.balances(db, player.uuid)
    return int(eur.cash)


async def pool_balance(rt: Any, tournament_id: Any) -> int:
    from sqlalchemy import text

    async with rt.database.session() as db:
        found = await db.scalar(
            text(
                "SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p "
                "JOIN ledger_accounts a ON a.id = p.account_id WHERE a.purpose = 'tournament_pool' AND a.owner_id = :t"
            ),
            {"t": str(tournament_id)},
        )
    return int(found)


async def test_buy_ins_and_rebuys_go_to_the_pool_and_a_cancel_refunds_each_once(
    rt: Any, gql: Any, make_player: Any, create: Any, organiser: Any
) -> None:
    created = await create(buyIn="5.00", maxRebuys=2, roundsCap=10)
    assert created["errors"] == [], created
    gid = created["tournament"]["id"]
    alice, bob = await make_player(balance="20.00 EUR"), await make_player(balance="20.00 EUR")
    assert (await join(gql, alice, gid))["entry"]["buyIns"] == 1
    rebought = await join(gql, alice, gid, rebuy=1)
    assert (rebought["entry"]["buyIns"], rebought["entry"]["rebuys"]) == (2, 1)
    retried = await join(gql, alice, gid, rebuy=1)  # the client did not see the answer and asks again
    assert (retried["errors"], retried["entry"]["buyIns"], retried["entry"]["rebuys"]) == ([], 2, 1)
    skipped = await join(gql, alice, gid, rebuy=3)
    refusal = skipped["errors"][0]
    assert (refusal["code"], refusal["field"]) == ("TOURNAMENT_REBUY_NOT_ALLOWED", "rebuyNumber")
    assert (await join(gql, bob, gid))["errors"] == []
    assert (await join(gql, bob, gid))["errors"][0]["code"] == "TOURNAMENT_ALREADY_JOINED"
    assert (await cash(rt, alice), await cash(rt, bob)) == (10_00, 15_00)
    assert await pool_balance(rt, tournament_uuid(gid)) == 15_00

    cancelled = await gql(CANCEL, {"input": {"tournamentId": gid, "reason": "provider outage"}}, token=organiser.token)
    assert cancelled["data"]["cancelTournament"]["tournament"]["state"] == "CANCELLED"
    again = await gql(CANCEL, {"input": {"tournamentId": gid, "reason": "clicked twice"}}, token=organiser.token)
    assert again["data"]["cancelTournament"]["errors"] == []
    assert (await cash(rt, alice), await cash(rt, bob)) == (20_00, 20_00)  # every buy-in back, once
    assert await pool_balance(rt, tournament_uuid(gid)) == 0
    late = await join(gql, bob, gid, rebuy=1)
    assert late["errors"][0]["code"] == "TOURNAMENT_CLOSED"


async def test_a_buy_in_beyond_the_players_cash_is_refused_and_moves_nothing(
    rt: Any, gql: Any, make_player: Any, create: Any
) -> None:
    gid = (await create(buyIn="5.00"))["tournament"]["id"]
    poor = await make_player(balance="3.00 EUR")
    refused = await join(gql, poor, gid)
    assert (refused["entry"], refused["errors"][0]["code"]) == (None, "INSUFFICIENT_FUNDS")
    assert await cash(rt, poor) == 3_00
    assert await pool_balance(rt, tournament_uuid(gid)) == 0


async def test_rebuys_are_refused_when_none_are_left(gql: Any, make_player: Any, create: Any) -> None:
    gid = (await create(buyIn="1.00", maxRebuys=1, roundsCap=5))["tournament"]["id"]
    player = await make_player(balance="10.00 EUR")
    assert (await join(gql, player, gid, rebuy=1))["errors"][0]["code"] == "TOURNAMENT_REBUY_NOT_ALLOWED"
    assert (await join(gql, player, gid))["errors"] == []
    assert (await join(gql, player, gid, rebuy=0))["errors"][0]["code"] == "INVALID_INPUT"
    assert (await join(gql, player, gid, rebuy=1))["errors"] == []
    assert (await join(gql, player, gid, rebuy=2))["errors"][0]["code"] == "TOURNAMENT_REBUY_NOT_ALLOWED"


async def test_an_excluded_player_never_enters(gql: Any, make_player: Any, create: Any) -> None:
    """A time-out ends the player's sessions; a play login is refused, and the withdrawal-only login it may
    still take cannot join (the service's RG gate, `check_launch`, would refuse it too)."""
    from tests.rg.conftest import login

    gid = (await create())["tournament"]["id"]
    player = await make_player(balance="10.00 EUR")
    assert (await gql(TIME_OUT, {"input": {"length": "WEEK"}}, token=player.token))["data"]["takeTimeOut"][
        "errors"
    ] == []
    assert (await login(gql, player))["errors"][0]["code"] == "TIMED_OUT"
    player.token = (await login(gql, player, purpose="WITHDRAWAL"))["tokens"]["accessToken"]
    body = await gql(JOIN, {"input": {"tournamentId": gid}}, token=player.token)
    assert "FORBIDDEN" in error_codes(body)
    assert body["data"] is None or body["data"]["joinTournament"] is None


async def test_the_rg_gate_refuses_a_join_the_player_may_not_make(
    rt: Any, gql: Any, make_player: Any, create: Any
) -> None:
    """Through the service, as any edge calls it: an excluded player is refused with the exclusion's code."""
    from authz.subjects import Viewer
    from core.errors import DomainError
    from services.rg import exclusions
    from services.tournaments import entries

    gid = (await create())["tournament"]["id"]
    player = await make_player(balance="10.00 EUR")
    async with rt.database.session() as db:
        from models.players import Player

        row = await db.get(Player, player.uuid)
    assert row is not None
    viewer = Viewer(kind="player", id=player.uuid, brand_id=row.brand_id, roles=frozenset({"player"}))
    await exclusions.take_time_out(rt, viewer, row, exclusions.TimeOut.WEEK)
    with pytest.raises(DomainError) as refused:
        await entries.join(rt, viewer, tournament_uuid(gid))
    assert refused.value.code.value == "TIMED_OUT"


async def test_an_automatic_tournament_enters_players_as_they_play_but_never_an_excluded_one(
    rt: Any, gql: Any, make_player: Any, create: Any, scores: Scores, hub88_provider: Any, aggregator: Any
) -> None:
    gid = (await create(entryMode="AUTOMATIC"))["tournament"]["id"]
    playing, excluded = await make_player(balance="10.00 EUR"), await make_player(balance="10.00 EUR")
    at_playing, at_excluded = await seated(rt, hub88_provider, playing), await seated(rt, hub88_provider, excluded)
    assert (await gql(TIME_OUT, {"input": {"length": "WEEK"}}, token=excluded.token))["data"]["takeTimeOut"][
        "errors"
    ] == []
    await bet(aggregator, at_playing, 1 * EUR, "p-1")
    refused = await aggregator.call("transaction/bet", at_excluded.bet(1 * EUR, round_ref="x-1"))
    assert refused["status"] != "RS_OK"  # the wallet's RG gate: no bet, so no event, so no entry
    await scores.drain()
    assert [(e["player_id"], e["score"]) for e in await scores.entries(tournament_uuid(gid))] == [(playing.uuid, 1)]


async def test_pool_shares_are_paid_from_the_pool_and_the_rest_goes_to_the_operator(
    rt: Any, gql: Any, make_player: Any, create: Any, arena: Arena
) -> None:
    created = await create(
        buyIn="10.00",
        prizes=[
            {"rankFrom": 1, "rankTo": 1, "kind": "CASH", "shareBps": 6000},
            {"rankFrom": 2, "rankTo": 2, "kind": "CASH", "shareBps": 2500},
        ],
    )
    gid = created["tournament"]["id"]
    players = [await make_player(balance="50.00 EUR") for _ in range(3)]
    for n, player in enumerate(players):
        assert (await join(gql, player, gid))["errors"] == []
        await arena.stake(player, (n + 1) * EUR, f"r-{n}")
    await arena.scores.drain()
    payouts = (await arena.settle(gid))["tournament"]["payouts"]
    # The pool holds 30.00: 60 % to the top stake (3.00), 25 % to the next; 15 % (4.50) stays with the operator.
    assert [(p["rank"], p["amount"]) for p in payouts] == [(1, "18.00"), (2, "7.50")]
    third, second, first = players
    assert await cash(rt, first) == 50_00 - 10_00 - 3_00 + 18_00
    assert await cash(rt, second) == 50_00 - 10_00 - 2_00 + 7_50
    assert await cash(rt, third) == 50_00 - 10_00 - 1_00
    assert await pool_balance(rt, tournament_uuid(gid)) == 0
