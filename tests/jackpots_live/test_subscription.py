"""`Subscription.jackpotChanged` end to end against live servers: bets through the wallet, the `jackpots`
consumer's batches, their events, the tick, and what the `gql` (Python) and `graphql-ws` (npm) clients
receive; throttling through the whole path; and two servers sharing one Redis each serving a subscriber."""

from __future__ import annotations

import asyncio
import functools
import json
import math
import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.websockets import WebsocketsTransport

from services.jackpots.live_amounts import events_channel
from tests.conftest import ROOT, served
from tests.events.tally import until
from tests.jackpots_live.conftest import Contributions, bet, created, one_level
from tests.test_subscriptions import wait_for_listener, ws_url

SUBSCRIBE = """subscription($id: ID!, $brand: String) { jackpotChanged(jackpotId: $id, brand: $brand) {
  jackpotId trigger status total { amount currency } levels { level generation amount { amount currency } } } }"""
CLIENT = Path(__file__).resolve().parent / "ws_client.mjs"


@asynccontextmanager
async def gql_subscription(base: str, variables: dict[str, Any], token: str | None = None) -> AsyncIterator[Any]:
    """The `gql` client's subscription (graphql-transport-ws), authenticated in connection_init if given a token."""
    transport = WebsocketsTransport(
        url=ws_url(base),
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
        init_payload={"authorization": f"Bearer {token}"} if token else {},
    )
    async with Client(transport=transport) as session:
        ticks = session.subscribe(GraphQLRequest(SUBSCRIBE, variable_values=variables))
        try:
            yield ticks
        finally:
            await ticks.aclose()


async def next_tick(ticks: Any, seconds: float = 20) -> dict[str, Any]:
    tick: dict[str, Any] = (await asyncio.wait_for(anext(ticks), seconds))["jackpotChanged"]
    return tick


async def mini_jackpot(gql: Any, make_staff: Any) -> dict[str, Any]:
    marketing = await make_staff("marketing")
    return await created(
        gql,
        marketing.token,
        levels=one_level("10.00", "1", "900.00"),
    )


async def test_the_gql_client_sees_the_pots_now_then_after_a_bet(
    live_server: str, rt: Any, gql: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    jackpot = await mini_jackpot(gql, make_staff)
    player = await seat(balance=100_000)
    async with gql_subscription(live_server, {"id": jackpot["id"], "brand": "royal"}) as ticks:  # a visitor
        snapshot = await next_tick(ticks)
        assert snapshot == {
            "jackpotId": jackpot["id"],
            "trigger": "snapshot",
            "status": "ACTIVE",
            "total": {"amount": "10.00", "currency": "EUR"},
            "levels": [{"level": "mini", "generation": 1, "amount": {"amount": "10.00", "currency": "EUR"}}],
        }
        await wait_for_listener(rt, events_channel_name(jackpot))
        await bet(aggregator, player, 20)  # 1 % of 20 € is 0.20 €
        await contributions.drain()
        tick = await next_tick(ticks)
        assert (tick["trigger"], tick["total"]) == ("contributions", {"amount": "10.20", "currency": "EUR"})
    # The last subscriber gone, the server no longer listens to the jackpot's events.
    await until(lambda: no_listener(rt, events_channel_name(jackpot)), "the server to stop listening")


async def no_listener(rt: Any, channel: str) -> bool:
    counts = dict(await rt.redis.pubsub_numsub(channel))
    return not counts.get(channel.encode(), counts.get(channel, 0))


def events_channel_name(jackpot: dict[str, Any]) -> str:
    from resolvers.jackpots import jackpot_uuid

    return events_channel(jackpot_uuid(jackpot["id"]))


async def test_a_player_subscribes_with_their_token_and_another_brands_jackpot_is_refused(
    live_server: str, gql: Any, make_staff: Any, make_player: Any, other_brand: Any
) -> None:
    jackpot = await mini_jackpot(gql, make_staff)
    admin = await make_staff(("superadmin", None))
    elsewhere = await created(gql, admin.token, "north", brands=["northstar"])
    player = await make_player()
    async with gql_subscription(live_server, {"id": jackpot["id"]}, token=player.token) as ticks:
        assert (await next_tick(ticks))["trigger"] == "snapshot"
    with pytest.raises(TransportQueryError) as refused:
        async with gql_subscription(live_server, {"id": elsewhere["id"]}, token=player.token) as ticks:
            await next_tick(ticks)
    assert refused.value.errors is not None
    assert [e["extensions"]["code"] for e in refused.value.errors] == ["FORBIDDEN"]
    with pytest.raises(TransportQueryError) as nameless:
        async with gql_subscription(live_server, {"id": jackpot["id"]}) as ticks:  # a visitor naming no brand
            await next_tick(ticks)
    assert nameless.value.errors is not None
    assert [e["extensions"]["code"] for e in nameless.value.errors] == ["BAD_USER_INPUT"]


# ---- the npm graphql-ws client --------------------------------------------------------------------


@functools.cache
def websocket_flags(node: str) -> list[str]:
    """Node's global WebSocket: behind a flag before Node 22."""
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True).stdout
    return ["--experimental-websocket"] if int(version.lstrip("v").split(".")[0]) < 22 else []


@asynccontextmanager
async def node_subscriber(base: str, variables: dict[str, Any], count: int) -> AsyncIterator[asyncio.StreamReader]:
    node = shutil.which("node")
    assert node, "node is not installed: the graphql-ws client test needs Node.js (see scripts/install.sh)"
    assert (ROOT / "admin" / "node_modules" / "graphql-ws").is_dir(), (
        "admin/node_modules is missing: npm install in admin/"
    )
    child = await asyncio.create_subprocess_exec(
        node, *websocket_flags(node), "--no-warnings", str(CLIENT), ws_url(base), SUBSCRIBE,
        json.dumps(variables), str(count),
        stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert child.stdout is not None
    try:
        yield child.stdout
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()


async def node_line(out: asyncio.StreamReader, seconds: float = 20) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(await asyncio.wait_for(out.readline(), seconds))
    assert "error" not in line, line
    return line


async def test_the_graphql_ws_client_sees_the_pots_live(
    live_server: str, rt: Any, gql: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    jackpot = await mini_jackpot(gql, make_staff)
    player = await seat(balance=100_000)
    async with node_subscriber(live_server, {"id": jackpot["id"], "brand": "royal"}, 2) as out:
        assert await node_line(out) == {"ready": True}
        snapshot = (await node_line(out))["data"]["jackpotChanged"]
        assert (snapshot["trigger"], snapshot["total"]["amount"]) == ("snapshot", "10.00")
        await wait_for_listener(rt, events_channel_name(jackpot))
        await bet(aggregator, player, 50)
        await contributions.drain()
        tick = (await node_line(out))["data"]["jackpotChanged"]
        assert (tick["trigger"], tick["total"]["amount"]) == ("contributions", "10.50")


# ---- throttling, through the whole path ----------------------------------------------------------


async def test_many_batches_within_seconds_tick_about_once_a_second_and_the_last_one_is_shown(
    live_server: str, rt: Any, gql: Any, make_staff: Any, seat: Any, aggregator: Any, contributions: Contributions
) -> None:
    jackpot = await mini_jackpot(gql, make_staff)
    player = await seat(balance=1_000_000)
    loop = asyncio.get_running_loop()
    async with gql_subscription(live_server, {"id": jackpot["id"], "brand": "royal"}) as ticks:
        assert (await next_tick(ticks))["trigger"] == "snapshot"
        await wait_for_listener(rt, events_channel_name(jackpot))
        started = loop.time()
        for _ in range(12):  # twelve consumer batches (twelve `jackpot.contributed` events), as fast as they go
            await bet(aggregator, player, 10)  # 0.10 € each to the pot
            await contributions.drain()
        busy = loop.time() - started
        received: list[dict[str, Any]] = []
        while True:
            try:
                received.append(await next_tick(ticks, seconds=2.5))  # more than a gate's second: the trailing tick
            except TimeoutError:
                break
    assert received, "no tick came"
    assert received[-1]["total"]["amount"] == "11.20"  # the last change is shown: 10 € seed + 12 bets of 0.10 €
    assert len(received) <= math.floor(busy) + 2, (busy, len(received))  # a tick a second, plus the trailing one
    assert len(received) < 12  # twelve changes did not make twelve ticks


# ---- two servers sharing one Redis ----------------------------------------------------------------


@pytest.fixture(scope="module")
def second_server(live_server: str) -> Iterator[str]:
    """Another `croupier serve` on the same database and Redis: a second replica."""
    with served("jackpots_second_server") as base:
        yield base


async def test_two_replicas_each_serve_a_subscriber_the_same_tick(
    live_server: str,
    second_server: str,
    rt: Any,
    gql: Any,
    make_staff: Any,
    seat: Any,
    aggregator: Any,
    contributions: Contributions,
) -> None:
    jackpot = await mini_jackpot(gql, make_staff)
    player = await seat(balance=100_000)
    variables = {"id": jackpot["id"], "brand": "royal"}
    async with gql_subscription(live_server, variables) as here, node_subscriber(second_server, variables, 2) as there:
        assert (await next_tick(here))["trigger"] == "snapshot"
        assert await node_line(there) == {"ready": True}
        assert (await node_line(there))["data"]["jackpotChanged"]["trigger"] == "snapshot"
        channel = events_channel_name(jackpot)
        await wait_for_listener(rt, channel)
        counts = dict(await rt.redis.pubsub_numsub(channel))
        assert counts.get(channel.encode(), counts.get(channel)) == 2  # one listener per server, not per subscriber
        published = await rt.redis.get(f"{{jackpot:{jackpot_id(jackpot)}}}:seq")
        await bet(aggregator, player, 30)
        await contributions.drain()
        first = await next_tick(here)
        second = (await node_line(there))["data"]["jackpotChanged"]
        assert first["total"] == second["total"] == {"amount": "10.30", "currency": "EUR"}
        # Both servers heard the batch's event and asked the ticker; one tick was published for both.
        assert int(await rt.redis.get(f"{{jackpot:{jackpot_id(jackpot)}}}:seq")) == int(published or 0) + 1


def jackpot_id(jackpot: dict[str, Any]) -> str:
    from resolvers.jackpots import jackpot_uuid

    return str(jackpot_uuid(jackpot["id"]))
