"""Redis commands of concurrent callers sent together: one pipeline per round trip.

Every authenticated request asks Redis two small things (is the session revoked? the rate-limit hit),
and every live subscription asks both when it opens. One command each costs a connection taken from
the pool and given back, a write and a wake-up per command: when thousands of subscribers connect at
once that was a tenth of the server's CPU (bench/README.md § 3). Here a command that finds none in
flight goes out at once, alone (an idle process adds no delay); commands asked for while a pipeline
is in flight wait for it and then go out together, in one pipeline (as services/live_balances.py
gathers balance reads). Commands asked for in the same turn of the event loop go together from the
start: a caller that wants its revocation check and its rate-limit hit in one round trip gathers them.

Each caller gets its own reply, or its own error raised (a failed command fails only its caller; a
lost connection fails every command of that pipeline), so the callers' fallbacks (the database for a
revocation, a per-process window for the rate limit) work as before.
"""

from __future__ import annotations

import asyncio
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

MAX_COMMANDS_PER_PIPELINE = 1000


class RedisBatch:
    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._waiting: list[tuple[tuple[Any, ...], asyncio.Future[Any]]] = []
        self._running: asyncio.Task[None] | None = None
        self.round_trips = 0  # pipelines sent (tests and benchmarks read it)

    async def execute(self, *command: Any) -> Any:
        """One command, as redis-py's `execute_command` takes it (`"EXISTS", key`); its reply."""
        loop = asyncio.get_running_loop()
        running = self._running
        if running is not None and running.get_loop() is not loop:  # that loop was closed mid-flight
            self._waiting = [waiting for waiting in self._waiting if waiting[1].get_loop() is loop]
            running = None
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append((command, future))
        if running is None or running.done():
            self._running = loop.create_task(self._send_while_asked(), name="redis-batch")
        return await future

    async def _send_while_asked(self) -> None:
        while self._waiting:
            batch = self._waiting[:MAX_COMMANDS_PER_PIPELINE]
            del self._waiting[:MAX_COMMANDS_PER_PIPELINE]
            try:
                async with self._redis.pipeline(transaction=False) as pipe:
                    for command, _ in batch:
                        pipe.execute_command(*command)
                    replies = await pipe.execute(raise_on_error=False)
                self.round_trips += 1
            except BaseException as exc:
                if isinstance(exc, Exception) and not _redis_lost(exc) and len(batch) > 1:
                    # One command's arguments refused by redis-py (a DataError when packing it): each goes
                    # alone, so that caller alone gets the error.
                    await self._send_alone(batch)
                    continue
                if not isinstance(exc, Exception) or _redis_lost(exc):
                    # Redis lost, hung (the pipeline's time-out and redis-py's retries) or this task
                    # cancelled: the commands queued behind it would meet the same, one pipeline after
                    # another (tens of seconds for the last). They fail now, to their callers' fallbacks,
                    # and none is left waiting for a task that has stopped.
                    batch, self._waiting = batch + self._waiting, []
                failed = exc if isinstance(exc, Exception) else ConnectionError("cancelled")
                for _, future in batch:
                    if not future.done():
                        future.set_exception(failed)
                if not isinstance(exc, Exception):
                    raise
            else:
                for (_, future), reply in zip(batch, replies, strict=True):
                    if future.done():  # its caller left meanwhile
                        continue
                    if isinstance(reply, Exception):
                        future.set_exception(reply)
                    else:
                        future.set_result(reply)

    async def _send_alone(self, batch: list[tuple[tuple[Any, ...], asyncio.Future[Any]]]) -> None:
        for command, future in batch:
            try:
                reply = await self._redis.execute_command(*command)
            except Exception as exc:  # noqa: BLE001 - the caller's own error, raised to it
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(reply)


def _redis_lost(exc: BaseException) -> bool:
    return isinstance(exc, RedisConnectionError | RedisTimeoutError | OSError)
