"""Live events for subscribers: the outbox relay publishes each committed event on the pub/sub
channel of its key (`events:player:<id>`, …) and on `events:all`, so any replica can serve any
subscriber."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from services.outbox import ALL_CHANNEL, channel_for
from services.runtime import Runtime


def player_channel(player_id: uuid.UUID) -> str:
    return channel_for(f"player:{player_id}")


def all_channel() -> str:
    return ALL_CHANNEL


async def listen(rt: Runtime, channel: str) -> AsyncIterator[dict[str, Any]]:
    """Messages `{"id", "topic", "key", "data"}` published on a channel, until the subscriber leaves."""
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                yield json.loads(message["data"])
    finally:
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()  # type: ignore[no-untyped-call]


class Listener:
    """A pub/sub subscription that is already live when `subscribed` hands it over: a snapshot read
    after that cannot miss an event published in between (it arrives here instead)."""

    def __init__(self, pubsub: Any) -> None:
        self._pubsub = pubsub

    async def next(self, within: float) -> dict[str, Any] | None:
        """The next message, or None when `within` seconds pass without one."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(within, 0)
        while True:
            remaining = deadline - loop.time()
            message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=max(remaining, 0))
            if message is not None and message.get("type") == "message":
                event: dict[str, Any] = json.loads(message["data"])
                return event
            if remaining <= 0:
                return None


@contextlib.asynccontextmanager
async def subscribed(rt: Runtime, *channels: str) -> AsyncIterator[Listener]:
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(*channels)
    try:
        yield Listener(pubsub)
    finally:
        await pubsub.unsubscribe(*channels)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
