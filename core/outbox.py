"""The transactional outbox and its relay.

`emit` writes an event in the caller's database transaction: it exists if and only if the change
it describes committed. Its type must be in the catalogue (core/catalogue), which versions its data.
The relay publishes committed events to Redis, in order, after commit, each in its CloudEvents-style
envelope (`catalogue.envelope`):
- into the stream `croupier:events` (for the consumers, core/consumers.py), exactly once: a
  dedupe key is set in the same Lua call as the XADD, so an event re-published after a crash
  between publishing and marking it published is skipped (and a consumer's own bookkeeping makes
  a repeat harmless anyway);
- onto the pub/sub channel `events:<key>` (live subscriptions on any replica), and onto `events:all`
  (subscribers that watch everything in a scope, such as the staff dashboards, filter it themselves).

One relay publishes at a time across all replicas (a PostgreSQL advisory lock elects it); the
others wait to take over. It wakes on NOTIFY from the insert trigger and polls as a fallback; while it
drains it marks itself awake and writers skip the NOTIFY (sql/outbox/outbox_notify_v2.sql says why).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import catalogue
from core.clock import clock
from core.logging import get_logger

log = get_logger(__name__)

STREAM = "croupier:events"
STREAM_MAXLEN = 1_000_000
DEDUPE_TTL_SECONDS = 7 * 24 * 3600
RELAY_LOCK = 0x0C20_0002
BATCH = 200
ALL_CHANNEL = "events:all"
# The relay's awake mark, read by the outbox's insert trigger (sql/outbox/outbox_notify_v2.sql): until when, in
# ms since the epoch on the database's clock, the relay promises to read the outbox again; 0 while it sleeps.
_AWAKE = "SELECT setval('outbox_relay_awake', (extract(epoch FROM clock_timestamp()) * 1000)::bigint + $1::bigint)"
_ASLEEP = "SELECT setval('outbox_relay_awake', 0)"

# One call publishes a batch, in order. KEYS: the stream, then each event's dedupe key. ARGV: the keys'
# time to live, the stream's length, the channel of every event, the prefix of an event's own channel,
# then five values an event: its id, type, subject, time and envelope.
_PUBLISH = """
local ttl, maxlen, all, prefix = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local published = 0
for i = 2, #KEYS do
  local a = 4 + (i - 2) * 5
  local subject, event = ARGV[a + 3], ARGV[a + 5]
  if redis.call('SET', KEYS[i], '1', 'NX', 'EX', ttl) then
    redis.call('XADD', KEYS[1], 'MAXLEN', '~', maxlen, '*', 'id', ARGV[a + 1], 'type', ARGV[a + 2],
               'subject', subject, 'time', ARGV[a + 4], 'event', event)
    redis.call('PUBLISH', prefix .. subject, event)
    redis.call('PUBLISH', all, event)
    published = published + 1
  end
end
return published
"""


def channel_for(key: str) -> str:
    return f"events:{key}"


@dataclass(frozen=True)
class Event:
    """One event ready to write: its type checked against the catalogue, its data as JSON."""

    topic: str
    key: str
    brand_id: uuid.UUID | None
    version: int
    payload: str
    at: datetime


def event(
    type_: str, subject: str, data: dict[str, Any], *, brand_id: uuid.UUID | None = None, at: datetime | None = None
) -> Event:
    return Event(
        type_, subject, brand_id, catalogue.check_data(type_, data).version, json.dumps(data), at or clock.now()
    )


def insert_events(condition: str = "true") -> str:
    """The statement that writes events (`events_params`), in their order, where `condition` holds: on its
    own, or as a step of a larger statement (the ledger writes its transaction's events in its own)."""
    return f"""
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
SELECT e.topic, e.key, e.brand_id, e.version, e.payload, e.at
FROM unnest(CAST(:outbox_topics AS varchar[]), CAST(:outbox_keys AS varchar[]), CAST(:outbox_brands AS uuid[]),
            CAST(:outbox_versions AS smallint[]), CAST(:outbox_payloads AS jsonb[]),
            CAST(:outbox_ats AS timestamptz[])) WITH ORDINALITY AS e(topic, key, brand_id, version, payload, at, n)
WHERE {condition}
ORDER BY e.n"""  # noqa: S608  (the caller's constant condition, no input)


def events_params(events: Sequence[Event]) -> dict[str, Any]:
    return {
        "outbox_topics": [e.topic for e in events],
        "outbox_keys": [e.key for e in events],
        "outbox_brands": [e.brand_id for e in events],
        "outbox_versions": [e.version for e in events],
        "outbox_payloads": [e.payload for e in events],
        "outbox_ats": [e.at for e in events],
    }


_EMIT = text(insert_events())
# The same, for a consumer's asyncpg connection (positional parameters in `events_params` order).
INSERT_EVENTS_ASYNCPG = """
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
SELECT * FROM unnest($1::varchar[], $2::varchar[], $3::uuid[], $4::smallint[], $5::jsonb[], $6::timestamptz[])"""


async def emit(
    db: AsyncSession,
    type_: str,
    subject: str,
    data: dict[str, Any],
    *,
    brand_id: uuid.UUID | None = None,
    at: datetime | None = None,
) -> None:
    """Record an event of a catalogued type in the current database transaction (one prebuilt statement:
    it is on every bet's path)."""
    await db.execute(_EMIT, events_params([event(type_, subject, data, brand_id=brand_id, at=at)]))


async def emit_events(db: AsyncSession, events: Sequence[Event]) -> None:
    """Record events built (and checked) with `event`, in their order, in the current database transaction."""
    if events:
        await db.execute(_EMIT, events_params(events))


def envelope_of(row: Any) -> dict[str, Any]:
    """The envelope of an `outbox_events` row (asyncpg record or mapping)."""
    payload = row["payload"]
    return _envelope(row, json.loads(payload) if isinstance(payload, str) else payload)


def envelope_text(row: Any) -> str:
    """`json.dumps(envelope_of(row))`, in effect, without parsing the payload and dumping it again: asyncpg
    hands a jsonb column over as PostgreSQL's text of it, which is JSON, and it goes into the envelope as
    it is (the same data; PostgreSQL spells some of it differently: numbers as stored, other than ASCII
    characters unescaped)."""
    payload = row["payload"]
    if not isinstance(payload, str):
        payload = json.dumps(payload)
    head = json.dumps(_envelope(row, None))
    if not head.endswith(_NO_DATA):  # `data` is no longer the envelope's last member
        return json.dumps(envelope_of(row))
    return f"{head[: -len(_NO_DATA)]}{_DATA}{payload}}}"


_DATA = '"data": '
_NO_DATA = _DATA + "null}"


def _envelope(row: Any, data: Any) -> dict[str, Any]:
    return catalogue.envelope(
        event_id=row["id"],
        type_=row["topic"],
        time=row["created_at"],
        subject=row["key"],
        brand=str(row["brand_id"]) if row["brand_id"] is not None else None,
        schema_version=row["schema_version"],
        data=data,
    )


ROW_COLUMNS = "id, topic, key, brand_id, schema_version, payload, created_at"  # what `envelope_of` reads
_UNPUBLISHED = f"SELECT {ROW_COLUMNS} FROM outbox_events WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE"  # noqa: S608


def asyncpg_dsn(sqlalchemy_url: str) -> str:
    return sqlalchemy_url.replace("postgresql+asyncpg://", "postgresql://", 1)


class Relay:
    def __init__(self, database_url: str, redis: Redis, *, poll_seconds: float = 1.0) -> None:
        self.dsn = asyncpg_dsn(database_url)
        self.redis = redis
        self.poll_seconds = poll_seconds
        self._wake = asyncio.Event()
        self._publish = redis.register_script(_PUBLISH)
        self.published = 0

    async def run(self) -> None:
        """Forever: become the leader, then publish; on any failure, back off and start over."""
        while True:
            try:
                await self._lead()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001  (a database or Redis outage: retry)
                log.warning("outbox_relay_restarting", error=repr(exc))
                await asyncio.sleep(min(self.poll_seconds * 2, 5))

    async def _lead(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn)
        try:
            while not await conn.fetchval("SELECT pg_try_advisory_lock($1)", RELAY_LOCK):  # noqa: ASYNC110
                await asyncio.sleep(self.poll_seconds)  # another replica relays; stand by until it stops
            await conn.add_listener("croupier_outbox", lambda *_: self._wake.set())
            while True:
                # Awake: writers skip their NOTIFY (sql/outbox/outbox_notify_v2.sql: a notifying commit
                # waits for every other's), so the mark is kept ahead of the drain, however long it takes.
                marked = await self._mark_awake(conn)
                while await self.publish_batch(conn):
                    if time.monotonic() - marked > self.poll_seconds:
                        marked = await self._mark_awake(conn)
                self._wake.clear()
                await conn.execute(_ASLEEP)
                if await self.publish_batch(conn):  # committed while writers still saw the mark: awake again
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
        finally:
            with contextlib.suppress(Exception):
                await conn.close()

    async def _mark_awake(self, conn: asyncpg.Connection) -> float:
        """Promise the writers a read of the outbox within twice the poll interval; returns when (monotonic)."""
        await conn.execute(_AWAKE, int(2000 * self.poll_seconds))
        return time.monotonic()

    async def publish_batch(self, conn: asyncpg.Connection) -> int:
        """Publish the oldest unpublished events; returns how many were handled.

        One Redis round trip (one Lua call for the batch) and one UPDATE per batch. A crash
        or an outage between the two leaves the batch unmarked: the next attempt publishes it again
        and each event's dedupe key turns the repeat into a no-op.
        """
        # The batch's rows stay locked until the stream holds them and they are marked: whoever deletes
        # outbox rows meanwhile (the tests' reset between tests) waits, and never finds a deleted event
        # turning up in the stream after it emptied that.
        async with conn.transaction():
            return await self._publish_locked(conn)

    async def _publish_locked(self, conn: asyncpg.Connection) -> int:
        rows = await conn.fetch(_UNPUBLISHED, BATCH)
        if not rows:
            return 0
        keys: list[str] = [STREAM]
        args: list[str | int] = [DEDUPE_TTL_SECONDS, STREAM_MAXLEN, ALL_CHANNEL, channel_for("")]
        for row in rows:
            keys.append(f"outbox:published:{row['id']}")
            args += (row["id"], row["topic"], row["key"], row["created_at"].isoformat(), envelope_text(row))
        try:
            await self._publish(keys=keys, args=args)
        except (RedisError, OSError):
            log.warning("outbox_publish_paused", event_id=rows[0]["id"], events=len(rows))
            raise
        await conn.execute(
            "UPDATE outbox_events SET published_at = now() WHERE id = ANY($1::bigint[])", [row["id"] for row in rows]
        )
        self.published += len(rows)
        return len(rows)
