"""Work on an event loop of its own, in a thread of the server process.

The event pipeline (the outbox relay and the consumers) makes a dozen short round trips per batch. On
the API's loop each one waits its turn behind the callbacks of every HTTP request in flight: inside a
saturated server the NATS sink's export lag was p99 7 s at 49 events/s. On a loop of its own, an await
that is ready waits for the GIL only (which a thread gets back within the 5 ms switch interval).

Whatever the work uses must belong to its loop: a redis-py client or an asyncpg connection opened on
another loop cannot be used here (the work makes its own).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any

Work = Callable[[], Coroutine[Any, Any, None]]


class LoopThread:
    def __init__(self, name: str, work: Work) -> None:
        self._work = work
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._running = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[Any] | None = None

    def start(self) -> None:
        self._thread.start()
        self._running.wait()

    async def stop(self, wait_seconds: float | None = None) -> bool:
        """Cancel the work and wait (without blocking the caller's loop) until its clean-up is done and
        the thread has ended, at most `wait_seconds`; whether it ended (a daemon thread left behind
        does not keep the process alive)."""
        if self._loop is not None and self._task is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: the work ended by itself
                self._loop.call_soon_threadsafe(self._task.cancel)
        await asyncio.to_thread(self._thread.join, wait_seconds)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    async def task_names(self) -> set[str]:
        """The names of the unfinished tasks on the thread's loop (none once it has stopped)."""

        async def names() -> set[str]:
            return {task.get_name() for task in asyncio.all_tasks() if not task.done()}

        if self._loop is None or not self.running:
            return set()
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(names(), self._loop))

    def _run(self) -> None:
        asyncio.run(self._main())  # which closes the loop and its async generators at the end

    async def _main(self) -> None:
        self._loop, self._task = asyncio.get_running_loop(), asyncio.current_task()
        self._running.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self._work()
