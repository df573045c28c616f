"""From bets to the board: Hub88 bets booked by the wallet, the `tournaments` consumer scoring them with its
after-commit hook wired as the server wires it (services/consumers.py `runners`), the board and a live
subscriber following; redelivered events and a repeated hook do not move the board; a rolled-back bet takes
its points back; and the whole chain rebuilds: events → (replay) entries → (rebuild) the same board."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from bench import world
from core import consumers, outbox
from core.consumers import Event, Runner
from services.consumers import runners
from services.tournaments import board
from services.tournaments.consumer import TournamentsConsumer
from tests.conftest import DATABASE_URL
from tests.live.conftest import next_data, subscription
from tests.tournaments_live.conftest import CHANGED, LEADERBOARD, Tournaments, board_order, gid, truth_order


@pytest.fixture
async def scoring(rt: Any) -> AsyncIterator[tuple[Runner, asyncpg.Connection]]:
    """The tournaments consumer's runner as the server builds it (its hook wired to the boards)."""
    found = [r for r in runners(rt.settings, DATABASE_URL, rt.redis) if isinstance(r.consumer, TournamentsConsumer)]
    assert len(found) == 1
    runner = found[0]
    runner.member = f"test-{uuid.uuid4().hex[:6]}"
    conn = await asyncpg.connect(outbox.asyncpg_dsn(DATABASE_URL))
    try:
        yield runner, conn
    finally:
        await conn.close()
        hook = runner.consumer.on_scores_changed  # type: ignore[union-attr]
        await hook.close()


async def play(client: Any, place: Any, seat: Any, stake: int, *, round_ref: str) -> str:
    tx = str(uuid.uuid4())
    call = world.signed(place.key, "transaction/bet", world.bet(seat, stake, tx=tx, round_ref=round_ref))
    answer = (await client.post(world.path(call.endpoint), content=call.raw, headers=call.headers)).json()
    assert answer["status"] == "RS_OK", answer
    return tx


async def undo(client: Any, place: Any, seat: Any, bet_tx: str, *, round_ref: str) -> None:
    body = world.rollback(seat, tx=str(uuid.uuid4()), reference=bet_tx, round_ref=round_ref)
    call = world.signed(place.key, "transaction/rollback", body)
    answer = (await client.post(world.path(call.endpoint), content=call.raw, headers=call.headers)).json()
    assert answer["status"] == "RS_OK", answer


async def game_events(conn: asyncpg.Connection) -> list[Event]:
    rows = await conn.fetch(
        f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events WHERE topic LIKE 'ledger.game_%' ORDER BY id"
    )
    return [Event.of_row(row) for row in rows]


async def test_bets_reach_the_board_and_a_subscriber_once_however_often_events_come(
    rt: Any,
    client: Any,
    gql: Any,
    live_server: str,
    tournaments: Tournaments,
    scoring: tuple[Runner, asyncpg.Connection],
) -> None:
    runner, conn = scoring
    place = await world.build(rt, players=3, balance=100_00)
    ada, bob, cleo = place.seats
    tournament = await tournaments.create(place.brand_id, per=100)  # a point per 1.00 EUR staked
    token = (await world.player_tokens(rt, place, [cleo]))[0]

    await play(client, place, ada, 5_00, round_ref="a1")
    await play(client, place, bob, 3_00, round_ref="b1")
    await runner.sweep(conn, grace=0)

    variables = {"id": gid("Tournament", tournament), "first": 3}
    async with subscription(live_server, token, CHANGED, variables) as socket:
        first = (await next_data(socket))["leaderboardChanged"]
        assert [(s["rank"], s["score"]) for s in first["top"]] == [(1, "5"), (2, "3")]
        assert first["me"] is None

        await play(client, place, cleo, 7_00, round_ref="c1")
        await runner.sweep(conn, grace=0)
        update = (await next_data(socket))["leaderboardChanged"]
        assert [(s["rank"], s["score"], s["isViewer"]) for s in update["top"]] == [
            (1, "7", True),
            (2, "5", False),
            (3, "3", False),
        ]

    body = await gql(LEADERBOARD, variables, token=token)
    before = body["data"]["leaderboard"]
    # Every event delivered again (a crashed member's pending entries, the sweep): nothing moves.
    assert await runner.apply(conn, await game_events(conn)) == set()
    await runner.sweep(conn, grace=0)
    hook = runner.consumer.on_scores_changed  # type: ignore[union-attr]
    assert hook is not None
    from services.tournaments.consumer import ScoreChange

    # The hook itself run twice for the same commit: nothing moves either.
    await hook([ScoreChange(tournament, uuid.UUID(ada.user), 5, None, None)])
    assert (await gql(LEADERBOARD, variables, token=token))["data"]["leaderboard"] == before


async def test_a_rolled_back_bet_takes_its_points_off_the_board(
    rt: Any, client: Any, gql: Any, tournaments: Tournaments, scoring: tuple[Runner, asyncpg.Connection]
) -> None:
    runner, conn = scoring
    place = await world.build(rt, players=2, balance=100_00)
    ada, bob = place.seats
    tournament = await tournaments.create(place.brand_id, per=100)
    token = (await world.player_tokens(rt, place, [ada]))[0]
    bet = await play(client, place, ada, 9_00, round_ref="a1")
    await play(client, place, bob, 4_00, round_ref="b1")
    await runner.sweep(conn, grace=0)
    seen = (await gql(LEADERBOARD, {"id": gid("Tournament", tournament)}, token=token))["data"]["leaderboard"]
    assert seen["me"]["rank"] == 1

    await undo(client, place, ada, bet, round_ref="a1")
    await runner.sweep(conn, grace=0)
    seen = (await gql(LEADERBOARD, {"id": gid("Tournament", tournament)}, token=token))["data"]["leaderboard"]
    assert [(s["rank"], s["score"]) for s in seen["top"]] == [(1, "4"), (2, "0")]
    assert (seen["me"]["rank"], seen["me"]["score"]) == (2, "0")


async def test_the_board_rebuilds_from_the_events_through_a_replay_of_the_consumer(
    rt: Any, client: Any, tournaments: Tournaments, scoring: tuple[Runner, asyncpg.Connection]
) -> None:
    runner, conn = scoring
    place = await world.build(rt, players=5, balance=100_00)
    tournament = await tournaments.create(place.brand_id, per=50)
    for n, seat in enumerate(place.seats * 2):
        await play(client, place, seat, (n % 4 + 1) * 1_00, round_ref=f"r{n}")
    await runner.sweep(conn, grace=0)
    live_board = await board_order(rt, tournament)
    assert len(live_board) == 5

    await board.drop(rt.redis, tournament)  # Redis lost the board …
    async with conn.transaction():  # … and the entries are forgotten too: only the events remain
        await conn.execute(
            "UPDATE tournament_entries SET score = 0, reached_seq = NULL WHERE tournament_id = $1", tournament
        )
    await consumers.replay(runner, conn)
    assert await truth_order(rt, tournament) == live_board
    await board.rebuild(rt.redis, rt.database.engine, tournament)
    assert await board_order(rt, tournament) == live_board


async def test_a_replay_rebuilds_the_boards_whole_taking_off_who_no_longer_ranks(
    rt: Any, client: Any, tournaments: Tournaments, scoring: tuple[Runner, asyncpg.Connection]
) -> None:
    """A player the board holds whom the replayed entries no longer rank (their rounds gone) had no change
    for a batch to hand on: only the replay's whole rebuild of the board takes them off."""
    runner, conn = scoring
    place = await world.build(rt, players=3, balance=100_00)
    tournament = await tournaments.create(place.brand_id, per=50)
    for n, seat in enumerate(place.seats):
        await play(client, place, seat, (n + 1) * 1_00, round_ref=f"r{n}")
    await runner.sweep(conn, grace=0)
    truth = await truth_order(rt, tournament)

    stranger = uuid.uuid4()  # on the board, as of a read as new as any so far, but ranked nowhere
    stale = await board.read(conn, tournament, [stranger])
    stale.members[stranger] = board.member(stranger, 1_000, 1)
    await board.apply(rt.redis, tournament, stale)
    assert (await board_order(rt, tournament))[0][0] == stranger

    await consumers.replay(runner, conn)
    assert await board_order(rt, tournament) == truth == await truth_order(rt, tournament)
