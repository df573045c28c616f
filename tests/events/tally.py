"""What the consumer tests share: a consumer that tallies the events it applies in a scratch table (no
unique key, so a second application shows as a second row), events emitted through the outbox and
published by the app's own relay, and a polling helper with a deadline."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from core import outbox
from core.consumers import Event, Runner

SCRATCH_TABLE = """
CREATE TABLE IF NOT EXISTS consumer_test_effects (
    consumer text NOT NULL,
    event_id bigint NOT NULL,
    type text NOT NULL
)"""


class Outage(Exception):
    """The tally's own broker is away: a transient error (retried, never parked)."""


@dataclass
class Tally:
    """A test consumer: one row per event applied; raises on the events in `poison`, and `Outage`
    while `away`."""

    name: str = "tally"
    types: frozenset[str] | None = None
    poison: set[int] = field(default_factory=set)
    away: bool = False
    transient: tuple[type[BaseException], ...] = (Outage,)
    batches: list[list[int]] = field(default_factory=list)

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        if self.away:
            raise Outage("the tally's broker is away")
        for event in events:
            if event.id in self.poison:
                raise ValueError(f"cannot digest event {event.id}")
        await conn.executemany(
            "INSERT INTO consumer_test_effects (consumer, event_id, type) VALUES ($1, $2, $3)",
            [(self.name, event.id, event.type) for event in events],
        )
        self.batches.append([event.id for event in events])

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute("DELETE FROM consumer_test_effects WHERE consumer = $1", self.name)


async def applied(conn: asyncpg.Connection, consumer: str = "tally") -> Counter[int]:
    """How many times the consumer applied each event."""
    rows = await conn.fetch("SELECT event_id FROM consumer_test_effects WHERE consumer = $1", consumer)
    return Counter(row["event_id"] for row in rows)


def dsn(rt: Any) -> str:
    return outbox.asyncpg_dsn(rt.database.url)


def runner(rt: Any, consumer: Any, **options: Any) -> Runner:
    return Runner(consumer, dsn(rt), rt.redis, **options)


async def emit(rt: Any, count: int, *, type_: str = "player.status_changed") -> list[int]:
    """`count` events, each committed in its own transaction; their outbox ids."""
    subjects = []
    for _ in range(count):
        player = uuid.uuid4()
        subject = f"player:{player}"
        data: dict[str, Any] = {"player_id": str(player), "status": "active"}
        if type_ == "player.registered":
            data = {"player_id": str(player), "currency": "EUR", "jurisdiction": "MT"}
        async with rt.database.transaction() as db:
            await outbox.emit(db, type_, subject, data)
        subjects.append(subject)
    conn = await asyncpg.connect(dsn(rt))
    try:
        rows = await conn.fetch("SELECT id FROM outbox_events WHERE key = ANY($1) ORDER BY id", subjects)
    finally:
        await conn.close()
    return [row["id"] for row in rows]


async def until(check: Callable[[], Awaitable[object]], what: str, seconds: float = 30) -> None:
    """Wait until `check()` is truthy; fail naming `what` after `seconds`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not await check():
        assert loop.time() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.05)


async def all_published(conn: asyncpg.Connection, ids: Sequence[int]) -> None:
    """Wait until the app's relay has put these events in the stream."""

    async def done() -> bool:
        return not await conn.fetchval(
            "SELECT count(*) FROM outbox_events WHERE id = ANY($1) AND published_at IS NULL", list(ids)
        )

    await until(done, "the relay to publish the events")
