"""Live events for subscribers: the outbox relay publishes each committed event on the pub/sub
channel of its key (`events:player:<id>`, …) and on `events:all`, so any replica can serve any
subscriber. Each process reads every subscription's events over one Redis connection (`Hub`), and a
subscription outlives an outage of Redis: it pauses, and resumes when Redis is back."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from core.logging import get_logger
from core.outbox import ALL_CHANNEL, channel_for
from core.runtime import Runtime

log = get_logger(__name__)


def player_channel(player_id: uuid.UUID) -> str:
    return channel_for(f"player:{player_id}")


def all_channel() -> str:
    return ALL_CHANNEL


RESUMED = "subscription.resumed"  # the topic a listener hands over after an outage of Redis
_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
_CONFIRM_SECONDS = 5.0  # how long a new subscription waits for Redis to confirm it is live
_CLOSE_SECONDS = 2.0  # how long closing waits for the pump and the connection
_QUEUE = 256  # messages a subscriber may fall behind by; beyond, it misses some and re-reads on the next


async def listen(rt: Runtime, channel: str) -> AsyncIterator[dict[str, Any]]:
    """Events (their envelopes, core/catalogue) published on a channel, until the subscriber leaves;
    across an outage of Redis, with a `RESUMED` message once it is back."""
    async with subscribed(rt, channel) as listener:
        while True:
            event = await listener.next(within=60)
            if event is not None:
                yield event


class Hub:
    """Every live subscription of this process over one Redis pub/sub connection.

    One connection per subscription would cost a Redis connection and a file descriptor each: the
    client's pool holds 200 (it held 100, and the 101st subscriber failed) and the process has a
    descriptor limit (bench/README.md, live balances). Here one pump task reads the connection and
    hands each message to the listeners of its channel; a channel is subscribed in Redis while someone
    listens to it. What a listener costs is kept small (no queue object, no task, no event per
    channel once Redis confirmed it): a process holds tens of thousands.

    Redis may go away (a restart, a failover). The pump then waits, subscribes every channel again
    once Redis answers, and hands every listener one message with the topic `RESUMED`: events
    published meanwhile may be lost, so subscribers re-read what they show.
    """

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._pubsub: Any = None  # None while Redis is away (or before the first subscriber)
        self._listeners: dict[str, set[Listener]] = {}
        self._unconfirmed: dict[str, int] = {}  # SUBSCRIBEs sent and not yet confirmed, per channel
        self._confirming: dict[str, asyncio.Future[None]] = {}  # done once Redis confirmed the channel
        self._lock = asyncio.Lock()  # one change of the subscription set at a time
        self._asked: dict[str, None] = {}  # channels new to this process, waiting for their SUBSCRIBE
        self.subscribe_commands = 0  # SUBSCRIBEs sent by `join` (tests and benchmarks read it)
        self._pump: asyncio.Task[None] | None = None
        self._reconnecting = False  # the pump waits for Redis: it subscribes every channel when back

    async def close(self) -> None:
        """Stop the pump and close the connection (the server's shutdown; subscribers are gone by then)."""
        pump, self._pump = self._pump, None
        if pump is not None:
            pump.cancel()
            # Bounded: a pump cancelled inside redis-py's read of a connection it has just lost (a test
            # that blocked the loop for a while, say) was seen to stay "cancelling" for good, and the
            # server's shutdown must not wait on it (tests/faults/test_killed_run.py, the finished run).
            await asyncio.wait({pump}, timeout=_CLOSE_SECONDS)
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_close(pubsub), _CLOSE_SECONDS)

    def listening(self, channel: str) -> int:
        """How many listeners this process has on `channel` (0: not subscribed in Redis)."""
        return len(self._listeners.get(channel, ()))

    async def join(self, channels: tuple[str, ...], listener: Listener) -> None:
        """Register `listener` for `channels`; return once Redis delivers them (or is away: then the
        listener gets `RESUMED` when it is back).

        Channels new to the process wait a turn of the event loop and the lock, and whoever takes it
        first sends one SUBSCRIBE for every channel asked for meanwhile: when thousands of subscribers
        connect at once, a few commands carry them all rather than one each, in turn (bench/README.md § 3)."""
        asking = False
        for channel in channels:
            listeners = self._listeners.setdefault(channel, set())
            if not listeners:
                self._asked[channel] = None
                asking = True
            listeners.add(listener)
        if asking:  # one turn of the loop: the subscribers woken in this one ask too, then one SUBSCRIBE
            await asyncio.sleep(0)
        async with self._lock:
            asked = [c for c in self._asked if c in self._listeners]  # not those left meanwhile
            self._asked.clear()
            if asked and self._pubsub is None and (self._pump is None or not self._reconnecting):
                self._pubsub = self._redis.pubsub()
            if asked and self._pubsub is not None:
                loop = asyncio.get_running_loop()
                for channel in asked:
                    self._unconfirmed[channel] = self._unconfirmed.get(channel, 0) + 1
                    self._confirming.setdefault(channel, loop.create_future())
                self.subscribe_commands += 1
                # Shielded: the command carries other subscribers' channels, and one of them gone meanwhile
                # must not stop it half made (the pump would find no connection and "resume" every
                # subscriber of the process). The lock is held until it is out, gone or not.
                sending = asyncio.ensure_future(self._pubsub.subscribe(*asked))
                try:
                    await asyncio.shield(sending)
                except asyncio.CancelledError:
                    await asyncio.wait({sending})
                    if not sending.cancelled() and sending.exception() is not None:  # retrieved, so never unlogged
                        log.warning("subscription_redis_lost", channels=len(self._listeners))
                    self._start_pump()
                    raise
                except (RedisError, OSError):
                    log.warning("subscription_redis_lost", channels=len(self._listeners))
            self._start_pump()
        waits = [self._confirming[c] for c in channels if c in self._confirming]
        if waits:
            await asyncio.wait(waits, timeout=_CONFIRM_SECONDS)  # never cancels the shared futures

    def _start_pump(self) -> None:
        if self._pump is None or self._pump.done():
            self._pump = asyncio.get_running_loop().create_task(self._run(), name="live-events")

    async def leave(self, channels: tuple[str, ...], listener: Listener) -> None:
        async with self._lock:
            gone = []
            for channel in channels:
                listeners = self._listeners.get(channel, set())
                listeners.discard(listener)
                if not listeners:
                    self._listeners.pop(channel, None)
                    self._confirming.pop(channel, None)
                    gone.append(channel)
            if gone and self._pubsub is not None:
                with contextlib.suppress(RedisError, OSError):
                    await self._pubsub.unsubscribe(*gone)

    async def _run(self) -> None:
        """Read the shared connection forever; on a failure of Redis, reconnect and resubscribe."""
        while True:
            pubsub = self._pubsub
            if pubsub is None and not self._listeners:  # nobody listens: nothing to reconnect for yet
                await asyncio.sleep(1.0)
                continue
            try:
                if pubsub is None:
                    raise ConnectionError("no pub/sub connection")
                message = await pubsub.get_message(timeout=1.0)
            except (RedisError, OSError, RuntimeError):
                await self._reconnect()
                continue
            if message is not None:
                self._dispatch(message)

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message.get("channel")
        if not isinstance(channel, str):
            return
        if message.get("type") == "subscribe":
            left = self._unconfirmed.get(channel, 1) - 1
            if left > 0:
                self._unconfirmed[channel] = left
                return
            self._unconfirmed.pop(channel, None)
            confirming = self._confirming.pop(channel, None)  # every SUBSCRIBE sent for it is in force
            if confirming is not None and not confirming.done():
                confirming.set_result(None)
        elif message.get("type") == "message":
            event = json.loads(message["data"])
            for listener in self._listeners.get(channel, ()):
                listener.deliver(event)

    async def _reconnect(self) -> None:
        self._reconnecting = True
        try:
            await self._resubscribe()
        finally:
            self._reconnecting = False

    async def _resubscribe(self) -> None:
        old, self._pubsub = self._pubsub, None
        if old is not None:
            log.warning("subscription_redis_lost", channels=len(self._listeners))
            await _close(old)
        for attempt in itertools.count():
            await asyncio.sleep(_RETRY_SECONDS[min(attempt, len(_RETRY_SECONDS) - 1)])
            async with self._lock:
                channels = list(self._listeners)
                if not channels:
                    return  # nobody listens any more; the next subscriber connects again
                pubsub = self._redis.pubsub()
                try:
                    await pubsub.subscribe(*channels)
                except (RedisError, OSError):
                    await _close(pubsub)
                    continue
                self._pubsub = pubsub
                self._unconfirmed = dict.fromkeys(channels, 1)
                listeners = {listener for channel in channels for listener in self._listeners[channel]}
            log.info("subscription_redis_resumed", channels=len(channels))
            for listener in listeners:
                listener.deliver({"type": RESUMED})
            return


class Listener:
    """A subscription that is already live when `subscribed` hands it over: a snapshot read after that
    cannot miss an event published in between (it arrives here instead).

    Messages wait in a plain list (at most `_QUEUE`; beyond, the newest are dropped and the subscriber
    re-reads on the next one); a reader waits on one future, woken by a message or by its timer. An
    asyncio.Queue and `wait_for` would cost ~5 KiB and a task per wait, for every subscription."""

    __slots__ = ("__weakref__", "_pending", "_waiter")

    def __init__(self) -> None:
        self._pending: list[dict[str, Any]] = []
        self._waiter: asyncio.Future[None] | None = None

    def deliver(self, event: dict[str, Any]) -> None:
        if len(self._pending) < _QUEUE:
            self._pending.append(event)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def poll(self) -> dict[str, Any] | None:
        """The next message already here, or None: never waits (nor yields to the event loop)."""
        return self._pending.pop(0) if self._pending else None

    async def next(self, within: float) -> dict[str, Any] | None:
        """The next message, or None when `within` seconds pass without one."""
        if not self._pending:
            loop = asyncio.get_running_loop()
            self._waiter = waiter = loop.create_future()
            timer = loop.call_later(max(within, 0), _wake, waiter)
            try:
                await waiter
            finally:
                timer.cancel()
                self._waiter = None
        return self._pending.pop(0) if self._pending else None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()


def hub_of(rt: Runtime) -> Hub:
    if rt.live_events is None:
        rt.live_events = Hub(rt.redis)
    hub: Hub = rt.live_events
    return hub


@contextlib.asynccontextmanager
async def subscribed(rt: Runtime, *channels: str) -> AsyncIterator[Listener]:
    hub, listener = hub_of(rt), Listener()
    try:
        await hub.join(channels, listener)  # inside: a subscriber gone while it waits leaves too
        yield listener
    finally:
        await hub.leave(channels, listener)
