"""Live events through Redis pub/sub, so any replica can serve any subscriber.

Account events (a status change, sessions ended) are published after the change commits. The
money issue moves these onto the transactional outbox; until then a publish that fails is logged
and dropped, which costs a live notification, never data.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.exceptions import RedisError

from core.clock import clock
from core.logging import get_logger
from services.runtime import Runtime

log = get_logger(__name__)


def account_channel(player_id: uuid.UUID) -> str:
    return f"events:account:{player_id}"


async def publish_account_event(rt: Runtime, player_id: uuid.UUID, *, kind: str, **data: Any) -> None:
    message = json.dumps({"kind": kind, "player_id": str(player_id), "at": clock.now().isoformat(), **data})
    try:
        await rt.redis.publish(account_channel(player_id), message)
    except (RedisError, OSError):
        log.warning("account_event_not_published", kind=kind)


async def listen(rt: Runtime, channel: str) -> AsyncIterator[dict[str, Any]]:
    pubsub = rt.redis.pubsub()
    await pubsub.subscribe(channel)
    try:
        async for message in pubsub.listen():
            if message.get("type") == "message":
                yield json.loads(message["data"])
    finally:
        await pubsub.unsubscribe(channel)
        await pubsub.aclose()  # type: ignore[no-untyped-call]
