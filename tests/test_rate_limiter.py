"""The fixed-window limiter (core/ratelimit.py): one Redis round trip per hit, counted atomically."""

from __future__ import annotations

import asyncio
from typing import Any

from core.ratelimit import RateLimiter


async def test_hits_within_the_limit_pass_and_the_next_waits_for_the_window(rt: Any) -> None:
    limiter = RateLimiter(rt.redis, prefix="rl-test")
    decisions = [await limiter.hit("someone", limit=3, window=60) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.count for d in decisions] == [1, 2, 3, 4]
    assert 55 <= decisions[-1].retry_after <= 60
    assert 55 <= await rt.redis.ttl("rl-test:someone") <= 60


async def test_concurrent_hits_are_each_counted_once(rt: Any) -> None:
    limiter = RateLimiter(rt.redis, prefix="rl-test")
    decisions = await asyncio.gather(*(limiter.hit("crowd", limit=10, window=60, cost=2) for _ in range(20)))
    assert sorted(d.count for d in decisions) == list(range(2, 42, 2))
    assert sum(d.allowed for d in decisions) == 5


async def test_a_key_left_without_expiry_gets_its_window_back(rt: Any) -> None:
    await rt.redis.set("rl-test:stuck", 7)  # e.g. written by hand: it would count forever
    decision = await RateLimiter(rt.redis, prefix="rl-test").hit("stuck", limit=100, window=30)
    assert decision.count == 8
    assert 25 <= await rt.redis.ttl("rl-test:stuck") <= 30
