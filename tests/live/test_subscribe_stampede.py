"""Many subscribers opening at once share round trips to Redis: their channels go out in a few
SUBSCRIBEs (core/events.Hub), their revocation checks and rate-limit hits in a few pipelines
(core/redis_batch.py); and each still gets its own answer."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

from core.events import Hub, Listener
from core.ratelimit import RateLimiter
from core.redis_batch import RedisBatch
from services import auth


async def test_channels_asked_for_together_go_out_in_one_subscribe_and_each_is_live(rt) -> None:
    hub = Hub(rt.redis)
    names = [f"test:stampede:{uuid.uuid4()}" for _ in range(50)]
    listeners = [Listener() for _ in names]
    try:
        await asyncio.gather(*(hub.join((name,), listener) for name, listener in zip(names, listeners, strict=True)))
        assert hub.subscribe_commands <= 2  # not 50
        counts = dict(await rt.redis.pubsub_numsub(*names))
        assert all(int(counts.get(name, 0)) == 1 for name in names)
        await rt.redis.publish(names[7], json.dumps({"type": "test.event"}))
        assert await listeners[7].next(within=2) == {"type": "test.event"}
        assert await listeners[8].next(within=0.2) is None  # its own channel only
    finally:
        for name, listener in zip(names, listeners, strict=True):
            await hub.leave((name,), listener)
        await hub.close()


async def test_a_channel_left_before_its_subscribe_is_not_subscribed(rt) -> None:
    hub = Hub(rt.redis)
    kept, dropped = f"test:stampede:{uuid.uuid4()}", f"test:stampede:{uuid.uuid4()}"
    staying, leaving = Listener(), Listener()
    try:
        joining = asyncio.get_running_loop().create_task(hub.join((dropped,), leaving))
        await asyncio.sleep(0)  # registered, its SUBSCRIBE not sent yet
        joining.cancel()
        await asyncio.gather(joining, return_exceptions=True)
        await hub.leave((dropped,), leaving)
        await hub.join((kept,), staying)
        counts = dict(await rt.redis.pubsub_numsub(kept, dropped))
        assert (int(counts.get(kept, 0)), int(counts.get(dropped, 0))) == (1, 0)
        assert hub.listening(dropped) == 0
    finally:
        await hub.leave((kept,), staying)
        await hub.close()


async def test_concurrent_revocation_checks_and_rate_limit_hits_share_pipelines(rt) -> None:
    batch = RedisBatch(rt.redis)
    limiter = RateLimiter(rt.redis, prefix="rl-test", batch=batch)
    checker: Any = type("Rt", (), {"redis_batch": batch, "redis": rt.redis})()
    revoked, live = uuid.uuid4(), uuid.uuid4()
    await rt.redis.set(auth.REVOKED_KEY.format(revoked), 1, ex=60)
    results = await asyncio.gather(
        *(auth.is_session_revoked(checker, revoked if n % 2 else live) for n in range(40)),
        *(limiter.hit(f"crowd-{n % 4}", limit=5, window=60) for n in range(40)),
    )
    assert results[:40] == [bool(n % 2) for n in range(40)]
    decisions: list[Any] = list(results[40:])
    for key in range(4):
        counts = sorted(d.count for n, d in enumerate(decisions) if n % 4 == key)
        assert counts == list(range(1, 11))
    assert sum(d.allowed for d in decisions) == 20
    assert batch.round_trips <= 2  # 80 commands


async def test_a_failing_command_fails_only_its_caller(rt) -> None:
    batch = RedisBatch(rt.redis)
    await rt.redis.set("test:batch:text", "x")
    good, bad = await asyncio.gather(
        batch.execute("EXISTS", "test:batch:text"), batch.execute("INCR", "test:batch:text"), return_exceptions=True
    )
    assert good == 1
    assert isinstance(bad, Exception)


async def test_without_redis_the_checks_fall_back(rt) -> None:
    """Redis unreachable: the revocation check asks the database, the rate limit counts per process."""
    from redis.asyncio import Redis

    unreachable = Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    batch = RedisBatch(unreachable)
    limiter = RateLimiter(unreachable, prefix="rl-test", batch=batch)
    try:
        decisions = [await limiter.hit("away", limit=2, window=60) for _ in range(3)]
        assert [d.allowed for d in decisions] == [True, True, False]
        checker: Any = type("Rt", (), {"redis_batch": batch, "redis": unreachable, "database": rt.database})()
        assert await auth.is_session_revoked(checker, uuid.uuid4()) is False  # no such session: not revoked
    finally:
        await unreachable.aclose()
