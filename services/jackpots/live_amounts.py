"""This process's side of the live jackpots: what makes a tick, and the amounts a tick shows.

What makes a tick: every change of a pot is an outbox event keyed `jackpot:<id>` (a consumer batch's
`jackpot.contributed`, `jackpot.won`, `jackpot.reseeded`, `jackpot.created`), which the relay publishes on
`events:jackpot:<id>` after its commit. While a jackpot has subscribers here, one listener of the process
(however many subscribers) hears those events and tells the ticker (services/jackpots/live.py), whose
Redis gate makes one tick a second across every replica that heard them. So the trigger comes after the
commit by construction, on every path that moves a pot (the consumer, a provider-reported win, a reseed),
with no hook in the engine; a jackpot nobody watches costs nothing.

The amounts: a tick names a jackpot and a sequence number. Every subscriber of this process that receives
it asks for the pots at that number: the first one reads them (one statement), the others wait for that
read. A read that fails is not kept. Snapshots (on subscribing, after an outage of the live feed) are
read on their own.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

from core import events
from core.clock import clock
from core.logging import get_logger
from core.outbox import channel_for
from core.runtime import Runtime
from models.jackpots import JackpotPool
from services.jackpots import live, reads

log = get_logger(__name__)

# The engine's events (core/catalogue/jackpots.py) and the reason a tick gives for them.
REASONS = {
    "jackpot.contributed": live.CONTRIBUTIONS,
    "jackpot.won": live.WIN,
    "jackpot.reseeded": live.RESEED,
    "jackpot.created": live.CONFIGURED,
}


def events_channel(jackpot_id: uuid.UUID) -> str:
    return channel_for(f"jackpot:{jackpot_id}")


@dataclass(frozen=True)
class Pots:
    status: str
    pools: list[JackpotPool]
    at: datetime  # when they were read


class LiveJackpots:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._latest: dict[uuid.UUID, tuple[int, asyncio.Task[Pots | None]]] = {}
        self._watchers: dict[uuid.UUID, tuple[int, asyncio.Task[None]]] = {}
        self.statements = 0  # reads made (tests read it)

    # ---- the amounts ----

    async def now(self, jackpot_id: uuid.UUID) -> Pots | None:
        return await self._read(jackpot_id)

    async def at(self, jackpot_id: uuid.UUID, seq: int) -> Pots | None:
        """The pots as of tick `seq` (or of a later one this process already read)."""
        held = self._latest.get(jackpot_id)
        failed = held is not None and held[1].done() and held[1].exception() is not None
        if held is None or held[0] < seq or failed:
            task = asyncio.get_running_loop().create_task(self._read(jackpot_id), name="jackpot-tick-read")
            self._latest[jackpot_id] = held = (seq, task)
        return await asyncio.shield(held[1])

    async def _read(self, jackpot_id: uuid.UUID) -> Pots | None:
        async with self._rt.database.session() as db:
            found = await reads.pots_now(db, jackpot_id)
        self.statements += 1
        return Pots(status=found[0], pools=found[1], at=clock.now()) if found else None

    # ---- what makes a tick ----

    @contextlib.asynccontextmanager
    async def watching(self, jackpot_id: uuid.UUID) -> AsyncIterator[None]:
        """While a subscriber of this process watches the jackpot: the process listens to its events."""
        count, task = self._watchers.get(jackpot_id, (0, None))
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(self._bridge(jackpot_id), name="jackpot-events")
        self._watchers[jackpot_id] = (count + 1, task)
        try:
            yield
        finally:
            count, task = self._watchers[jackpot_id]
            if count > 1:
                self._watchers[jackpot_id] = (count - 1, task)
            else:
                del self._watchers[jackpot_id]
                self._latest.pop(jackpot_id, None)
                task.cancel()

    def watched(self, jackpot_id: uuid.UUID) -> int:
        """How many subscribers of this process watch the jackpot (tests read it)."""
        return self._watchers.get(jackpot_id, (0, None))[0]

    async def _bridge(self, jackpot_id: uuid.UUID) -> None:
        ticker = live.ticker_of(self._rt.redis)
        async with events.subscribed(self._rt, events_channel(jackpot_id)) as listener:
            while True:
                event = await listener.next(within=60)
                reason = REASONS.get(str((event or {}).get("type")))
                if event is not None and reason is not None:
                    event_id = int(str(event.get("id") or 0)) or None
                    await ticker.changed([jackpot_id], reason, event_id=event_id)


_live: weakref.WeakKeyDictionary[object, LiveJackpots] = weakref.WeakKeyDictionary()


def live_of(rt: Runtime) -> LiveJackpots:
    """The process's live jackpots (one per runtime's database)."""
    found = _live.get(rt.database)
    if found is None:
        found = _live[rt.database] = LiveJackpots(rt)
    return found
