"""A subscriber gone while it sends the SUBSCRIBE that carries other subscribers' channels too (the
stampede's shared one, core/events.Hub.join) takes none of theirs with it: each is live in Redis."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from core.events import Hub, Listener


class _SlowPubSub:
    """Redis's pub/sub connection, its SUBSCRIBE slow to go out (a connection still being made)."""

    def __init__(self, pubsub: Any, started: asyncio.Event) -> None:
        self._pubsub, self._started = pubsub, started

    async def subscribe(self, *channels: str) -> None:
        self._started.set()
        await asyncio.sleep(0.3)
        await self._pubsub.subscribe(*channels)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._pubsub, name)


class _SlowRedis:
    def __init__(self, redis: Any) -> None:
        self._redis, self.started = redis, asyncio.Event()

    def pubsub(self) -> _SlowPubSub:
        return _SlowPubSub(self._redis.pubsub(), self.started)


async def test_a_joiner_cancelled_mid_subscribe_leaves_the_others_channels_live(rt) -> None:
    redis = _SlowRedis(rt.redis)
    hub = Hub(redis)
    gone_channel, kept_channel = f"test:cancel:{uuid.uuid4()}", f"test:cancel:{uuid.uuid4()}"
    gone, kept = Listener(), Listener()
    try:
        first = asyncio.create_task(hub.join((gone_channel,), gone))
        second = asyncio.create_task(hub.join((kept_channel,), kept))
        await redis.started.wait()  # one SUBSCRIBE carries both channels, and is on its way
        first.cancel()
        await asyncio.gather(first, return_exceptions=True)
        await hub.leave((gone_channel,), gone)  # as `subscribed` does when its join is cancelled
        await asyncio.wait_for(second, 10)
        await rt.redis.publish(kept_channel, json.dumps({"type": "test.event"}))
        events = [await kept.next(within=2), await kept.next(within=0.5)]
        assert events[0] == {"type": "test.event"}, f"{kept_channel} not live when its join returned: {events}"
    finally:
        await hub.leave((kept_channel,), kept)
        await hub.close()
