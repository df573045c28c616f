"""The Redis board as `Query.leaderboard` reads it: the ranking rule with its tie-break, updates applied once
and never overwritten by a stale read, and a rebuild from PostgreSQL equal to the live board."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

import asyncpg

from core import outbox
from services.tournaments import board, live
from tests.conftest import DATABASE_URL, error_codes, recorded_statements
from tests.tournaments_live.conftest import LEADERBOARD, Tournaments, board_order, gid, truth_order


async def entrants(make_player: Any, count: int) -> list[Any]:
    return [await make_player() for _ in range(count)]


async def read_board(gql: Any, token: str, tournament_id: uuid.UUID, first: int = 10) -> dict[str, Any]:
    body = await gql(LEADERBOARD, {"id": gid("Tournament", tournament_id), "first": first}, token=token)
    assert "errors" not in body, body
    leaderboard: dict[str, Any] = body["data"]["leaderboard"]
    return leaderboard


async def test_equal_scores_rank_by_who_reached_them_first_and_no_score_comes_last(
    gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    ada, bob, cleo, dan = await entrants(make_player, 4)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(
        tournament, [(ada.uuid, 500, 40), (bob.uuid, 500, 12), (cleo.uuid, 900, 70), (dan.uuid, 0, None)]
    )

    seen = await read_board(gql, bob.token, tournament)
    assert [(s["rank"], s["score"], s["isViewer"]) for s in seen["top"]] == [
        (1, "900", False),
        (2, "500", True),  # bob reached 500 at seq 12, before ada at 40
        (3, "500", False),
        (4, "0", False),
    ]
    assert seen["me"] == {"rank": 2, "score": "500", "alias": seen["top"][1]["alias"], "isViewer": True}
    assert seen["entrants"] == 4
    assert await board_order(tournaments.rt, tournament) == await truth_order(tournaments.rt, tournament)


async def test_scores_past_two_to_the_53_keep_their_order_exactly(
    gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    """A float score (Redis's own) cannot tell 2^53 from 2^53 + 1; the member encoding can."""
    low, high = await entrants(make_player, 2)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(low.uuid, 2**53, 1), (high.uuid, 2**53 + 1, 2)])
    seen = await read_board(gql, low.token, tournament)
    assert [s["score"] for s in seen["top"]] == [str(2**53 + 1), str(2**53)]
    assert seen["me"]["rank"] == 2


async def test_the_viewer_outside_the_top_still_sees_their_own_position(
    gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    players = await entrants(make_player, 5)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(p.uuid, 100 * (i + 1), i + 1) for i, p in enumerate(players)])
    seen = await read_board(gql, players[0].token, tournament, first=2)
    assert [s["score"] for s in seen["top"]] == ["500", "400"]
    assert (seen["me"]["rank"], seen["me"]["score"], seen["me"]["isViewer"]) == (5, "100", True)


async def test_applying_the_same_standings_twice_changes_nothing(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    ada, bob = await entrants(make_player, 2)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 10, 1), (bob.uuid, 20, 2)])
    before = await read_board(gql, ada.token, tournament)
    for _ in range(3):  # the hook run again for the same commit (a redelivered batch's hook, a retry)
        await live.standings_changed(rt.redis, rt.database.engine, {tournament: [ada.uuid, bob.uuid]})
    assert await read_board(gql, ada.token, tournament) == before


async def test_a_read_made_before_a_commit_never_overwrites_one_made_after(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    """Two replicas' hooks in the opposite order: the older read (score 10) applied last changes nothing."""
    ada = (await entrants(make_player, 1))[0]
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 10, 1)])
    older = await board.read(rt.database.engine, tournament, [ada.uuid])
    await tournaments.set(tournament, ada.uuid, 25, 7)
    newer = await board.read(rt.database.engine, tournament, [ada.uuid])
    assert newer.xmax > older.xmax
    assert await board.apply(rt.redis, tournament, newer) == 1
    assert await board.apply(rt.redis, tournament, older) == 0
    assert (await read_board(gql, ada.token, tournament))["me"]["score"] == "25"


async def test_at_the_same_xmax_the_read_that_saw_more_commits_wins(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    """A snapshot's xmax is one past the last transaction that ended. A writer that took its id, then a
    later transaction that ended, then a read: that read has the writer in progress. The writer commits,
    and a second read has the same xmax with one transaction fewer in progress: only it is newer."""
    ada = (await entrants(make_player, 1))[0]
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 10, 1)])
    dsn = outbox.asyncpg_dsn(DATABASE_URL)
    for score in (30, 31, 32):  # background work ending a transaction between the reads moves xmax: try again
        writer, other = await asyncpg.connect(dsn), await asyncpg.connect(dsn)
        try:
            async with writer.transaction():
                await writer.execute(
                    "UPDATE tournament_entries SET score = $3, reached_seq = 9 "
                    "WHERE tournament_id = $1 AND player_id = $2",
                    tournament,
                    ada.uuid,
                    score,
                )
                await other.execute("SELECT pg_current_xact_id()")  # a later id, its transaction ended
                before = await board.read(rt.database.engine, tournament, [ada.uuid])
            after = await board.read(rt.database.engine, tournament, [ada.uuid])
        finally:
            await writer.close()
            await other.close()
        if after.xmax == before.xmax:
            break
    # The writer ended between the reads (other workers' transactions on the cluster may have ended too).
    assert after.xmax == before.xmax
    assert after.in_progress < before.in_progress
    assert before.members[ada.uuid] != after.members[ada.uuid]
    assert await board.apply(rt.redis, tournament, after) == 1
    assert await board.apply(rt.redis, tournament, before) == 0
    assert (await read_board(gql, ada.token, tournament))["me"]["score"] == str(score)


async def test_concurrent_hooks_in_any_order_leave_the_latest_standings(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    players = await entrants(make_player, 6)
    tournament = await tournaments.create(brand.id)
    reads = []
    rng = random.Random(7)
    for step in range(30):
        player = rng.choice(players)
        await tournaments.set(tournament, player.uuid, rng.randrange(0, 1000), step + 1)
        reads.append(await board.read(rt.database.engine, tournament, [p.uuid for p in players]))
    rng.shuffle(reads)
    await board.rebuild(rt.redis, rt.database.engine, tournament)  # marks it built: hooks apply from here
    board_before = await board_order(rt, tournament)
    await asyncio.gather(*(board.apply(rt.redis, tournament, r) for r in reads))
    assert await board_order(rt, tournament) == board_before == await truth_order(rt, tournament)


async def test_a_rebuild_from_postgresql_equals_the_live_board(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    players = await entrants(make_player, 8)
    tournament = await tournaments.create(brand.id)
    rng = random.Random(18)
    for batch in range(12):
        chosen = rng.sample(players, 3)
        await tournaments.scored(
            tournament, [(p.uuid, rng.randrange(0, 50) * 10, batch * 3 + i) for i, p in enumerate(chosen)]
        )
    live_board = await board_order(rt, tournament)
    seen = await read_board(gql, players[0].token, tournament, first=100)
    await board.drop(rt.redis, tournament)  # Redis lost it
    rebuilt = await read_board(gql, players[0].token, tournament, first=100)  # the read rebuilds it
    assert await board_order(rt, tournament) == live_board == await truth_order(rt, tournament)
    assert [(s["rank"], s["score"]) for s in rebuilt["top"]] == [(s["rank"], s["score"]) for s in seen["top"]]


async def test_an_entry_refunded_leaves_the_board_and_a_rebuild_removes_what_postgresql_no_longer_ranks(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    from sqlalchemy import text

    ada, bob = await entrants(make_player, 2)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 10, 1), (bob.uuid, 20, 2)])
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE tournament_entries SET status = 'refunded' WHERE player_id = :p"), {"p": bob.uuid}
        )
    await live.standings_changed(rt.redis, rt.database.engine, {tournament: [bob.uuid]})
    assert [s["score"] for s in (await read_board(gql, ada.token, tournament))["top"]] == ["10"]
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE tournament_entries SET status = 'refunded' WHERE player_id = :p"), {"p": ada.uuid}
        )
    await board.rebuild(rt.redis, rt.database.engine, tournament)
    seen = await read_board(gql, ada.token, tournament)
    assert (seen["top"], seen["me"], seen["entrants"]) == ([], None, 0)


async def test_players_watch_only_their_brands_tournaments_and_see_no_player_ids(
    gql: Any, make_player: Any, make_staff: Any, brand: Any, other_brand: Any, tournaments: Tournaments
) -> None:
    ada = (await entrants(make_player, 1))[0]
    elsewhere = await tournaments.create(other_brand.id)
    body = await gql(LEADERBOARD, {"id": gid("Tournament", elsewhere)}, token=ada.token)
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(LEADERBOARD, {"id": gid("Tournament", uuid.uuid4())}, token=ada.token)
    assert error_codes(body) == ["FORBIDDEN"]  # an unknown tournament answers the same: ids cannot be probed
    in_euros = await tournaments.create(brand.id)
    pounds = await make_player(currency="GBP")  # the brand's, but the tournament plays in EUR: not listed to them
    assert error_codes(await gql(LEADERBOARD, {"id": gid("Tournament", in_euros)}, token=pounds.token)) == ["FORBIDDEN"]
    assert "errors" not in await gql(LEADERBOARD, {"id": gid("Tournament", in_euros)}, token=ada.token)
    body = await gql(LEADERBOARD, {"id": gid("Player", ada.uuid)}, token=ada.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(LEADERBOARD, {"id": gid("Tournament", elsewhere), "first": 101}, token=ada.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]

    mine = await tournaments.create(brand.id)
    await tournaments.scored(mine, [(ada.uuid, 5, 1)])
    query = "query($id: ID!) { leaderboard(tournamentId: $id) { top { playerId alias } } }"
    body = await gql(query, {"id": gid("Tournament", mine)}, token=ada.token)
    assert body["data"]["leaderboard"]["top"] == [
        {"playerId": None, "alias": body["data"]["leaderboard"]["top"][0]["alias"]}
    ]
    assert error_codes(body) == ["FORBIDDEN"]
    support = await make_staff("support")
    body = await gql(query, {"id": gid("Tournament", mine)}, token=support.token)
    assert "errors" not in body, body
    assert body["data"]["leaderboard"]["top"][0]["playerId"] == ada.id


async def test_the_leaderboard_query_costs_one_statement_and_no_more_with_more_entrants(
    rt: Any, gql: Any, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    players = await entrants(make_player, 12)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(players[0].uuid, 1, 1)])
    await read_board(gql, players[0].token, tournament)  # built
    with recorded_statements(rt) as few:
        await read_board(gql, players[0].token, tournament, first=100)
    await tournaments.scored(tournament, [(p.uuid, i, i + 2) for i, p in enumerate(players)])
    with recorded_statements(rt) as many:
        await read_board(gql, players[0].token, tournament, first=100)
    board_reads = [s for s in many if "tournaments" in s]
    assert len(board_reads) == 1, many  # who may watch; the standings come from Redis
    assert len(many) == len(few), (few, many)
