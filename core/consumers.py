"""Consumers of the event stream, with exactly-once effects.

A consumer is a module that follows from events (report projections, the NATS sink, later
tournaments, jackpots, risk, affiliates, CRM). It reads the stream `croupier:events` in its own Redis
consumer group (XREADGROUP; XAUTOCLAIM takes over the pending events of a crashed member) and applies
each batch in one PostgreSQL transaction that also records the ids of the events it applied
(`consumer_processed`). A redelivered event finds its id there and changes nothing; the batch's XACK
comes after the commit, so a crash in between only causes a redelivery.

The stream is the fast path, the outbox table the truth: Redis may lose the stream (a restart of a
Redis that keeps nothing on disk, a trim past a slow consumer). A sweep reads the outbox table for
published events the consumer has not processed and applies them the same way; a rebuild (`replay`)
is the same sweep from the start after the consumer forgot what it built.

Each consumer keeps a `cursor`: every event at or below it is processed, so its rows in
`consumer_processed` can go. The cursor only passes events published `SETTLE_SECONDS` ago, so a
transaction that took an outbox id earlier but committed later is still seen (the sweep and the
stream both deliver it above the cursor).

A failing consumer delays only itself. An event its consumer fails on alone, `MAX_ATTEMPTS` times, is
parked (`consumer_parked`, logged, counted in /metrics) and the stream goes on; `croupier events
retry` applies it again once fixed. An outage (the database, or a consumer's `transient` errors such
as its broker being away) is not the event's fault: the runner backs off and tries again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, ClassVar, Protocol

import asyncpg
from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from core import catalogue, outbox
from core.clock import clock
from core.logging import get_logger

log = get_logger(__name__)

STREAM = outbox.STREAM
BATCH = 500
MAX_ATTEMPTS = 3
CLAIM_IDLE_MS = 30_000  # a member silent this long has crashed: its pending events are taken over
SWEEP_SECONDS = 5.0
SWEEP_GRACE_SECONDS = 30  # the stream normally delivers within milliseconds; the sweep is for what it lost
SETTLE_SECONDS = 600  # no outbox transaction stays open longer (the database's idle and statement timeouts)

EVENTS = Counter("croupier_consumer_events_total", "Events applied by a consumer", ["consumer"])
ERRORS = Counter("croupier_consumer_errors_total", "Failed attempts to apply a batch or an event", ["consumer"])
PARKED = Gauge("croupier_consumer_parked_events", "Events a consumer set aside as poison", ["consumer"])
BEHIND = Gauge("croupier_consumer_behind_events", "Stream entries not yet delivered to or acked by", ["consumer"])
LAG = Histogram(
    "croupier_consumer_lag_seconds",
    "From an event's commit to its effects' commit",
    ["consumer"],
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300),
)


@dataclass(frozen=True)
class Event:
    id: int
    type: str
    subject: str
    brand: str | None
    schema_version: int
    time: datetime
    data: dict[str, Any]

    @classmethod
    def of(cls, envelope: dict[str, Any]) -> Event:
        return cls(
            id=int(envelope["id"]),
            type=envelope["type"],
            subject=envelope["subject"],
            brand=envelope.get("brand"),
            schema_version=int(envelope.get("schemaVersion", 0)),
            time=datetime.fromisoformat(envelope["time"]),
            data=envelope.get("data") or {},
        )

    def envelope(self) -> dict[str, Any]:
        return catalogue.envelope(
            event_id=self.id,
            type_=self.type,
            time=self.time,
            subject=self.subject,
            brand=self.brand,
            schema_version=self.schema_version,
            data=self.data,
        )


class Consumer(Protocol):
    name: ClassVar[str]
    types: ClassVar[frozenset[str] | None]  # the types it applies (None: all); others are only recorded
    transient: ClassVar[tuple[type[BaseException], ...]]  # its outages: retried, never parked

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """Apply the events' effects in the open transaction on `conn` (raise to refuse the batch)."""

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Forget everything built so far (a rebuild follows), in the open transaction on `conn`."""


def _lock_key(name: str) -> int:
    return 0x0C20_1000_0000 + zlib.crc32(name.encode())


_OUTAGES = (OSError, asyncpg.PostgresConnectionError, asyncpg.InterfaceError, RedisError, asyncio.TimeoutError)
_SWEEP = f"""
SELECT {outbox.ROW_COLUMNS} FROM outbox_events o
WHERE o.id > $2 AND ($3 = 0 OR o.published_at <= now() - make_interval(secs => $3))
  AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = $1 AND p.event_id = o.id)
ORDER BY o.id LIMIT $4"""  # noqa: S608  (column names only)
_ADVANCE = """
WITH c AS (SELECT cursor FROM event_consumers WHERE name = $1 FOR UPDATE),
blocker AS (
    SELECT min(o.id) AS id FROM outbox_events o, c
    WHERE o.id > c.cursor AND (o.published_at IS NULL OR o.published_at > now() - make_interval(secs => $2)
        OR NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = $1 AND p.event_id = o.id))
),
settled AS (
    SELECT coalesce((SELECT id - 1 FROM blocker WHERE id IS NOT NULL),
                    (SELECT max(o.id) FROM outbox_events o, c WHERE o.id > c.cursor), (SELECT cursor FROM c)) AS id
)
UPDATE event_consumers SET cursor = greatest(cursor, settled.id), updated_at = now() FROM settled
WHERE name = $1 RETURNING cursor"""


@dataclass
class Runner:
    """Runs one consumer in this process: a member of its consumer group."""

    consumer: Consumer
    dsn: str
    redis: Redis
    member: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    batch: int = BATCH
    sweep_grace: float = SWEEP_GRACE_SECONDS
    settle: float = SETTLE_SECONDS
    _failures: dict[int, int] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.consumer.name

    async def run(self) -> None:
        """Forever: read, apply, acknowledge; sweep the outbox table now and then; back off on outages."""
        while True:
            try:
                await self._serve()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (an outage: the database, Redis or the consumer's own)
                ERRORS.labels(self.name).inc()
                log.warning("consumer_restarting", consumer=self.name, error=repr(exc))
                await asyncio.sleep(2.0)

    async def _serve(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        try:
            await self.join_group()
            await self.register(conn)
            last_sweep = 0.0
            loop = asyncio.get_running_loop()
            while True:
                if loop.time() - last_sweep >= SWEEP_SECONDS:
                    await self.sweep(conn)
                    await self.observe(conn)
                    last_sweep = loop.time()
                await self.step(conn, block_ms=1000)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def join_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
            await self.redis.xgroup_create(STREAM, self.name, id="0", mkstream=True)

    async def register(self, conn: asyncpg.Connection) -> None:
        await conn.execute("INSERT INTO event_consumers (name) VALUES ($1) ON CONFLICT DO NOTHING", self.name)

    async def step(self, conn: asyncpg.Connection, *, block_ms: int | None = None) -> int:
        """Apply one batch from the stream: a crashed member's pending events first, then new ones."""
        claimed = await self.redis.xautoclaim(STREAM, self.name, self.member, CLAIM_IDLE_MS, "0-0", count=self.batch)
        messages = [m for m in claimed[1] if m and m[1]]
        if not messages:
            read: Any = await self.redis.xreadgroup(
                self.name, self.member, {STREAM: ">"}, count=self.batch, block=block_ms
            )
            messages = [m for _, entries in read or () for m in entries]
        if not messages:
            return 0
        events = {
            message_id: Event.of(json.loads(fields[b"event"])) for message_id, fields in messages if b"event" in fields
        }
        later = await self.apply(conn, list(events.values()))
        done = [
            message_id for message_id, _ in messages if message_id not in events or events[message_id].id not in later
        ]
        if done:  # the others stay pending: redelivered (XAUTOCLAIM) until applied or parked
            await self.redis.xack(STREAM, self.name, *done)
        return len(messages)

    async def sweep(self, conn: asyncpg.Connection, *, grace: float | None = None, limit: int | None = None) -> int:
        """Apply published events the stream did not deliver (or not yet: `grace` seconds after their
        publication); then move the cursor. Returns how many events it applied."""
        cursor = await conn.fetchval("SELECT cursor FROM event_consumers WHERE name = $1", self.name) or 0
        applied = 0
        while True:
            rows = await conn.fetch(_SWEEP, self.name, cursor, self.sweep_grace if grace is None else grace, self.batch)
            if not rows:
                break
            await self.apply(conn, [Event.of(outbox.envelope_of(row)) for row in rows])
            applied += len(rows)
            cursor = rows[-1]["id"]
            if limit is not None and applied >= limit:
                break
        await self.advance(conn)
        return applied

    async def advance(self, conn: asyncpg.Connection) -> int:
        """Move the cursor past every settled, processed event, and drop their processed rows."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(self.name))
            cursor: int = await conn.fetchval(_ADVANCE, self.name, self.settle)
            await conn.execute(
                "DELETE FROM consumer_processed WHERE consumer = $1 AND event_id <= $2", self.name, cursor
            )
        return cursor

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event], *, again: bool = False) -> set[int]:
        """Apply events once each: the batch in one transaction, or, if it fails, each event alone (so
        one poison event is found without holding up the rest). Returns the ids of events that failed
        and are to be tried again later; one that failed `MAX_ATTEMPTS` times is parked instead."""
        unique = list({e.id: e for e in events}.values())
        if not unique:
            return set()
        try:
            await self._apply_once(conn, unique, again=again)
            return set()
        except self._outages():
            raise
        except Exception as exc:  # noqa: BLE001  (the consumer's bug or a bad event: find which)
            ERRORS.labels(self.name).inc()
            log.warning("consumer_batch_failed", consumer=self.name, events=len(unique), error=repr(exc))
        later: set[int] = set()
        for event in unique:
            try:
                await self._apply_once(conn, [event], again=again)
                self._failures.pop(event.id, None)
            except self._outages():
                raise
            except Exception as exc:  # noqa: BLE001
                ERRORS.labels(self.name).inc()
                attempts = self._failures[event.id] = self._failures.get(event.id, 0) + 1
                if attempts < MAX_ATTEMPTS:
                    later.add(event.id)
                else:
                    await self.park(conn, event, exc)
        return later

    def _outages(self) -> tuple[type[BaseException], ...]:
        return (*_OUTAGES, *self.consumer.transient)

    async def _apply_once(self, conn: asyncpg.Connection, events: Sequence[Event], *, again: bool) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(self.name))
            cursor = await conn.fetchval("SELECT cursor FROM event_consumers WHERE name = $1", self.name)
            if cursor is None:
                await self.register(conn)
                cursor = 0
            fresh_ids = {
                row["event_id"]
                for row in await conn.fetch(
                    "INSERT INTO consumer_processed (consumer, event_id) SELECT $1, unnest($2::bigint[]) "
                    "ON CONFLICT DO NOTHING RETURNING event_id",
                    self.name,
                    [e.id for e in events if again or e.id > cursor],
                )
            }
            wanted = self.consumer.types
            fresh = [e for e in events if e.id in fresh_ids and (wanted is None or e.type in wanted)]
            if fresh:
                await self.consumer.apply(conn, fresh)
        now = clock.now()
        for event in fresh:
            LAG.labels(self.name).observe(max((now - event.time).total_seconds(), 0.0))
        EVENTS.labels(self.name).inc(len(fresh))

    async def park(self, conn: asyncpg.Connection, event: Event, error: BaseException) -> None:
        async with conn.transaction():
            await conn.execute(
                "INSERT INTO consumer_processed (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                self.name,
                event.id,
            )
            await conn.execute(
                "INSERT INTO consumer_parked (consumer, event_id, error) VALUES ($1, $2, $3) "
                "ON CONFLICT (consumer, event_id) DO UPDATE SET error = excluded.error, parked_at = now(), "
                "retried_at = NULL",
                self.name,
                event.id,
                repr(error)[:2000],
            )
        self._failures.pop(event.id, None)
        PARKED.labels(self.name).inc()
        log.error("consumer_event_parked", consumer=self.name, event_id=event.id, type=event.type, error=repr(error))

    async def observe(self, conn: asyncpg.Connection) -> None:
        """Refresh the gauges: events parked, stream entries this group has not yet finished."""
        PARKED.labels(self.name).set(
            await conn.fetchval(
                "SELECT count(*) FROM consumer_parked WHERE consumer = $1 AND retried_at IS NULL", self.name
            )
        )
        with contextlib.suppress(RedisError, ResponseError):
            for group in await self.redis.xinfo_groups(STREAM):
                if group.get("name") in (self.name, self.name.encode()):
                    behind = (group.get("lag") or 0) + (group.get("pending") or 0)
                    BEHIND.labels(self.name).set(behind)

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Apply everything published so far, from the stream and the outbox table (tests, CLI, replays)."""
        await self.join_group()
        await self.register(conn)
        total = 0
        while applied := await self.step(conn):
            total += applied
        return total + await self.sweep(conn, grace=0)


async def reset(conn: asyncpg.Connection, consumer: Consumer) -> None:
    """Forget what `consumer` built and processed: a replay of the outbox table rebuilds it."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(consumer.name))
        await consumer.reset(conn)
        await conn.execute("DELETE FROM consumer_processed WHERE consumer = $1", consumer.name)
        await conn.execute("DELETE FROM consumer_parked WHERE consumer = $1", consumer.name)
        await conn.execute(
            "INSERT INTO event_consumers (name, cursor) VALUES ($1, 0) "
            "ON CONFLICT (name) DO UPDATE SET cursor = 0, updated_at = now()",
            consumer.name,
        )


async def replay(runner: Runner, conn: asyncpg.Connection) -> int:
    """Rebuild a consumer's effects from the outbox table: reset it, then apply every published event."""
    await reset(conn, runner.consumer)
    return await runner.sweep(conn, grace=0)


async def retry_parked(runner: Runner, conn: asyncpg.Connection, event_ids: Sequence[int] | None = None) -> int:
    """Apply parked events again (after the consumer's fix); those that fail again are parked again."""
    rows = await conn.fetch(
        f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events WHERE id IN ("  # noqa: S608
        "SELECT event_id FROM consumer_parked WHERE consumer = $1 AND retried_at IS NULL "
        "AND ($2::bigint[] IS NULL OR event_id = ANY($2))) ORDER BY id",
        runner.name,
        list(event_ids) if event_ids is not None else None,
    )
    if not rows:
        return 0
    ids = [row["id"] for row in rows]
    async with conn.transaction():
        await conn.execute(
            "UPDATE consumer_parked SET retried_at = now() WHERE consumer = $1 AND event_id = ANY($2)", runner.name, ids
        )
        await conn.execute(
            "DELETE FROM consumer_processed WHERE consumer = $1 AND event_id = ANY($2)", runner.name, ids
        )
    runner._failures.update(dict.fromkeys(ids, MAX_ATTEMPTS - 1))  # one more failure parks it again
    for row in rows:
        await runner.apply(conn, [Event.of(outbox.envelope_of(row))], again=True)
    return len(rows)
