"""Live events for subscribers: the outbox relay publishes each committed event on the pub/sub
channel of its key (`events:player:<id>`, …), so any replica can serve any subscriber."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from services.outbox import channel_for
from services.runtime import Runtime


def player_channel(player_id: uuid.UUID) -> str:
    return channel_for(f"player:{player_id}")


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
