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


# A request's revocation check and its rate-limit hit in one command (schema/extensions.py, RequestGate):
# whether KEYS[1] (the session's revocation mark) exists, then the hit of the key that outcome selects —
# KEYS[2] for a live session (its subject), KEYS[3] for a revoked one (its IP; "" when there is none: nothing
# counted). One command decides both, so what is counted is exactly what the two commands counted.
_HIT_UNLESS_REVOKED = """
local revoked = redis.call('EXISTS', KEYS[1])
local key = KEYS[2 + revoked]
if key == '' then
  return {revoked, 0, 0}
end
local count = redis.call('INCRBY', key, ARGV[1])
local ttl = redis.call('TTL', key)
if ttl < 0 then
  redis.call('EXPIRE', key, ARGV[2])
  ttl = tonumber(ARGV[2])
end
return {revoked, count, ttl}
"""


@dataclass(frozen=True)
class Limit:
    """A key to count and its limit (per `window` seconds)."""

    key: str
    limit: int


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

    async def hit_unless_revoked(
        self, revoked_key: str, live: Limit, revoked: Limit | None, *, window: int
    ) -> tuple[bool, Decision | None]:
        """Whether `revoked_key` exists, and the hit of `live` (it does not) or `revoked` (it does; None:
        nothing to count), in one round trip. Raises RedisError or OSError when Redis cannot answer:
        the caller then asks each on its own (each with its own fallback)."""
        live_key = self._full(live.key)
        revoked_limit_key = self._full(revoked.key) if revoked is not None else ""  # "": the script counts nothing
        found, count, ttl = await self.batch.execute(
            "EVAL", _HIT_UNLESS_REVOKED, 3, revoked_key, live_key, revoked_limit_key, 1, window
        )
        limit = revoked if found else live
        if limit is None:
            return bool(found), None
        return bool(found), Decision(allowed=count <= limit.limit, count=count, retry_after=max(int(ttl), 1))

    def _full(self, key: str) -> str:
        return f"{self.prefix}:{key}"

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
