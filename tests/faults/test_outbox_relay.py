"""The outbox relay killed between commit and publish: the event is published after the restart, once.

Two windows, both made deterministic: (1) the money committed but the relay never published (Redis was
away, then the process died); (2) the relay published to Redis and died before marking the event
published (the state a `kill -9` between the XADD and the UPDATE leaves). Either way the restarted
relay publishes the event, and the stream holds it exactly once.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import asyncpg
from redis.asyncio import Redis

from bench import world
from core.outbox import STREAM
from tests.faults.conftest import Platform, aggregator
from tests.faults.load import Ack, Log

BALANCE = 20_00


async def events_of(platform: Platform, ledger_tx: str) -> list[int]:
    """Outbox ids of the events about one ledger transaction."""
    conn = await asyncpg.connect(platform.database_url)
    try:
        return [
            row["id"]
            for row in await conn.fetch("SELECT id FROM outbox_events WHERE payload->>'transaction_id' = $1", ledger_tx)
        ]
    finally:
        await conn.close()


async def published_at(platform: Platform, event_id: int) -> object:
    conn = await asyncpg.connect(platform.database_url)
    try:
        return await conn.fetchval("SELECT published_at FROM outbox_events WHERE id = $1", event_id)
    finally:
        await conn.close()


async def nothing_pending(platform: Platform) -> bool:
    conn = await asyncpg.connect(platform.database_url)
    try:
        return not await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
    finally:
        await conn.close()


async def in_stream(redis: Redis, event_id: int) -> int:
    entries = await redis.xrange(STREAM)
    return sum(1 for _, fields in entries if fields.get("id") == str(event_id))


async def until(check: object, seconds: float = 20) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():  # type: ignore[operator]
        assert loop.time() < deadline, "timed out waiting for the relay"
        await asyncio.sleep(0.1)


async def bet_once(platform: Platform, place: world.World, base: str, log: Log) -> str:
    """One acknowledged bet; returns its ledger transaction id."""
    seat = place.seats[0]
    client = aggregator(place.key, base)
    body = world.bet(seat, 3_00, tx=str(uuid.uuid4()), round_ref=f"r-{uuid.uuid4().hex[:6]}")
    try:
        answer = await client.send(world.signed(place.key, "transaction/bet", body))
    finally:
        await client.aclose()
    assert answer["status"] == "RS_OK"
    log.model[seat.user] = log.model.get(seat.user, BALANCE) - 3_00
    log.acks.append(
        Ack(
            "transaction/bet",
            body["transaction_uuid"],
            seat.user,
            3_00,
            "RS_OK",
            answer["balance"] // world.UNITS_PER_MINOR,
        )
    )
    conn = await asyncpg.connect(platform.database_url)
    try:
        return str(
            await conn.fetchval(
                "SELECT ledger_transaction_id FROM provider_transactions WHERE transaction_uuid = $1",
                body["transaction_uuid"],
            )
        )
    finally:
        await conn.close()


async def test_an_event_committed_but_never_published_is_published_after_restart(platform: Platform) -> None:
    place = await platform.world(players=1, balance=BALANCE)
    log = Log(model={place.seats[0].user: BALANCE})
    api = platform.server()
    await asyncio.to_thread(api.start)
    await until(lambda: nothing_pending(platform))  # the setup's own events are out before Redis goes
    platform.redis.stop()  # the relay cannot publish: the event stays in the outbox
    ledger_tx = await bet_once(platform, place, api.base, log)
    [event_id] = await events_of(platform, ledger_tx)
    api.kill()
    assert await published_at(platform, event_id) is None

    platform.redis.start()
    redis = Redis.from_url(platform.redis.url, decode_responses=True)
    try:
        pubsub = redis.pubsub()
        await pubsub.subscribe(f"events:player:{place.seats[0].user}")
        await asyncio.to_thread(api.start)
        await until(lambda: published_at(platform, event_id))
        assert await in_stream(redis, event_id) == 1
        live = [json.loads(m["data"]) for m in await _drain(pubsub)]
        assert [m["id"] for m in live] == [str(event_id)]  # the live subscriber heard it, once
        await pubsub.aclose()
    finally:
        await redis.aclose()
    await platform.assert_books_match(log)


async def test_an_event_published_but_not_marked_is_not_published_twice(platform: Platform) -> None:
    place = await platform.world(players=1, balance=BALANCE)
    log = Log(model={place.seats[0].user: BALANCE})
    api = platform.server()
    await asyncio.to_thread(api.start)
    redis = Redis.from_url(platform.redis.url, decode_responses=True)
    try:
        ledger_tx = await bet_once(platform, place, api.base, log)
        [event_id] = await events_of(platform, ledger_tx)
        await until(lambda: published_at(platform, event_id))
        api.kill()
        conn = await asyncpg.connect(platform.database_url)  # as if killed between XADD and UPDATE
        try:
            await conn.execute("UPDATE outbox_events SET published_at = NULL WHERE id = $1", event_id)
        finally:
            await conn.close()

        await asyncio.to_thread(api.start)
        await until(lambda: published_at(platform, event_id))
        later = await bet_once(platform, place, api.base, log)  # the relay moved on past it
        [later_event] = await events_of(platform, later)
        await until(lambda: published_at(platform, later_event))
        assert await in_stream(redis, event_id) == 1
        assert await in_stream(redis, later_event) == 1
    finally:
        await redis.aclose()
    await platform.assert_books_match(log)


async def _drain(pubsub: object, seconds: float = 1.0) -> list[dict[str, str]]:
    messages = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.1)  # type: ignore[attr-defined]
        if message is not None:
            messages.append(message)
    return messages
