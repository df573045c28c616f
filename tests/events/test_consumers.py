"""The consumer framework (core/consumers.py): each event's effects exactly once, whatever the stream does.

A test consumer (`Tally`) writes one row per event it applies into a scratch table with no unique key,
so an event applied twice shows as two rows. Events come from the outbox, published by the app's own
relay into the real Redis stream; the tests drive the runners themselves (`step`, `sweep`, `drain`), or
run them as the server does (`run`) where the point is what happens while they run.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from typing import Any

import asyncpg
import pytest

from core import outbox
from core.consumers import MAX_ATTEMPTS, STREAM, Event, Retried, Runner, replay, retry_parked
from tests.events.tally import SCRATCH_TABLE, Outage, Tally, all_published, applied, dsn, emit, runner, until


class Died(BaseException):
    """The process dies here (a `kill -9` leaves no chance to handle anything)."""


@pytest.fixture
async def db(rt: Any) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(dsn(rt))
    await conn.execute(SCRATCH_TABLE)
    yield conn
    await conn.close()


@contextlib.asynccontextmanager
async def running(*runners: Runner) -> AsyncIterator[None]:
    """The runners' `run()` loops, as the server runs them; stopped (cancelled) at the end."""
    tasks = [asyncio.create_task(r.run(), name=f"consumer-{r.name}-{r.member}") for r in runners]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def pending(rt: Any, group: str = "tally") -> int:
    summary = await rt.redis.xpending(STREAM, group)
    return int(summary["pending"])


async def events_of(conn: asyncpg.Connection, ids: Sequence[int]) -> list[Event]:
    rows = await conn.fetch(f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events WHERE id = ANY($1) ORDER BY id", ids)
    return [Event.of(outbox.envelope_of(row)) for row in rows]


async def parked(conn: asyncpg.Connection, consumer: str = "tally") -> dict[int, str]:
    rows = await conn.fetch(
        "SELECT event_id, error FROM consumer_parked WHERE consumer = $1 AND retried_at IS NULL", consumer
    )
    return {row["event_id"]: row["error"] for row in rows}


async def cursor_of(conn: asyncpg.Connection, consumer: str = "tally") -> int:
    return int(await conn.fetchval("SELECT cursor FROM event_consumers WHERE name = $1", consumer))


async def processed_rows(conn: asyncpg.Connection, consumer: str = "tally") -> int:
    return int(await conn.fetchval("SELECT count(*) FROM consumer_processed WHERE consumer = $1", consumer))


# ---- the stream ----------------------------------------------------------------------------------


async def test_the_stream_delivers_each_event_and_a_redelivery_changes_nothing(rt: Any, db: Any) -> None:
    ids = await emit(rt, 5)
    await all_published(db, ids)
    r = runner(rt, Tally())
    await r.join_group()
    await r.register(db)

    assert await r.step(db) == 5  # from the stream alone (no sweep)
    assert await applied(db) == Counter(ids)
    assert await pending(rt) == 0

    assert await r.apply(db, await events_of(db, ids)) == set()  # delivered again: nothing changes
    assert await applied(db) == Counter(ids)


async def test_a_member_that_died_after_commit_before_xack_leaves_its_events_to_another(rt: Any, db: Any) -> None:
    ids = await emit(rt, 6)
    await all_published(db, ids)
    tally = Tally()

    class DiesBeforeAck(Runner):
        async def apply(self, conn: asyncpg.Connection, events: Sequence[Event], **options: Any) -> set[int]:
            await super().apply(conn, events, **options)
            raise Died  # committed, never acknowledged

    a = DiesBeforeAck(tally, dsn(rt), rt.redis, member="a")
    await a.join_group()
    await a.register(db)
    with pytest.raises(Died):
        await a.step(db)
    assert await applied(db) == Counter(ids)
    assert await pending(rt) == 6  # the stream still holds them for member a

    b = runner(rt, tally, member="b", claim_idle_ms=0)  # a has been silent long enough: b takes over
    await b.drain(db)
    assert await applied(db) == Counter(ids)  # XAUTOCLAIM redelivered them; nothing applied twice
    assert await pending(rt) == 0


async def test_a_member_that_died_mid_batch_leaves_its_events_to_another(rt: Any, db: Any) -> None:
    ids = await emit(rt, 4)
    await all_published(db, ids)

    class DiesMidBatch(Tally):
        async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
            await super().apply(conn, events)
            raise Died  # its rows were written in the batch's transaction, never committed

    a = runner(rt, DiesMidBatch(), member="a")
    await a.join_group()
    await a.register(db)
    with pytest.raises(Died):
        await a.step(db)
    assert await applied(db) == Counter()

    b = runner(rt, Tally(), member="b", claim_idle_ms=0)
    await b.drain(db)
    assert await applied(db) == Counter(ids)
    assert await pending(rt) == 0


async def test_an_event_from_both_the_stream_and_the_sweep_is_applied_once(rt: Any, db: Any) -> None:
    ids = await emit(rt, 8)
    await all_published(db, ids)
    r = runner(rt, Tally())
    await r.join_group()
    await r.register(db)
    assert await r.sweep(db, grace=0) == 8  # the sweep first, then the stream brings the same events
    await r.step(db)
    assert await applied(db) == Counter(ids)

    racing = runner(rt, Tally(name="racing"))  # the stream and the sweep at once, on two connections
    await racing.join_group()
    await racing.register(db)
    other = await asyncpg.connect(dsn(rt))
    try:
        await asyncio.gather(racing.step(db), racing.sweep(other, grace=0))
    finally:
        await other.close()
    assert await applied(db, "racing") == Counter(ids)


async def test_an_undecodable_stream_entry_is_acknowledged_and_the_rest_applied(rt: Any, db: Any) -> None:
    ids = await emit(rt, 2)
    await all_published(db, ids)
    await rt.redis.xadd(STREAM, {"id": "0", "event": "{not json"})
    r = runner(rt, Tally())
    await r.join_group()
    await r.register(db)
    assert await r.step(db) == 3
    assert await applied(db) == Counter(ids)
    assert await pending(rt) == 0


async def test_a_lost_stream_is_caught_up_by_the_sweep(rt: Any, db: Any) -> None:
    r = runner(rt, Tally(), sweep_every=0.2, sweep_grace=0, retry_seconds=0.1)
    first = await emit(rt, 5)
    async with running(r):
        await until(lambda: _covers(db, first), "the first events")

    await rt.redis.flushdb()  # Redis restarts empty: the stream, the groups, the relay's dedupe keys
    second = await emit(rt, 5)
    await all_published(db, second)
    await rt.redis.flushdb()  # and again, after the relay published the second events
    assert await rt.redis.exists(STREAM) == 0
    async with running(r):
        await until(lambda: _covers(db, first + second), "the sweep to apply the lost events")
        assert await applied(db) == Counter(first + second)

        await rt.redis.flushdb()  # while it runs: its group vanishes under it (NOGROUP); it rejoins
        third = await emit(rt, 3)
        await until(lambda: _covers(db, first + second + third), "the events after the loss")
    assert await applied(db) == Counter(first + second + third)


async def _covers(conn: asyncpg.Connection, ids: Sequence[int]) -> bool:
    return set(ids) <= set(await applied(conn))


# ---- poison events and outages -------------------------------------------------------------------


async def test_a_poison_event_is_parked_after_max_attempts_and_the_others_applied(rt: Any, db: Any) -> None:
    ids = await emit(rt, 5)
    await all_published(db, ids)
    poison = ids[2]
    attempts: list[int] = []

    class Counting(Tally):
        async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
            if [e.id for e in events] == [poison]:
                attempts.append(poison)
            await super().apply(conn, events)

    tally = Counting(poison={poison})
    r = runner(rt, tally, claim_idle_ms=0)
    await r.drain(db)

    assert await applied(db) == Counter(i for i in ids if i != poison)
    assert list((await parked(db)).items()) == [(poison, f"ValueError('cannot digest event {poison}')")]
    assert len(attempts) == MAX_ATTEMPTS
    assert await pending(rt) == 0  # the stream moved on: the parked event's entry is acknowledged

    await r.drain(db)  # parked stays parked: no further attempts
    assert len(attempts) == MAX_ATTEMPTS

    tally.poison.clear()  # the consumer is fixed
    assert await retry_parked(r, db) == Retried(applied=1, parked=0)
    assert await applied(db) == Counter(ids)
    assert await parked(db) == {}
    assert await retry_parked(r, db) == Retried(applied=0, parked=0)
    await r.drain(db)
    assert await applied(db) == Counter(ids)


async def test_a_retry_that_fails_or_dies_keeps_the_event_parked(rt: Any, db: Any) -> None:
    [poison] = await emit(rt, 1)
    await all_published(db, [poison])
    tally = Tally(poison={poison})
    r = runner(rt, tally, claim_idle_ms=0, settle=0)
    await r.drain(db)
    assert set(await parked(db)) == {poison}
    assert await r.advance(db) == poison  # the cursor passes a parked event

    assert await retry_parked(r, db) == Retried(applied=0, parked=1)  # still broken: parked again
    assert set(await parked(db)) == {poison}

    class DiesOnRetry(Tally):
        async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
            await super().apply(conn, events)
            raise Died

    dying = runner(rt, DiesOnRetry(), settle=0)
    with pytest.raises(Died):
        await retry_parked(dying, db)
    assert set(await parked(db)) == {poison}  # a crash mid-retry loses nothing
    assert await applied(db) == Counter()

    tally.poison.clear()
    assert await retry_parked(r, db, [poison]) == Retried(applied=1, parked=0)
    assert await applied(db) == Counter([poison])
    assert await parked(db) == {}


async def test_an_event_applied_by_another_member_meanwhile_is_not_parked(rt: Any, db: Any) -> None:
    ids = await emit(rt, 1)
    await all_published(db, ids)
    a = runner(rt, Tally(), member="a")
    b = runner(rt, Tally(), member="b")
    await b.drain(db)
    [event] = await events_of(db, ids)
    assert await a.park(db, event, ValueError("a failure a had before b applied it")) is False
    assert await parked(db) == {}


async def test_an_outage_of_the_consumer_is_retried_and_never_parked(rt: Any, db: Any) -> None:
    ids = await emit(rt, 3)
    await all_published(db, ids)
    tally = Tally(away=True)
    r = runner(rt, tally)
    for _ in range(MAX_ATTEMPTS + 1):
        with pytest.raises(Outage):
            await r.drain(db)
    assert await parked(db) == {}
    assert await applied(db) == Counter()
    assert await pending(rt) == 3

    tally.away = False
    await r.drain(db)  # its own pending entries first, without waiting for them to idle
    assert await applied(db) == Counter(ids)
    assert await pending(rt) == 0


# ---- the cursor, replays, types ------------------------------------------------------------------


async def test_the_cursor_passes_settled_events_and_prunes_their_rows(rt: Any, db: Any) -> None:
    ids = await emit(rt, 4)
    await all_published(db, ids)
    r = runner(rt, Tally(), settle=3600)
    await r.drain(db)
    assert await cursor_of(db) == 0  # published just now: not settled for an hour
    assert await processed_rows(db) == 4

    r.settle = 0
    assert await r.advance(db) == max(ids)
    assert await processed_rows(db) == 0
    assert await r.apply(db, await events_of(db, ids)) == set()  # a redelivery below the cursor: nothing
    await r.drain(db)
    assert await applied(db) == Counter(ids)


async def test_the_cursor_waits_for_a_transaction_that_took_an_earlier_id(rt: Any, db: Any) -> None:
    """Outbox ids come from a sequence: a transaction can take an id, and commit after a later one."""
    slow = await asyncpg.connect(dsn(rt))
    try:
        transaction = slow.transaction()
        await transaction.start()
        early = await slow.fetchval(
            "INSERT INTO outbox_events (topic, key, payload, schema_version, created_at) "
            "VALUES ('player.status_changed', $1, $2::jsonb, 1, now()) RETURNING id",
            f"player:{uuid.uuid4()}",
            json.dumps({"player_id": str(uuid.uuid4()), "status": "active"}),
        )
        later = await emit(rt, 1)
        await all_published(db, later)
        assert later[0] > early

        r = runner(rt, Tally(), settle=3600)
        await r.drain(db)
        assert await r.advance(db) < early  # `later` is not settled, and `early` may still commit
        await transaction.commit()
    finally:
        await slow.close()
    await all_published(db, [early])
    await r.drain(db)
    assert await applied(db) == Counter([early, *later])


async def test_quick_sweeps_read_what_is_new_and_full_ones_what_committed_late(rt: Any, db: Any) -> None:
    r = runner(rt, Tally())
    await r.join_group()
    await r.register(db)
    before = await emit(rt, 2)
    await all_published(db, before)
    assert await r.sweep(db, grace=0) == 2  # full: from the cursor

    slow = await asyncpg.connect(dsn(rt))
    try:
        transaction = slow.transaction()
        await transaction.start()
        early = await slow.fetchval(
            "INSERT INTO outbox_events (topic, key, payload, schema_version, created_at) "
            "VALUES ('player.status_changed', $1, $2::jsonb, 1, now()) RETURNING id",
            f"player:{uuid.uuid4()}",
            json.dumps({"player_id": str(uuid.uuid4()), "status": "active"}),
        )
        later = await emit(rt, 2)
        await all_published(db, later)
        assert await r.sweep(db, grace=0, full=False) == 2  # only what is new since the last sweep
        await transaction.commit()
    finally:
        await slow.close()
    await all_published(db, [early])
    assert await r.sweep(db, grace=0, full=False) == 0  # below what it swept: left to the stream
    assert await r.sweep(db, grace=0) == 1  # and to the next full sweep
    assert await applied(db) == Counter([*before, early, *later])


async def test_replay_rebuilds_the_same_result_from_the_outbox(rt: Any, db: Any) -> None:
    ids = await emit(rt, 6)
    await all_published(db, ids)
    tally = Tally()
    r = runner(rt, tally, settle=0)
    await r.drain(db)
    built = await applied(db)
    assert await cursor_of(db) == max(ids)

    await db.execute("DELETE FROM consumer_test_effects WHERE event_id = $1", ids[0])  # the projection is damaged
    assert await replay(r, db) == 6
    assert await applied(db) == built
    await r.drain(db)  # the stream and the sweep after a replay change nothing
    assert await applied(db) == built


async def test_a_consumer_applies_only_its_types_and_its_cursor_passes_the_others(rt: Any, db: Any) -> None:
    registered = await emit(rt, 2, type_="player.registered")
    changed = await emit(rt, 3)
    await all_published(db, registered + changed)
    r = runner(rt, Tally(types=frozenset({"player.registered"})), settle=0)
    await r.drain(db)
    assert await applied(db) == Counter(registered)
    assert await cursor_of(db) == max(registered + changed)


# ---- concurrency -------------------------------------------------------------------------------


async def test_two_members_of_one_group_apply_everything_once(rt: Any, db: Any) -> None:
    """Two members sharing the stream and stealing each other's pending entries while events flow;
    then two more, each also sweeping the outbox table all the time, racing the stream."""
    tally = Tally()
    stream_only: dict[str, Any] = {"claim_idle_ms": 20, "sweep_grace": 3600, "batch": 7}
    async with running(*(runner(rt, tally, member=m, **stream_only) for m in ("a", "b"))):
        batches = await asyncio.gather(*(emit(rt, 20) for _ in range(5)))
        ids = [i for batch in batches for i in batch]
        await until(lambda: _covers(db, ids), "both members to apply every event", seconds=60)
    assert await applied(db) == Counter(ids)
    assert {m["name"] for m in await rt.redis.xinfo_consumers(STREAM, "tally")} == {"a", "b"}

    racing: dict[str, Any] = {"claim_idle_ms": 20, "sweep_every": 0.05, "sweep_grace": 0, "batch": 7}
    async with running(*(runner(rt, tally, member=m, **racing) for m in ("c", "d"))):
        batches = await asyncio.gather(*(emit(rt, 20) for _ in range(5)))
        ids += [i for batch in batches for i in batch]
        await until(lambda: _covers(db, ids), "the members and their sweeps to apply every event", seconds=60)
    assert await applied(db) == Counter(ids)
