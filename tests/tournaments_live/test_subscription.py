"""`Subscription.leaderboardChanged` over graphql-transport-ws, served by `croupier serve` processes while
this process plays the scoring consumer (its after-commit hook): the Python `gql` client and the npm
`graphql-ws` client, the throttle (at most one update a second per board, the last change always sent),
two replicas sharing one Redis, and who may subscribe."""

from __future__ import annotations

import asyncio
import json
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from services.tournaments import live
from tests.conftest import served
from tests.live.conftest import next_data, receive, refusal_codes, subscription, ws_url
from tests.tournaments_live.conftest import CHANGED, Tournaments, gid

HERE = Path(__file__).resolve().parent


@pytest.fixture(scope="module")
def second_replica(app: Any) -> Iterator[str]:
    """Another `croupier serve` on the same database and Redis: a second replica behind the balancer."""
    with served("second_replica") as base:
        yield base


def board_of(data: dict[str, Any]) -> list[tuple[int, str]]:
    return [(s["rank"], s["score"]) for s in data["leaderboardChanged"]["top"]]


async def test_a_score_committed_here_reaches_the_players_gql_client_with_their_position(
    live_server: str, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    from gql import Client, gql
    from gql.transport.websockets import WebsocketsTransport

    ada, bob, cleo = [await make_player() for _ in range(3)]
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 50, 1), (bob.uuid, 40, 2), (cleo.uuid, 30, 3)])
    transport = WebsocketsTransport(
        url=ws_url(live_server),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"authorization": f"Bearer {cleo.token}"},
    )
    request = gql(CHANGED)
    request.variable_values = {"id": gid("Tournament", tournament), "first": 2}
    async with Client(transport=transport, fetch_schema_from_transport=False) as session:
        updates = session.subscribe(request)
        first = await asyncio.wait_for(anext(updates), 10)
        assert [(s["rank"], s["score"]) for s in first["leaderboardChanged"]["top"]] == [(1, "50"), (2, "40")]
        assert first["leaderboardChanged"]["me"] == {"rank": 3, "score": "30", "isViewer": True}

        await tournaments.scored(tournament, [(cleo.uuid, 45, 4)])
        update = (await asyncio.wait_for(anext(updates), 10))["leaderboardChanged"]
        assert [(s["rank"], s["score"], s["isViewer"]) for s in update["top"]] == [(1, "50", False), (2, "45", True)]
        assert update["me"] == {"rank": 2, "score": "45", "isViewer": True}
        assert update["version"] > first["leaderboardChanged"]["version"]
        await updates.aclose()


async def test_the_npm_graphql_ws_client_receives_the_board_and_its_updates(
    live_server: str, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    node = shutil.which("node")
    assert node, "node is not installed: the graphql-ws client test needs Node.js"
    ada, bob = await make_player(), await make_player()
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 10, 1)])
    client = await asyncio.create_subprocess_exec(
        node,
        "--experimental-websocket",
        str(HERE / "leaderboard-client.mjs"),
        ws_url(live_server),
        bob.token,
        gid("Tournament", tournament),
        "2",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert client.stdout is not None
        first = json.loads(await asyncio.wait_for(client.stdout.readline(), 20))
        assert first["data"]["leaderboardChanged"]["me"] is None  # bob has not played yet
        await tournaments.scored(tournament, [(bob.uuid, 25, 2)])
        second = json.loads(await asyncio.wait_for(client.stdout.readline(), 20))
        assert "errors" not in second, second
        assert board_of(second["data"]) == [(1, "25"), (2, "10")]
        assert second["data"]["leaderboardChanged"]["me"] == {"rank": 1, "score": "25", "isViewer": True}
        assert await asyncio.wait_for(client.wait(), 20) == 0
    finally:
        if client.returncode is None:
            client.kill()
            await client.wait()


async def test_a_burst_of_updates_sends_at_most_one_message_a_second_and_always_the_last(
    live_server: str, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    ada, bob = await make_player(), await make_player()
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 0, 1)])
    async with subscription(live_server, bob.token, CHANGED, {"id": gid("Tournament", tournament)}) as socket:
        await next_data(socket)  # the snapshot: listening
        loop = asyncio.get_running_loop()
        started = loop.time()
        for score in range(1, 41):  # 40 committed batches, as fast as they come
            await tournaments.scored(tournament, [(ada.uuid, score, score + 1)])
        burst = loop.time() - started
        received = []
        while True:
            try:
                received.append((await next_data(socket, seconds=2.5))["leaderboardChanged"])
            except TimeoutError:
                break
    # One at once, then one per second the burst lasted (each when the gate opens), the trailing one last.
    assert 1 <= len(received) <= int(burst) + 2, (len(received), burst)
    assert len(received) < 40
    assert received[-1]["top"][0]["score"] == "40"  # the last change was never lost
    versions = [r["version"] for r in received]
    assert versions == sorted(versions)


async def test_replicas_sharing_one_redis_serve_the_same_update_and_publish_it_once(
    rt: Any, live_server: str, second_replica: str, make_player: Any, brand: Any, tournaments: Tournaments
) -> None:
    from redis.asyncio import Redis

    from tests.conftest import REDIS_URL

    ada, bob = await make_player(), await make_player()
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(ada.uuid, 5, 1)])
    await asyncio.sleep(1.1)  # the gate of that first publication is open again
    variables = {"id": gid("Tournament", tournament)}
    async with (
        subscription(live_server, ada.token, CHANGED, variables) as on_first,
        subscription(second_replica, bob.token, CHANGED, variables) as on_second,
    ):
        await next_data(on_first)
        await next_data(on_second)
        # Two replicas' consumers finishing batches at the same moment: two publishers, one gate.
        other = Redis.from_url(REDIS_URL, decode_responses=True)
        try:
            await tournaments.set(tournament, bob.uuid, 9, 2)
            await asyncio.gather(
                live.standings_changed(rt.redis, rt.database.engine, {tournament: [bob.uuid]}),
                live.standings_changed(other, rt.database.engine, {tournament: [bob.uuid]}),
            )
            published = live.publisher_of(rt.redis).published + live.publisher_of(other).published
            first_update = (await next_data(on_first))["leaderboardChanged"]
            second_update = (await next_data(on_second))["leaderboardChanged"]
            await live.publisher_of(other).close()
        finally:
            await other.aclose()
        assert first_update["top"] == [
            {**second_update["top"][0], "isViewer": False},
            {**second_update["top"][1], "isViewer": True},
        ]
        assert first_update["me"]["rank"] == 2
        assert second_update["me"] == {"rank": 1, "score": "9", "isViewer": True}
        with pytest.raises(TimeoutError):  # one publication, not one per replica
            await receive(on_first, seconds=1.5)
    assert published >= 1


async def test_players_of_another_brand_and_staff_outside_it_cannot_subscribe(
    live_server: str, make_player: Any, make_staff: Any, brand: Any, other_brand: Any, tournaments: Tournaments
) -> None:
    ada = await make_player()
    elsewhere = await tournaments.create(other_brand.id)
    async with subscription(live_server, ada.token, CHANGED, {"id": gid("Tournament", elsewhere)}) as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]
    async with subscription(live_server, ada.token, CHANGED, {"id": gid("Tournament", uuid.uuid4())}) as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]
    content = await make_staff(("content_manager", None))  # no leaderboard in its policy
    mine = await tournaments.create(brand.id)
    async with subscription(live_server, content.token, CHANGED, {"id": gid("Tournament", mine)}) as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]
    support = await make_staff("support")
    async with subscription(live_server, support.token, CHANGED, {"id": gid("Tournament", mine)}) as socket:
        data = await next_data(socket)
        assert data["leaderboardChanged"]["me"] is None  # staff have no position of their own
