"""Consumers of the event stream, with exactly-once effects.

A consumer is a module that follows from events (report projections, the NATS sink, later
tournaments, jackpots, risk, affiliates, CRM). It reads the stream `croupier:events` in its own Redis
consumer group (XREADGROUP; XAUTOCLAIM takes over the pending events of a crashed member) and applies
each batch in one PostgreSQL transaction that also records the ids of the events it applied
(`consumer_processed`). A redelivered event finds its id there and changes nothing; the batch's XACK
comes after the commit, so a crash in between only causes a redelivery. One batch of a consumer runs
at a time across every replica (a PostgreSQL advisory lock per consumer), so two members never apply
the same event at once.
Events of a type a consumer does not apply cost it nothing but their reading: no transaction, no row in
`consumer_processed`, never swept; settled, they do not hold its cursor back (bench/README.md § 1, perf15).

The stream is the fast path, the outbox table the truth: Redis may lose the stream (a restart of a
Redis that keeps nothing on disk, a trim past a slow consumer). A sweep reads the outbox table for
published events the consumer has not processed and applies them the same way; a rebuild (`replay`)
is the same sweep from the start after the consumer forgot what it built. Events arrive in id order
within a batch, but a redelivery or the sweep can bring an older event after a newer one: a consumer's
effects must not depend on the order of events (a projection sums, a sink's readers sort by id).

Each consumer keeps a `cursor`: every event at or below it is processed, so its rows in
`consumer_processed` can go. Outbox ids come from a sequence, so a transaction can take an id and
commit after one that took a later id; the cursor therefore only passes an event published
`SETTLE_SECONDS` ago (every id below it was taken before, by transactions that have ended since),
and never an event it has not seen.

A sink (`Sink`: the NATS JetStream publisher) has effects outside the database, which cannot commit
with the processed ids. It writes the ids of the batch it is about to publish (`sink_inflight`) and
commits, publishes, then records them processed and clears the row in one transaction. A batch that
finds such a row left behind (a crash or an outage after publishing) first asks the broker which of
those events it holds and records those as processed, so a redelivery never publishes them again,
however long after the broker's own duplicate window it comes.

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
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, NamedTuple, Protocol, runtime_checkable

import asyncpg
from prometheus_client import Counter, Gauge, Histogram
from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from core import outbox
from core.clock import clock
from core.logging import get_logger

log = get_logger(__name__)

STREAM = outbox.STREAM
BATCH = 500
MAX_ATTEMPTS = 3
CLAIM_IDLE_MS = 30_000  # a member silent this long has crashed: its pending events are taken over
SWEEP_SECONDS = 5.0  # a sweep of the events published since the last one
FULL_SWEEP_SECONDS = 60.0  # a sweep of every event above the cursor (those that committed late, too)
SWEEP_GRACE_SECONDS = 30  # the stream normally delivers within milliseconds; the sweep is for what it lost
SETTLE_SECONDS = 600  # no outbox transaction stays open longer (the database's idle and statement timeouts)
RETRY_SECONDS = 2.0  # back-off after an outage
# Each statement planned for the tables as they are now: `consumer_processed` grows by thousands of rows
# a second and shrinks as the cursor passes, and a generic plan of asyncpg's prepared statements, fixed
# while it was small, kept a sequential scan (47 ms a batch at 30,000 rows, a sink of 5,000 events/s
# spent most of its time there) until the next ANALYZE, which may be far off (or off, as in CI).
PLANNING = {"plan_cache_mode": "force_custom_plan"}

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
    """An event as a consumer gets it. `text` is its envelope's JSON as the relay wrote it: a sink hands it
    on as it is, and what only the envelope holds (brand, schema version, data) is parsed from it on first
    use, so an event that merely passes through is never parsed (the stream entry carries the rest)."""

    id: int
    type: str
    subject: str
    time: datetime
    text: str = field(repr=False, compare=False)

    @classmethod
    def parse(cls, text: str) -> Event:
        envelope = json.loads(text)
        return cls(
            id=int(envelope["id"]),
            type=envelope["type"],
            subject=envelope["subject"],
            time=datetime.fromisoformat(envelope["time"]),
            text=text,
        )

    @classmethod
    def of(cls, envelope: dict[str, Any]) -> Event:
        return cls.parse(json.dumps(envelope))

    @classmethod
    def of_row(cls, row: Any) -> Event:
        """The event of an `outbox_events` row (a sweep, a retry), as the relay publishes it."""
        return cls(
            id=row["id"], type=row["topic"], subject=row["key"], time=row["created_at"], text=outbox.envelope_text(row)
        )

    @cached_property
    def _envelope(self) -> dict[str, Any]:
        envelope: dict[str, Any] = json.loads(self.text)
        return envelope

    @property
    def brand(self) -> str | None:
        brand: str | None = self._envelope.get("brand")
        return brand

    @property
    def schema_version(self) -> int:
        return int(self._envelope.get("schemaVersion", 0))

    @property
    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = self._envelope.get("data") or {}
        return data

    def envelope(self) -> dict[str, Any]:
        return dict(self._envelope)


class Consumer(Protocol):
    name: ClassVar[str]
    types: ClassVar[frozenset[str] | None]  # the types it applies (None: all); others are skipped, not recorded
    transient: ClassVar[tuple[type[BaseException], ...]]  # its outages: retried, never parked

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        """Apply the events' effects in the open transaction on `conn` (raise to refuse the batch)."""

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Forget everything built so far (a rebuild follows), in the open transaction on `conn`."""


@runtime_checkable
class Sink(Protocol):
    """A consumer whose effect leaves the database: it hands each event to a broker."""

    name: ClassVar[str]
    types: ClassVar[frozenset[str] | None]
    transient: ClassVar[tuple[type[BaseException], ...]]

    async def publish(self, events: Sequence[Event]) -> None:
        """Hand the events to the broker and wait until it acknowledged every one (raise otherwise)."""

    async def delivered(self, event_ids: Collection[int], since: datetime) -> set[int]:
        """Which of these events the broker holds, looking at what it received from `since` on."""

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Before a replay republishes everything (a broker cannot forget what it received)."""

    async def close(self) -> None:
        """Let go of the broker connection (the runner stops or starts over)."""


AnyConsumer = Consumer | Sink


class ReplayRefused(Exception):
    """Raised by a consumer's `reset` when a replay cannot rebuild what it did (the message says why): the
    replay then forgets nothing and applies nothing."""


def _lock_key(name: str) -> int:
    return 0x0C20_1000_0000 + zlib.crc32(name.encode())


# Outages of the database (a lost connection, a deadlock or serialisation failure, a shutdown) and of Redis.
_OUTAGES: tuple[type[BaseException], ...] = (
    OSError,
    asyncio.TimeoutError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.TransactionRollbackError,
    asyncpg.exceptions.InsufficientResourcesError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.CrashShutdownError,
    asyncpg.exceptions.CannotConnectNowError,
    RedisError,
)
_RECORD = "INSERT INTO consumer_processed (consumer, event_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING"
_SWEEP = f"""
SELECT {outbox.ROW_COLUMNS} FROM outbox_events o
WHERE o.id > $2 AND ($3 = 0 OR o.published_at <= now() - make_interval(secs => $3))
  AND ($5::text[] IS NULL OR o.topic = ANY($5::text[]))
  AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = $1 AND p.event_id = o.id)
ORDER BY o.id LIMIT $4"""  # noqa: S608  (column names only)
# How far a sweep from $1 can look: up to the first event not yet published `grace` seconds ago.
_SWEEP_MARK = """
SELECT coalesce(
    (SELECT min(id) - 1 FROM outbox_events WHERE id > $1 AND $2 > 0
        AND (published_at IS NULL OR published_at > now() - make_interval(secs => $2))),
    (SELECT max(id) FROM outbox_events))"""
# The cursor moves to the last event below the first one that blocks it (unpublished, published less
# than `settle` seconds ago, or not processed): that event is processed and settled, so every id below
# it was taken by a transaction that has ended. Not to the blocker's id minus one: an id between the
# last visible event and the blocker may belong to a transaction that has not committed yet. Both are
# index scans in id order that stop at their first row (the cursor trails by about `settle` seconds).
# An event of a type the consumer does not apply ($4: its types, NULL for all) is never recorded: settled,
# it needs nothing more; unsettled, it blocks like any other (an id below it may be a late transaction's).
_BLOCKER = """
SELECT o.id FROM outbox_events o
WHERE o.id > $2 AND (o.published_at IS NULL OR o.published_at > now() - make_interval(secs => $3)
    OR (($4::text[] IS NULL OR o.topic = ANY($4::text[]))
        AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = $1 AND p.event_id = o.id)))
ORDER BY o.id LIMIT 1"""
_LAST_BELOW = "SELECT id FROM outbox_events WHERE id > $1 AND id < $2 ORDER BY id DESC LIMIT 1"
_LAST = "SELECT id FROM outbox_events WHERE id > $1 ORDER BY id DESC LIMIT 1"


def _raise_if_cancelled() -> None:
    """Re-raise a cancellation that was swallowed: redis-py (8.2, on Python 3.11) at times returns from a
    blocking XREADGROUP normally although the task was cancelled meanwhile, and a runner that carried on
    would never stop (the server's shutdown would wait for it forever)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def describe(error: BaseException) -> str:
    """What a parked event's row and log say of its error: the repr, and the message when the repr leaves
    it out (nats-py's JetStream errors: `BadRequestError()`, their code and description only in str())."""
    text, message = repr(error), str(error)
    return text if not message or message in text else f"{text}: {message}"


def _field(fields: dict[Any, Any], name: str) -> Any:
    """A stream entry's field, whether the Redis client decodes responses (the platform's does) or not."""
    value = fields.get(name)
    if value is None:
        value = fields.get(name.encode())
    return value.decode() if isinstance(value, bytes) else value


@dataclass
class Runner:
    """Runs one consumer in this process: a member of its consumer group."""

    consumer: AnyConsumer
    dsn: str
    redis: Redis
    member: str = field(default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}")
    batch: int = BATCH
    sweep_every: float = SWEEP_SECONDS
    full_sweep_every: float = FULL_SWEEP_SECONDS
    sweep_grace: float = SWEEP_GRACE_SECONDS
    settle: float = SETTLE_SECONDS
    claim_idle_ms: int = CLAIM_IDLE_MS
    retry_seconds: float = RETRY_SECONDS
    _failures: dict[int, int] = field(default_factory=dict)
    _resume: bool = True  # read this member's own pending entries first (after a start or an outage)
    _swept: int = 0  # every event up to this id, visible at the last sweep, was checked by it

    def __post_init__(self) -> None:
        for metric in (EVENTS, ERRORS, PARKED, BEHIND, LAG):  # in /metrics from the start, at zero
            metric.labels(self.name)

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
                _raise_if_cancelled()
                ERRORS.labels(self.name).inc()
                log.warning("consumer_restarting", consumer=self.name, error=repr(exc))
                await asyncio.sleep(self.retry_seconds)

    async def _serve(self) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, server_settings=PLANNING)
        self._resume = True
        try:
            await self.join_group()
            await self.register(conn)
            last_sweep: float | None = None
            last_full: float | None = None
            loop = asyncio.get_running_loop()
            while True:
                _raise_if_cancelled()
                if last_sweep is None or loop.time() - last_sweep >= self.sweep_every:
                    full = last_full is None or loop.time() - last_full >= self.full_sweep_every
                    await self.sweep(conn, full=full)
                    await self.observe(conn)
                    last_sweep = loop.time()
                    last_full = last_sweep if full else last_full
                await self.step(conn, block_ms=max(1, min(1000, int(self.sweep_every * 1000))))
        finally:
            if isinstance(self.consumer, Sink):
                with contextlib.suppress(Exception):
                    await self.consumer.close()
            with contextlib.suppress(Exception):
                await conn.close()

    async def join_group(self) -> None:
        with contextlib.suppress(ResponseError):  # BUSYGROUP: it exists
            await self.redis.xgroup_create(STREAM, self.name, id="0", mkstream=True)

    async def register(self, conn: asyncpg.Connection) -> None:
        await conn.execute("INSERT INTO event_consumers (name) VALUES ($1) ON CONFLICT DO NOTHING", self.name)

    async def step(self, conn: asyncpg.Connection, *, block_ms: int | None = None) -> int:
        """Apply one batch from the stream: after a start or an outage this member's own pending entries
        first, then a crashed member's, then new ones. Returns how many stream entries it handled."""
        messages: list[Any] = []
        if self._resume:
            own: Any = await self.redis.xreadgroup(self.name, self.member, {STREAM: "0"}, count=self.batch)
            messages = [m for _, entries in own or () for m in entries if m and m[1]]
            self._resume = bool(messages)
        if not messages:
            claimed = await self.redis.xautoclaim(
                STREAM, self.name, self.member, self.claim_idle_ms, "0-0", count=self.batch
            )
            messages = [m for m in claimed[1] if m and m[1]]
        if not messages:
            read: Any = await self.redis.xreadgroup(
                self.name, self.member, {STREAM: ">"}, count=self.batch, block=block_ms
            )
            messages = [m for _, entries in read or () for m in entries]
        if not messages:
            return 0
        events: dict[Any, Event] = {}
        for message_id, fields in messages:
            if (event := self._decode(message_id, fields)) is not None:
                events[message_id] = event
        later = await self.apply(conn, list(events.values()))
        done = [
            message_id for message_id, _ in messages if message_id not in events or events[message_id].id not in later
        ]
        if done:  # the others stay pending: redelivered (XAUTOCLAIM) until applied or parked
            await self.redis.xack(STREAM, self.name, *done)
        return len(messages)

    def _decode(self, message_id: Any, fields: dict[Any, Any]) -> Event | None:
        """The entry's event; None for an entry that holds none (acknowledged and skipped: if its event
        exists, the sweep finds it in the outbox table). The relay's entries name the event's id, type,
        subject and time beside its envelope, which is then left unparsed (older ones: parsed)."""
        try:
            text, time = _field(fields, "event"), _field(fields, "time")
            if time is None or not isinstance(text, str):
                return Event.parse(text)
            return Event(
                int(_field(fields, "id")),
                _field(fields, "type"),
                _field(fields, "subject"),
                datetime.fromisoformat(time),
                text,
            )
        except (TypeError, ValueError, KeyError) as exc:
            log.warning("consumer_entry_undecodable", consumer=self.name, entry=str(message_id), error=repr(exc))
            return None

    async def sweep(
        self, conn: asyncpg.Connection, *, grace: float | None = None, limit: int | None = None, full: bool = True
    ) -> int:
        """Apply published events the stream did not deliver (or not yet: `grace` seconds after their
        publication); then move the cursor. Returns how many events it handled.

        A full sweep reads every event above the cursor (about `settle` seconds of traffic); the others
        only what was published since the last sweep: below that, an event can only be new if its
        transaction committed late, and the stream brings that one (the next full sweep too)."""
        grace = self.sweep_grace if grace is None else grace
        cursor = await conn.fetchval("SELECT cursor FROM event_consumers WHERE name = $1", self.name) or 0
        start = cursor if full else max(cursor, self._swept)
        mark = await conn.fetchval(_SWEEP_MARK, start, grace)  # before the pass, so the pass sees all below
        position, handled = start, 0
        while True:
            rows = await conn.fetch(_SWEEP, self.name, position, grace, self.batch, self._types)
            if not rows:
                self._swept = max(self._swept, mark or 0)
                break
            await self.apply(conn, [Event.of_row(row) for row in rows])
            handled += len(rows)
            position = rows[-1]["id"]
            if limit is not None and handled >= limit:
                break
        await self.advance(conn)
        return handled

    async def advance(self, conn: asyncpg.Connection) -> int:
        """Move the cursor past every settled, processed event, and drop their processed rows."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(self.name))
            await self.register(conn)
            cursor: int = await conn.fetchval(
                "SELECT cursor FROM event_consumers WHERE name = $1 FOR UPDATE", self.name
            )
            blocker = await conn.fetchval(_BLOCKER, self.name, cursor, self.settle, self._types)
            settled = await (
                conn.fetchval(_LAST, cursor) if blocker is None else conn.fetchval(_LAST_BELOW, cursor, blocker)
            )
            if settled is not None:
                cursor = settled
                await conn.execute(
                    "UPDATE event_consumers SET cursor = $2, updated_at = now() WHERE name = $1", self.name, cursor
                )
                await conn.execute(
                    "DELETE FROM consumer_processed WHERE consumer = $1 AND event_id <= $2", self.name, cursor
                )
        self._failures = {event_id: n for event_id, n in self._failures.items() if event_id > cursor}
        return cursor

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event], *, again: bool = False) -> set[int]:
        """Apply events once each: the batch in one transaction, or, if it fails, each event alone (so
        one poison event is found without holding up the rest). Returns the ids of events that failed
        and are to be tried again later; one that failed `MAX_ATTEMPTS` times is parked instead.

        `again`: the events are parked ones being retried (`retry_parked`): applied if still parked,
        parked again (with the new error) if they fail."""
        unique = list({e.id: e for e in events}.values())
        if not isinstance(self.consumer, Sink):  # the others have no effect: no transaction, nothing recorded
            unique = self._wanted(unique)
        if not unique:
            return set()
        try:
            await self._apply_once(conn, unique, again=again)
            return set()
        except self._outages():
            raise
        except Exception as exc:  # noqa: BLE001  (the consumer's bug or a bad event: find which)
            ERRORS.labels(self.name).inc()
            if len(unique) == 1:
                return await self._failed(conn, unique[0], exc, again=again)
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
                later |= await self._failed(conn, event, exc, again=again)
        return later

    async def _failed(self, conn: asyncpg.Connection, event: Event, error: Exception, *, again: bool) -> set[int]:
        """One more failure of an event applied alone: to be tried again later, or parked."""
        attempts = self._failures[event.id] = self._failures.get(event.id, 0) + 1
        if attempts < MAX_ATTEMPTS and not again:
            return {event.id}
        await self.park(conn, event, error)
        return set()

    def _outages(self) -> tuple[type[BaseException], ...]:
        return (*_OUTAGES, *self.consumer.transient)

    async def _apply_once(self, conn: asyncpg.Connection, events: Sequence[Event], *, again: bool) -> None:
        if isinstance(self.consumer, Sink):
            applied = await self._publish_once(conn, self.consumer, events, again=again)
        else:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(self.name))
                fresh = await self._fresh(conn, events, again=again)
                applied = self._wanted(fresh)
                if applied:
                    await self.consumer.apply(conn, applied)
                await self._record(conn, fresh, again=again)
            # A consumer may hand on what its batch changed once it is committed (the tournament boards).
            after_commit = getattr(self.consumer, "after_commit", None)
            if applied and after_commit is not None:
                await after_commit()
        now = clock.now()
        for event in applied:
            LAG.labels(self.name).observe(max((now - event.time).total_seconds(), 0.0))
        EVENTS.labels(self.name).inc(len(applied))

    async def _publish_once(
        self, conn: asyncpg.Connection, sink: Sink, events: Sequence[Event], *, again: bool
    ) -> list[Event]:
        """A sink's batch: what it is about to publish written down and committed, published, then
        recorded as processed (and the note cleared) in one transaction. The consumer's lock is held
        for the whole batch (at session level: the broker is not in the transaction)."""
        async with self._holding_lock(conn):
            async with conn.transaction():
                await self._settle_inflight(conn, sink)
                fresh = await self._fresh(conn, events, again=again)
                publishing = self._wanted(fresh)
                if publishing:
                    await conn.execute(
                        "INSERT INTO sink_inflight (consumer, event_ids, since) VALUES ($1, $2, now()) "
                        "ON CONFLICT (consumer) DO UPDATE SET event_ids = excluded.event_ids, since = excluded.since",
                        self.name,
                        [e.id for e in publishing],
                    )
            if publishing:
                await sink.publish(publishing)
            async with conn.transaction():
                await self._record(conn, fresh, again=again)
                await conn.execute("DELETE FROM sink_inflight WHERE consumer = $1", self.name)
        return publishing

    @contextlib.asynccontextmanager
    async def _holding_lock(self, conn: asyncpg.Connection) -> AsyncIterator[None]:
        await conn.execute("SELECT pg_advisory_lock($1)", _lock_key(self.name))
        try:
            yield
        finally:
            try:
                await conn.execute("SELECT pg_advisory_unlock($1)", _lock_key(self.name))
            except Exception:  # noqa: BLE001  (the connection is unusable, say cancelled mid-query)
                conn.terminate()  # ending the session releases its lock; whatever was raised goes on

    async def _settle_inflight(self, conn: asyncpg.Connection, sink: Sink) -> None:
        """A batch left unrecorded (a crash or an outage after publishing, before the commit): those of
        its events the broker holds are processed; the others will come again."""
        row = await conn.fetchrow("SELECT event_ids, since FROM sink_inflight WHERE consumer = $1", self.name)
        if row is None:
            return
        held = await sink.delivered(set(row["event_ids"]), row["since"])
        await conn.execute(_RECORD, self.name, sorted(held))
        await conn.execute("DELETE FROM sink_inflight WHERE consumer = $1", self.name)
        log.info("sink_inflight_settled", consumer=self.name, events=len(row["event_ids"]), delivered=len(held))

    async def _fresh(self, conn: asyncpg.Connection, events: Sequence[Event], *, again: bool) -> list[Event]:
        """The events not processed yet (the consumer's lock held): above the cursor and not recorded;
        with `again`, those still parked."""
        ids = [e.id for e in events]
        if again:
            rows = await conn.fetch(
                "SELECT event_id FROM consumer_parked WHERE consumer = $1 AND event_id = ANY($2) "
                "AND retried_at IS NULL",
                self.name,
                ids,
            )
            still_parked = {row["event_id"] for row in rows}
            return [e for e in events if e.id in still_parked]
        cursor = await conn.fetchval("SELECT cursor FROM event_consumers WHERE name = $1", self.name)
        if cursor is None:
            await self.register(conn)
            cursor = 0
        rows = await conn.fetch(
            "SELECT event_id FROM consumer_processed WHERE consumer = $1 AND event_id = ANY($2)", self.name, ids
        )
        done = {row["event_id"] for row in rows}
        return [e for e in events if e.id > cursor and e.id not in done]

    async def _record(self, conn: asyncpg.Connection, events: Sequence[Event], *, again: bool) -> None:
        ids = [e.id for e in events]
        if not ids:
            return
        await conn.execute(_RECORD, self.name, ids)
        if again:
            await conn.execute(
                "UPDATE consumer_parked SET retried_at = now() WHERE consumer = $1 AND event_id = ANY($2)",
                self.name,
                ids,
            )

    @property
    def _types(self) -> list[str] | None:
        """The event types whose ids this consumer records (a sink records every event it was handed)."""
        if isinstance(self.consumer, Sink) or self.consumer.types is None:
            return None
        return sorted(self.consumer.types)

    def _wanted(self, events: Sequence[Event]) -> list[Event]:
        wanted = self.consumer.types
        return [e for e in events if wanted is None or e.type in wanted]

    async def park(self, conn: asyncpg.Connection, event: Event, error: BaseException) -> bool:
        """Set a failing event aside (recorded as processed, so the stream and the cursor go on);
        False if it was applied meanwhile (by another member), so there is nothing to set aside."""
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(self.name))
            still_parked = await conn.fetchval(
                "SELECT retried_at IS NULL FROM consumer_parked WHERE consumer = $1 AND event_id = $2",
                self.name,
                event.id,
            )
            if not still_parked and not await self._fresh(conn, [event], again=False):
                self._failures.pop(event.id, None)
                return False
            await self._record(conn, [event], again=False)
            await conn.execute(
                "INSERT INTO consumer_parked (consumer, event_id, error) VALUES ($1, $2, $3) "
                "ON CONFLICT (consumer, event_id) DO UPDATE SET error = excluded.error, parked_at = now(), "
                "retried_at = NULL",
                self.name,
                event.id,
                describe(error)[:2000],
            )
        self._failures.pop(event.id, None)
        if not still_parked:
            PARKED.labels(self.name).inc()
        log.error(
            "consumer_event_parked", consumer=self.name, event_id=event.id, type=event.type, error=describe(error)
        )
        return True

    async def observe(self, conn: asyncpg.Connection) -> None:
        """Refresh the gauges: events parked, stream entries this group has not yet finished."""
        PARKED.labels(self.name).set(
            await conn.fetchval(
                "SELECT count(*) FROM consumer_parked WHERE consumer = $1 AND retried_at IS NULL", self.name
            )
        )
        with contextlib.suppress(RedisError):
            for group in await self.redis.xinfo_groups(STREAM):
                if _field(group, "name") == self.name:
                    behind = (group.get("lag") or 0) + (group.get("pending") or 0)
                    BEHIND.labels(self.name).set(behind)

    async def drain(self, conn: asyncpg.Connection) -> int:
        """Apply everything published so far, from the stream and the outbox table (tests, CLI, replays)."""
        await self.join_group()
        await self.register(conn)
        self._resume = True
        total = 0
        while handled := await self.step(conn):
            total += handled
        return total + await self.sweep(conn, grace=0)


async def reset(conn: asyncpg.Connection, consumer: AnyConsumer) -> None:
    """Forget what `consumer` built and processed: a replay of the outbox table rebuilds it."""
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(consumer.name))
        await consumer.reset(conn)
        for table in ("consumer_processed", "consumer_parked", "sink_inflight"):
            await conn.execute(f"DELETE FROM {table} WHERE consumer = $1", consumer.name)  # noqa: S608
        await conn.execute(
            "INSERT INTO event_consumers (name, cursor) VALUES ($1, 0) "
            "ON CONFLICT (name) DO UPDATE SET cursor = 0, updated_at = now()",
            consumer.name,
        )


async def replay(runner: Runner, conn: asyncpg.Connection) -> int:
    """Rebuild a consumer's effects from the outbox table: reset it, then apply every published event.
    Raises `ReplayRefused`, with nothing changed, for a consumer whose effects cannot be rebuilt."""
    await reset(conn, runner.consumer)
    applied = await runner.sweep(conn, grace=0)
    # What a consumer keeps outside PostgreSQL (a tournament's Redis board) is made again from what the
    # replay rebuilt, by the consumer's `after_replay` if it has one.
    after_replay = getattr(runner.consumer, "after_replay", None)
    if after_replay is not None:
        await after_replay()
    return applied


class Retried(NamedTuple):
    applied: int
    parked: int  # failed again: still parked, with the new error


async def retry_parked(runner: Runner, conn: asyncpg.Connection, event_ids: Sequence[int] | None = None) -> Retried:
    """Apply parked events again (after the consumer's fix), one at a time; each is un-parked in the
    transaction that applies it, so a crash meanwhile leaves it parked. Those that fail stay parked."""
    rows = await conn.fetch(
        f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events WHERE id IN ("  # noqa: S608
        "SELECT event_id FROM consumer_parked WHERE consumer = $1 AND retried_at IS NULL "
        "AND ($2::bigint[] IS NULL OR event_id = ANY($2))) ORDER BY id",
        runner.name,
        list(event_ids) if event_ids is not None else None,
    )
    for row in rows:
        await runner.apply(conn, [Event.of_row(row)], again=True)
    still = await conn.fetchval(
        "SELECT count(*) FROM consumer_parked WHERE consumer = $1 AND retried_at IS NULL AND event_id = ANY($2)",
        runner.name,
        [row["id"] for row in rows],
    )
    await runner.observe(conn)
    return Retried(applied=len(rows) - still, parked=still)
