"""Fixed-window rate limits in Redis, shared by every replica.

If Redis cannot be reached the limiter falls back to a per-process window instead of opening the
gate: limits stay in force (per replica) while Redis is away.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.logging import get_logger
from core.redis_batch import RedisBatch

log = get_logger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    count: int
    retry_after: int


# One command per hit (every GraphQL request makes one): count, start the window if this is its first
# hit (or the key somehow has no expiry), and read what is left of it. Atomic, as Redis runs a script
# alone. Sent as EVAL (Redis keeps the compiled script by its hash), in the process's shared pipeline
# (core/redis_batch.py): EVALSHA in a pipeline would need a SCRIPT EXISTS round trip before each one.
_HIT = """
local count = redis.call('INCRBY', KEYS[1], ARGV[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {count, ttl}
"""


class RateLimiter:
    def __init__(self, redis: Redis, prefix: str = "rl", *, batch: RedisBatch | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self.batch = batch or RedisBatch(redis)
        self._local: dict[str, tuple[float, int]] = {}

    async def hit(self, key: str, *, limit: int, window: int, cost: int = 1) -> Decision:
        """Count `cost` against `key` and tell whether the count is still within `limit`."""
        full_key = f"{self.prefix}:{key}"
        try:
            count, ttl = await self.batch.execute("EVAL", _HIT, 1, full_key, cost, window)
        except (RedisError, OSError):
            log.warning("rate_limit_redis_unavailable", key=key)
            count, ttl = self._hit_locally(full_key, window, cost)
        return Decision(allowed=count <= limit, count=count, retry_after=max(int(ttl), 1))

    async def peek(self, key: str) -> Decision:
        """The count so far and the seconds left in its window, without counting anything."""
        full_key = f"{self.prefix}:{key}"
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                pipe.get(full_key)
                pipe.ttl(full_key)
                value, ttl = await pipe.execute()
        except (RedisError, OSError):
            _started, count = self._local.get(full_key, (time.monotonic(), 0))
            return Decision(allowed=True, count=count, retry_after=1)
        return Decision(allowed=True, count=int(value or 0), retry_after=max(int(ttl), 1))

    async def reset(self, key: str) -> None:
        full_key = f"{self.prefix}:{key}"
        self._local.pop(full_key, None)
        with contextlib.suppress(RedisError, OSError):
            await self.redis.delete(full_key)

    def _hit_locally(self, key: str, window: int, cost: int) -> tuple[int, int]:
        now = time.monotonic()
        started, count = self._local.get(key, (now, 0))
        if now - started >= window:
            started, count = now, 0
        count += cost
        self._local[key] = (started, count)
        if len(self._local) > 100_000:  # bounded memory while Redis is away
            self._local.clear()
        return count, int(window - (now - started))
