"""The outbox's wake-up (sql/outbox/outbox_notify_v2.sql): a commit that adds events NOTIFYs the relay only when
the relay may be asleep, and the relay still publishes every event, the ones committed while it was marked awake
included. (The server's own relay runs during these tests: it writes the mark when it wakes, at most once a
poll interval when nothing happens, so each check sets the mark and commits right after.)"""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg

from core.outbox import STREAM, Relay, asyncpg_dsn
from tests.ledger.test_ledger import deposit

AHEAD = "SELECT setval('outbox_relay_awake', (extract(epoch FROM clock_timestamp()) * 1000)::bigint + 60000)"
PAST = "SELECT setval('outbox_relay_awake', (extract(epoch FROM clock_timestamp()) * 1000)::bigint - 1)"


async def _notified(rt: Any, mark: str, player_id: Any) -> bool:
    """Whether a deposit committed right after `mark` wakes a listener."""
    listener = await asyncpg.connect(asyncpg_dsn(rt.database.url))
    writer = await asyncpg.connect(asyncpg_dsn(rt.database.url))
    woken = asyncio.Event()
    try:
        await listener.add_listener("croupier_outbox", lambda *_: woken.set())
        await writer.execute(mark)
        await deposit(rt, player_id, 1_00)
        try:
            await asyncio.wait_for(woken.wait(), timeout=0.5)
        except TimeoutError:
            return False
        return True
    finally:
        await writer.execute("SELECT setval('outbox_relay_awake', 0)")
        await listener.close()
        await writer.close()


async def test_a_commit_wakes_the_relay_when_its_mark_is_past(rt: Any, make_player: Any) -> None:
    player = await make_player()
    assert await _notified(rt, PAST, player.uuid)


async def test_a_commit_skips_the_notify_while_the_relay_promised_to_read(rt: Any, make_player: Any) -> None:
    player = await make_player()
    # the running relay may overwrite the mark between the two (it wakes once a second): one quiet try is enough
    assert not all([await _notified(rt, AHEAD, player.uuid) for _ in range(3)])


async def test_events_committed_under_the_mark_are_published_anyway(rt: Any, make_player: Any) -> None:
    player = await make_player()
    conn = await asyncpg.connect(asyncpg_dsn(rt.database.url))
    try:
        await conn.execute(AHEAD)  # as if a relay died awake: nobody is told, the relays' poll finds them
        for amount in (1_00, 2_00, 3_00):
            await deposit(rt, player.uuid, amount)
        ids = {row["id"] for row in await conn.fetch("SELECT id FROM outbox_events")}
        relay = Relay(rt.database.url, rt.redis, poll_seconds=0.05)
        task = asyncio.create_task(relay.run())
        try:
            for _ in range(100):
                if not await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL"):
                    break
                await asyncio.sleep(0.05)
        finally:
            task.cancel()
        assert not await conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
        published = {int(fields["id"]) for _, fields in await rt.redis.xrange(STREAM)}
        assert ids <= published
    finally:
        await conn.execute("SELECT setval('outbox_relay_awake', 0)")
        await conn.close()


async def test_the_relay_clears_its_mark_before_it_sleeps(rt: Any) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(rt.database.url))
    try:
        await conn.execute(AHEAD)
        for _ in range(60):  # the server's relay wakes on its poll (1 s), drains nothing and sleeps
            if await conn.fetchval("SELECT last_value FROM outbox_relay_awake") == 0:
                break
            await asyncio.sleep(0.05)
        assert await conn.fetchval("SELECT last_value FROM outbox_relay_awake") == 0
    finally:
        await conn.close()
