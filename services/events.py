"""Live events for subscribers: the outbox relay publishes each committed event on the pub/sub
channel of its key (`events:player:<id>`, …) and on `events:all`, so any replica can serve any
subscriber. A subscription outlives an outage of Redis: it pauses, and resumes when Redis is back."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from core.logging import get_logger
from services.outbox import ALL_CHANNEL, channel_for
from services.runtime import Runtime

log = get_logger(__name__)


def player_channel(player_id: uuid.UUID) -> str:
    return channel_for(f"player:{player_id}")


def all_channel() -> str:
    return ALL_CHANNEL


RESUMED = "subscription.resumed"  # the topic `Listener.next` hands over after an outage of Redis
_RETRY_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)


async def listen(rt: Runtime, channel: str) -> AsyncIterator[dict[str, Any]]:
    """Messages `{"id", "topic", "key", "data"}` published on a channel, until the subscriber leaves;
    across an outage of Redis, with a `RESUMED` message once it is back."""
    async with subscribed(rt, channel) as listener:
        while True:
            event = await listener.next(within=60)
            if event is not None:
                yield event


class Listener:
    """A pub/sub subscription that is already live when `subscribed` hands it over: a snapshot read
    after that cannot miss an event published in between (it arrives here instead).

    Redis may go away (a restart, a failover). The subscription then waits, re-subscribes when Redis
    answers again and hands over one message with the topic `RESUMED`: events published meanwhile
    may be lost, so the subscriber re-reads what it shows instead of trusting it is still current.
    """

    def __init__(self, rt: Runtime, channels: tuple[str, ...]) -> None:
        self._rt = rt
        self._channels = channels
        self._pubsub: Any = None
        self._failures = 0
        self._retry_at = 0.0  # loop time of the next attempt to subscribe again

    async def open(self) -> None:
        pubsub = self._rt.redis.pubsub()
        try:
            await pubsub.subscribe(*self._channels)
        except BaseException:
            await _close(pubsub)
            raise
        self._pubsub = pubsub

    async def close(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(RedisError, OSError):
                await pubsub.unsubscribe(*self._channels)
            await _close(pubsub)

    async def next(self, within: float) -> dict[str, Any] | None:
        """The next message, or None when `within` seconds pass without one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(within, 0)
        while True:
            remaining = deadline - loop.time()
            if self._pubsub is None:
                if await self._reopen(remaining):
                    return {"topic": RESUMED}
                return None
            try:
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=max(remaining, 0))
            except (RedisError, OSError):
                log.warning("subscription_redis_lost", channels=len(self._channels))
                await self.close()
                self._retry_at = loop.time() + _RETRY_SECONDS[0]
                continue
            if message is not None and message.get("type") == "message":
                event: dict[str, Any] = json.loads(message["data"])
                return event
            if remaining <= 0:
                return None

    async def _reopen(self, within: float) -> bool:
        """Wait (at most `within` seconds) for the next attempt and subscribe again; True once subscribed."""
        loop = asyncio.get_running_loop()
        wait = self._retry_at - loop.time()
        if wait > 0:
            await asyncio.sleep(min(wait, max(within, 0)))
            if wait > within:
                return False
        try:
            await self.open()
        except (RedisError, OSError):
            self._retry_at = loop.time() + _RETRY_SECONDS[min(self._failures, len(_RETRY_SECONDS) - 1)]
            self._failures += 1
            return False
        self._failures = 0
        log.info("subscription_redis_resumed", channels=len(self._channels))
        return True


async def _close(pubsub: Any) -> None:
    with contextlib.suppress(RedisError, OSError):
        await pubsub.aclose()


@contextlib.asynccontextmanager
async def subscribed(rt: Runtime, *channels: str) -> AsyncIterator[Listener]:
    listener = Listener(rt, channels)
    await listener.open()
    try:
        yield listener
    finally:
        await listener.close()
