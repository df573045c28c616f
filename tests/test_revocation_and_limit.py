"""The revocation check and the rate-limit hit of one request in one Redis command (core/ratelimit.py,
`hit_unless_revoked`): the key counted is the one the revocation's outcome selects, nothing else."""

from __future__ import annotations

from typing import Any

from core.ratelimit import Limit, RateLimiter


async def test_a_live_session_counts_its_subject_in_one_round_trip(rt: Any) -> None:
    limiter = RateLimiter(rt.redis, prefix="rl-test")
    before = limiter.batch.round_trips
    revoked, decision = await limiter.hit_unless_revoked(
        "rl-test:revoked:live", Limit("subject", 1), Limit("ip", 5), window=60
    )
    assert limiter.batch.round_trips == before + 1
    assert revoked is False
    assert decision is not None
    assert (decision.allowed, decision.count) == (True, 1)
    assert int(await rt.redis.get("rl-test:subject")) == 1
    assert await rt.redis.exists("rl-test:ip") == 0
    _, second = await limiter.hit_unless_revoked("rl-test:revoked:live", Limit("subject", 1), None, window=60)
    assert second is not None
    assert (second.allowed, second.count) == (False, 2)
    assert 55 <= second.retry_after <= 60


async def test_a_revoked_session_counts_its_ip_or_nothing(rt: Any) -> None:
    await rt.redis.set("rl-test:revoked:gone", 1)
    limiter = RateLimiter(rt.redis, prefix="rl-test")
    revoked, decision = await limiter.hit_unless_revoked(
        "rl-test:revoked:gone", Limit("subject2", 1), Limit("ip2", 5), window=60
    )
    assert revoked is True
    assert decision is not None
    assert (decision.allowed, decision.count) == (True, 1)
    assert await rt.redis.exists("rl-test:subject2") == 0
    assert 55 <= await rt.redis.ttl("rl-test:ip2") <= 60
    revoked, decision = await limiter.hit_unless_revoked("rl-test:revoked:gone", Limit("subject2", 1), None, window=60)
    assert (revoked, decision) == (True, None)
    assert await rt.redis.exists("rl-test:subject2") == 0
