"""The process's one Redis pub/sub connection (`core.events.Hub`) and its in-process fan-out: each
message reaches the listeners of its channel and no other, a listener that leaves is forgotten (and
its channel unsubscribed in Redis), and a lost connection is made again with every channel on it.

Pub/sub channels are shared by every Redis database of the server, so each test names its own."""

from __future__ import annotations

import asyncio
import gc
import json
import uuid
import weakref
from typing import Any

from core import events
from core.events import Hub, Listener


def channel() -> str:
    return f"test:hub:{uuid.uuid4()}"


async def subscribers(rt: Any, name: str) -> int:
    return int(dict(await rt.redis.pubsub_numsub(name)).get(name, 0))


async def publish(rt: Any, name: str, number: int) -> None:
    await rt.redis.publish(name, json.dumps({"type": "test.event", "number": number}))


async def test_a_message_reaches_the_listeners_of_its_channel_only(rt) -> None:
    hub = Hub(rt.redis)
    first, second = channel(), channel()
    on_first, also_on_first, on_second = Listener(), Listener(), Listener()
    await hub.join((first,), on_first)
    await hub.join((first,), also_on_first)
    await hub.join((second,), on_second)
    try:
        assert await subscribers(rt, first) == 1  # one SUBSCRIBE for two listeners of the channel
        await publish(rt, first, 1)
        assert (await on_first.next(within=5) or {}).get("number") == 1
        assert (await also_on_first.next(within=5) or {}).get("number") == 1
        assert await on_second.next(within=0.3) is None
    finally:
        for name, listener in ((first, on_first), (first, also_on_first), (second, on_second)):
            await hub.leave((name,), listener)


async def test_a_listener_that_leaves_is_forgotten_and_its_channel_unsubscribed(rt) -> None:
    hub = Hub(rt.redis)
    name = channel()
    staying, leaving = Listener(), Listener()
    await hub.join((name,), staying)
    await hub.join((name,), leaving)
    gone = weakref.ref(leaving)

    await hub.leave((name,), leaving)
    del leaving
    gc.collect()
    assert gone() is None  # nothing in the hub holds it any more
    assert hub.listening(name) == 1
    await publish(rt, name, 1)
    assert (await staying.next(within=5) or {}).get("number") == 1

    await hub.leave((name,), staying)
    assert hub.listening(name) == 0
    for _ in range(100):  # the UNSUBSCRIBE is written; Redis answers other clients once it has run it
        if not await subscribers(rt, name):
            break
        await asyncio.sleep(0.05)
    assert await subscribers(rt, name) == 0  # the last one out unsubscribes the channel in Redis


async def test_a_quiet_listener_gets_none_when_its_time_is_up_and_keeps_messages_in_order(rt) -> None:
    listener = Listener()
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await listener.next(within=0.2) is None
    assert loop.time() - started >= 0.19
    for number in range(3):
        listener.deliver({"number": number})
    assert [(await listener.next(within=1) or {}).get("number") for _ in range(3)] == [0, 1, 2]


async def test_a_lost_pubsub_connection_is_made_again_with_every_channel(rt) -> None:
    hub = Hub(rt.redis)
    name = channel()
    listener = Listener()
    await hub.join((name,), listener)
    try:
        connection = hub._pubsub.connection
        host, port = connection._writer.get_extra_info("sockname")[:2]
        await rt.redis.execute_command("CLIENT", "KILL", "ADDR", f"{host}:{port}")  # this connection only

        delivered: dict[str, Any] | None = None
        deadline = asyncio.get_running_loop().time() + 15
        while asyncio.get_running_loop().time() < deadline:
            await publish(rt, name, 2)
            delivered = await listener.next(within=0.5)
            if delivered is not None and delivered.get("type") != events.RESUMED:
                break
        assert delivered is not None
        assert delivered.get("number") == 2
        assert await subscribers(rt, name) == 1
    finally:
        await hub.leave((name,), listener)
