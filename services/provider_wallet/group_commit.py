"""Group commit of the one call: concurrent common-case bets and wins of one process decided in one database
transaction (`wallet_play_batch_v2`, sql/wallet/wallet_play_batch_v2.sql), each caller with its own result.

A call that finds a batch slot free goes at once, alone, as `wallet_play_v2` (an idle process adds no delay, and
a lone call is exactly the one call); calls that arrive while every slot is busy wait for the next free one and
go together, at most `max_calls` a batch (as core/redis_batch.py gathers Redis commands). One transaction for
many calls pays one commit, one WAL flush, one deferred-trigger queue (bench/README.md § 1, fourth session).

Failures, as the one call has them:
- a refusal the one call decides (the game's rules) is that call's own 'refused' row, with its call log only;
  anything it does not decide is that call's own 'fallback' row, nothing written for it; neighbours untouched;
- an error PostgreSQL raised (one call's CW001/CW002, an overflow, a deadlock) rolled the whole batch back:
  each of its calls is then sent alone, in order, so each caller gets what the one call gives it - its answer,
  or its own error;
- anything else (the connection lost, the pool exhausted) fails every caller of that batch with that error,
  which is what each would have met alone.
A caller that leaves (cancelled) while its call waits takes it out of the batch; once sent, its result is
dropped and nobody else's is touched.

A batch held up (a player's cash row locked by a long transaction, say) stops counting against the slots after
`STALL_SECONDS`: the next calls get a slot of their own, so one held row delays only the calls already in its
batch, never every bet of the process (found by review: with both slots waiting on one row, a third player's bet
waited as long as the lock was held).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from core import prepared
from core.prepared import Row, Statement

# wallet_call_v2's fields, in its order (every argument of wallet_play_v2 but the zones and open profiles)
FIELDS = (
    "kind",
    "provider",
    "provider_code",
    "provider_version",
    "endpoint",
    "request",
    "tx",
    "ref",
    "round",
    "round_closed",
    "player",
    "token",
    "game",
    "currency",
    "exponent",
    "amount",
    "request_hash",
    "ok_code",
    "body",
    "refusals",
    "units_mul",
    "units_div",
    "raw",
    "event_version",
    "ids",
    "now",
)
STALL_SECONDS = 0.1  # a batch this long in flight is held up, not working: it no longer holds a slot
PLAY_BATCH = Statement("""
SELECT ordinal, outcome, balance, refusal FROM wallet_play_batch_v2(
    CAST(:calls AS wallet_call_v2[]), CAST(:zones AS jsonb), CAST(:open_profiles AS text[]))""")

Waiting = tuple[Mapping[str, Any], "asyncio.Future[Row | None]"]


class Batcher:
    """One per runtime (its engine's pool); `play` is `prepared.alone(engine, one_call.PLAY, params)`, batched."""

    def __init__(
        self, engine: AsyncEngine, single: Statement, *, batches: int, max_calls: int, window: float = 0.0
    ) -> None:
        self._engine = engine
        self._window = window  # seconds a batch waits for more calls before it goes (0: none, the default)
        self._single = single
        self._slots = batches
        self._max = max_calls
        self._waiting: list[Waiting] = []
        self._running: set[asyncio.Task[None]] = set()
        self._sending_since: dict[asyncio.Task[None], float] = {}  # when each task's batch in flight was sent
        self.sent: deque[int] = deque(maxlen=256)  # the sizes of the last batches sent (tests read them)
        self.retried = 0  # batches rolled back by an error and sent again call by call

    async def play(self, params: Mapping[str, Any]) -> Row | None:
        loop = asyncio.get_running_loop()
        self._running = {task for task in self._running if task.get_loop() is loop and not task.done()}
        self._waiting = [waiting for waiting in self._waiting if waiting[1].get_loop() is loop]
        future: asyncio.Future[Row | None] = loop.create_future()
        self._waiting.append((params, future))
        if self._working() < self._slots:
            task = loop.create_task(self._send_while_asked(), name="wallet-group-commit")
            self._running.add(task)
            task.add_done_callback(self._finished)
        return await future

    def _working(self) -> int:
        """The slots taken: running tasks but those whose batch has been in flight past `STALL_SECONDS`."""
        now = time.monotonic()
        return sum(1 for task in self._running if now - self._sending_since.get(task, now) < STALL_SECONDS)

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        self._sending_since.pop(task, None)

    async def _send_while_asked(self) -> None:
        batch: list[Waiting] = []
        try:
            while self._waiting:
                if self._window and len(self._waiting) < self._max:
                    await asyncio.sleep(self._window)
                batch = [waiting for waiting in self._waiting[: self._max] if not waiting[1].done()]
                del self._waiting[: self._max]
                if not batch:
                    continue
                self.sent.append(len(batch))
                task = asyncio.current_task()
                if task is not None:
                    self._sending_since[task] = time.monotonic()
                try:
                    if len(batch) == 1:  # the one call as it is: its answer or its own error, sent once
                        await self._alone(batch)
                        continue
                    found = await self._together([params for params, _ in batch])
                except asyncpg.PostgresError:  # rolled back whole: each alone, each with its own answer or error
                    self.retried += 1
                    await self._alone(batch)
                    continue
                except Exception as exc:  # noqa: BLE001 - the connection lost, the pool exhausted: as each alone
                    _settle(batch, [exc] * len(batch))
                    continue
                _settle(batch, found)
        except BaseException:  # this task cancelled (wherever it waited): none may be left waiting for it
            left, self._waiting = batch + self._waiting, []
            _settle(left, [ConnectionError("cancelled")] * len(left))
            raise

    async def _together(self, calls: list[Mapping[str, Any]]) -> list[Row | None]:
        first = calls[0]
        rows = await prepared.every_alone(
            self._engine,
            PLAY_BATCH,
            {
                "calls": [tuple(call[name] for name in FIELDS) for call in calls],
                "zones": first["zones"],
                "open_profiles": first["open_profiles"],
            },
        )
        by_place: dict[int, Row] = {row.ordinal: row for row in rows}
        return [by_place.get(place) for place in range(1, len(calls) + 1)]

    async def _alone(self, batch: list[Waiting]) -> None:
        for params, future in batch:
            if future.done():
                continue
            outcome: Row | Exception | None
            try:
                outcome = await prepared.alone(self._engine, self._single, params)
            except Exception as exc:  # noqa: BLE001 - the caller's own error, raised to it
                outcome = exc
            _settle([(params, future)], [outcome])


def _settle(batch: list[Waiting], outcomes: Sequence[Row | Exception | None]) -> None:
    """Each caller its own row or error; a caller that left meanwhile is skipped."""
    for (_, future), outcome in zip(batch, outcomes, strict=True):
        if future.done():
            continue
        if isinstance(outcome, Exception):
            future.set_exception(outcome)
        else:
            future.set_result(outcome)
