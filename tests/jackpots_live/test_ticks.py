"""The jackpot ticker (services/jackpots/live.py) against real Redis: many changes within a second make
one tick now and one trailing tick once the second is over, never two ticks within a second, whichever
replica the changes come from; and the last change is always followed by a tick.

Each test uses its own jackpot id, so its Redis keys and channel are its own."""

from __future__ import annotations

import asyncio
import itertools
import json
import uuid
from typing import Any

from redis.asyncio import Redis

from core.events import Listener, hub_of
from services.jackpots import live
from tests.conftest import REDIS_URL

GAP_MS = int(live.TICK_SECONDS * 1000)


async def redis_ms(rt: Any) -> int:
    seconds, micros = await rt.redis.time()
    return int(seconds) * 1000 + int(micros) // 1000


async def ticks_during(rt: Any, jackpot_id: uuid.UUID, work: Any, settle: float) -> list[tuple[int, dict[str, Any]]]:
    """Run `work` while listening on the jackpot's channel, then `settle` seconds more; the ticks
    received, each with when it was published (ms on Redis's clock)."""
    loop, hub, listener = asyncio.get_running_loop(), hub_of(rt), Listener()
    name = live.channel(jackpot_id)
    await hub.join((name,), listener)
    try:
        await work()
        received: list[tuple[int, dict[str, Any]]] = []
        deadline = loop.time() + settle
        while (left := deadline - loop.time()) > 0:
            message = await listener.next(within=left)
            if message is not None:
                received.append((int(message.pop("at_ms")), message))
    finally:
        await hub.leave((name,), listener)
    return received


def spaced(times: list[int]) -> bool:
    return all(b - a >= GAP_MS for a, b in itertools.pairwise(times))


async def test_many_changes_in_a_second_make_one_tick_then_a_trailing_one(rt: Any) -> None:
    jackpot_id = uuid.uuid4()
    ticker = live.Ticker(rt.redis)
    changes_done: list[int] = []

    async def burst() -> None:
        for _ in range(40):  # 40 changes over ~0.4 s
            await ticker.changed([jackpot_id], live.CONTRIBUTIONS)
            await asyncio.sleep(0.01)
        changes_done.append(await redis_ms(rt))

    received = await ticks_during(rt, jackpot_id, burst, settle=2.5)
    assert len(received) == 2, received  # one at once, one trailing: not forty
    (first_at, first), (second_at, second) = received
    assert first == {"type": live.TICK, "jackpot_id": str(jackpot_id), "seq": 1, "reasons": ["contributions"]}
    assert (second["seq"], second["reasons"]) == (2, ["contributions"])
    assert second_at - first_at >= GAP_MS
    assert second_at > changes_done[0]  # the trailing tick came after the last change
    assert ticker.published == 2


async def test_a_lone_change_ticks_at_once_and_nothing_trails(rt: Any) -> None:
    jackpot_id = uuid.uuid4()
    ticker = live.Ticker(rt.redis)

    async def once() -> None:
        await ticker.changed([jackpot_id], live.WIN)

    received = await ticks_during(rt, jackpot_id, once, settle=1.6)
    assert [message["reasons"] for _, message in received] == [["win"]]


async def test_two_replicas_share_one_gate_and_the_reasons_of_both_are_told(rt: Any) -> None:
    """Two processes' tickers (two Redis clients, as two replicas have): still at most one tick a second,
    and a trailing tick carries the reasons marked on either side."""
    jackpot_id = uuid.uuid4()
    other_client = Redis.from_url(REDIS_URL)
    here, there = live.Ticker(rt.redis), live.Ticker(other_client)
    stamps: list[int] = []

    async def both() -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + 2.2
        turn = 0
        while loop.time() < end:
            side, reason = (here, live.CONTRIBUTIONS) if turn % 2 == 0 else (there, live.RESEED)
            await side.changed([jackpot_id], reason)
            turn += 1
            await asyncio.sleep(0.02)
        stamps.append(await redis_ms(rt))

    try:
        received = await ticks_during(rt, jackpot_id, both, settle=1.6)
    finally:
        await other_client.aclose()
    times = [at for at, _ in received]
    assert 3 <= len(received) <= 5, received  # ~2.2 s of changes: a tick a second, plus the trailing one
    assert spaced(times), times
    assert [m["seq"] for _, m in received] == list(range(1, len(received) + 1))  # one publisher per tick
    assert times[-1] > stamps[0]
    assert {"contributions", "reseed"} <= {r for _, m in received for r in m["reasons"]}
    assert here.published + there.published == len(received)


async def test_a_tick_is_json_a_plain_client_reads(rt: Any) -> None:
    jackpot_id = uuid.uuid4()
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(live.channel(jackpot_id))
    try:
        await live.changed(rt.redis, [jackpot_id, jackpot_id], live.CONFIGURED)  # named twice: told once
        messages = []
        for _ in range(20):
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)
            if message:
                messages.append(json.loads(message["data"]))
        assert [m["reasons"] for m in messages] == [["configured"]]
    finally:
        await pubsub.aclose()


async def test_one_event_heard_by_three_replicas_makes_one_tick(rt: Any) -> None:
    """Every replica watching the jackpot hears its outbox event and asks the ticker; the event is told once
    (no trailing tick for the replicas that came second)."""
    jackpot_id = uuid.uuid4()
    clients = [Redis.from_url(REDIS_URL) for _ in range(2)]
    tickers = [live.Ticker(rt.redis), *(live.Ticker(c) for c in clients)]

    async def heard() -> None:
        await asyncio.gather(*(t.changed([jackpot_id], live.CONTRIBUTIONS, event_id=41) for t in tickers))

    try:
        received = await ticks_during(rt, jackpot_id, heard, settle=1.8)
    finally:
        for client in clients:
            await client.aclose()
    assert [m["seq"] for _, m in received] == [1]
