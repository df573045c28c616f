"""The Redis client under a burst: more commands in flight than the pool holds wait for a connection
instead of failing (redis-py's default pool raised `MaxConnectionsError` at 100 connections in use,
which took the outbox relay and every rate limit of the process down with it)."""

from __future__ import annotations

import asyncio
import uuid

from core.redis import MAX_CONNECTIONS, create_redis
from tests.conftest import REDIS_URL


async def test_a_burst_beyond_the_pool_waits_for_connections() -> None:
    redis = create_redis(REDIS_URL)
    key = f"test:burst:{uuid.uuid4()}"
    try:
        # Each BLPOP holds its connection until it times out: 50 more than the pool has must queue.
        answers = await asyncio.gather(*(redis.blpop([key], timeout=0.3) for _ in range(MAX_CONNECTIONS + 50)))
    finally:
        await redis.aclose()
    assert answers == [None] * (MAX_CONNECTIONS + 50)
