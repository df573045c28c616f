"""core/redis_batch.py: one caller's trouble stays its own, and a hung Redis fails its waiting callers
within one socket time-out (they fall back: the database, the per-process window) rather than queueing
behind one timed-out pipeline after another."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import DataError, RedisError

from core.redis_batch import MAX_COMMANDS_PER_PIPELINE, RedisBatch
from tests.conftest import REDIS_URL

TIMEOUT = 0.5


@pytest.fixture
async def hung_redis() -> AsyncIterator[Redis]:
    """A server that accepts connections and never answers: Redis hung (a long fork, a full network)."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    # No retries, so that one pipeline takes one time-out (redis-py's default retries multiply it; the
    # callers queued behind it waited a multiple of that: 40 s here with them, socket_timeout 0.5 s).
    redis = Redis(
        host="127.0.0.1", port=port, socket_timeout=TIMEOUT, socket_connect_timeout=TIMEOUT, retry=Retry(NoBackoff(), 0)
    )
    yield redis
    await redis.aclose()
    for writer in held:
        writer.close()
    server.close()


async def test_a_hung_redis_fails_every_waiting_caller_within_one_time_out(hung_redis: Redis) -> None:
    batch = RedisBatch(hung_redis)

    async def caller(i: int) -> float:
        started = time.monotonic()
        with pytest.raises((RedisError, OSError)):
            await batch.execute("EXISTS", f"k{i}")
        return time.monotonic() - started

    first = asyncio.create_task(caller(-1))  # in flight alone; the rest queue behind it
    await asyncio.sleep(0.05)
    waits = await asyncio.gather(first, *(caller(i) for i in range(2 * MAX_COMMANDS_PER_PIPELINE + 1)))
    assert max(waits) < 2 * TIMEOUT, f"a caller waited {max(waits):.2f} s behind a hung Redis"


async def test_one_callers_bad_argument_fails_only_that_caller() -> None:
    redis = Redis.from_url(REDIS_URL, decode_responses=True)
    batch, key = RedisBatch(redis), f"batch:{uuid.uuid4()}"
    try:
        await redis.set(key, "1")
        good, bad = await asyncio.gather(
            batch.execute("EXISTS", key), batch.execute("SET", key, None), return_exceptions=True
        )
        assert isinstance(bad, DataError)
        assert good == 1
    finally:
        await redis.delete(key)
        await redis.aclose()
