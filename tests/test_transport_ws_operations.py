"""How schema/transport_ws.py ends an operation the client completes, on a connection of its own (no
server): the operation has finished (left the hub) before the next message is read, and the lean path's
stream is closed at once, not whenever the collector finds it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator
from types import SimpleNamespace
from typing import Any

from authz.subjects import ANONYMOUS
from schema.live_plan import Opened
from schema.transport_ws import Connection


class _Stream(Opened):
    """An opened subscription whose values are given and whose end is recorded."""

    def __init__(self, log: list[str]) -> None:
        self.log = log

    async def payloads(self) -> AsyncGenerator[dict[str, Any], None]:
        try:
            while True:
                yield {"data": {"n": 1}}
        finally:
            self.log.append("stream closed")


def _connection(opened: Any, send: Any) -> Connection:
    plans = SimpleNamespace(plan=lambda query, name: object(), open=_returning(opened))
    endpoint = SimpleNamespace(router=SimpleNamespace(encode_json=json.dumps), plans=plans, max_operations=2)
    # Anonymous: each operation's check of the viewer (still_valid) passes without the runtime.
    connection = Connection(endpoint, send, SimpleNamespace(rt=None, viewer=ANONYMOUS))  # type: ignore[arg-type]
    connection._acknowledged = True
    return connection


def _returning(value: Any) -> Any:
    async def open_(*_args: Any) -> Any:
        return value

    return open_


async def test_complete_waits_until_the_operation_has_ended() -> None:
    log: list[str] = []
    left = asyncio.Event()

    async def slow_to_leave() -> None:  # as an operation leaving the hub: its `finally` awaits Redis
        try:
            await asyncio.Event().wait()
        finally:
            await asyncio.sleep(0.05)
            log.append("left the hub")
            left.set()

    async def send(_message: Any) -> None:
        pass

    connection = _connection(None, send)
    task = asyncio.get_running_loop().create_task(slow_to_leave())
    connection.operations["1"] = task
    await asyncio.sleep(0)
    await connection._handle({"type": "complete", "id": "1"})
    assert task.done()
    assert log == ["left the hub"]
    assert connection.operations == {}


async def test_a_completed_lean_operation_closes_its_stream_at_once() -> None:
    """Cancelled while a `next` is on its way (a slow client), the stream is suspended at its `yield`:
    only closing it runs its `finally` (leaving the hub) before the operation is over."""
    log: list[str] = []
    sending = asyncio.Event()

    async def send(_message: Any) -> None:
        sending.set()
        await asyncio.Event().wait()  # the client reads slowly: the send never finishes

    connection = _connection(_Stream(log), send)
    await connection._handle({"type": "subscribe", "id": "1", "payload": {"query": "subscription { x }"}})
    when_ended: list[list[str]] = []
    connection.operations["1"].add_done_callback(lambda _task: when_ended.append(list(log)))
    await asyncio.wait_for(sending.wait(), 1)
    await connection._handle({"type": "complete", "id": "1"})
    assert when_ended == [["stream closed"]]  # closed by the operation itself, not later by the collector


async def test_the_limit_counts_an_operation_until_it_has_ended() -> None:
    """complete, then subscribe at once: the new operation starts only after the old one is gone, so
    never more than the limit run together."""
    running: list[str] = []
    peak = 0

    class Counted(Opened):
        def __init__(self) -> None:
            pass

        async def payloads(self) -> AsyncGenerator[dict[str, Any], None]:
            nonlocal peak
            running.append("x")
            peak = max(peak, len(running))
            try:
                await asyncio.Event().wait()
                yield {}
            finally:
                await asyncio.sleep(0.02)  # leaving takes a round trip
                running.pop()

    async def send(_message: Any) -> None:
        pass

    connection = _connection(Counted(), send)
    for n in range(6):
        await connection._handle({"type": "subscribe", "id": str(n), "payload": {"query": "subscription { x }"}})
        await asyncio.sleep(0.001)
        if n >= 1:
            await connection._handle({"type": "complete", "id": str(n - 1)})
    await asyncio.sleep(0.01)
    assert peak <= connection._endpoint.max_operations
    await connection._shutdown()
    assert running == []


async def test_a_complete_for_an_unknown_id_or_twice_is_ignored_and_the_id_is_free_again() -> None:
    log: list[str] = []
    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)
        await asyncio.sleep(0.001)  # a socket's write: the stream's values are not sent in one turn

    connection = _connection(_Stream(log), send)
    await connection._handle({"type": "subscribe", "id": "1", "payload": {"query": "subscription { n }"}})
    await asyncio.sleep(0.01)
    await connection._handle({"type": "complete", "id": "1"})
    await connection._handle({"type": "complete", "id": "1"})
    await connection._handle({"type": "complete", "id": "never-subscribed"})
    assert log == ["stream closed"]
    assert connection.operations == {}
    assert not any(message.get("type") == "websocket.close" for message in sent)
    await connection._handle({"type": "subscribe", "id": "1", "payload": {"query": "subscription { n }"}})
    assert set(connection.operations) == {"1"}
    await asyncio.sleep(0.01)
    await connection._handle({"type": "complete", "id": "1"})
    assert log == ["stream closed", "stream closed"]


async def test_an_operation_stuck_leaving_holds_the_reader_only_so_long_and_still_counts(
    monkeypatch: Any,
) -> None:
    """Its hub join waiting on a hung Redis: `complete` returns after STOP_WAIT_SECONDS (the connection
    reads pings and messages again), and the stuck operation keeps its place in the limit until it ends."""
    from schema import transport_ws

    monkeypatch.setattr(transport_ws, "STOP_WAIT_SECONDS", 0.05)
    release = asyncio.Event()
    sent: list[Any] = []

    async def stuck() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()  # leaving waits on Redis, which does not answer

    async def send(message: Any) -> None:
        sent.append(message)

    connection = _connection(None, send)
    connection.operations["a"] = asyncio.get_running_loop().create_task(stuck())
    connection.operations["b"] = asyncio.get_running_loop().create_task(stuck())
    await asyncio.sleep(0)
    try:
        await asyncio.wait_for(connection._handle({"type": "complete", "id": "a"}), 1)
        await connection._handle({"type": "ping"})
        assert json.loads(sent[-1]["text"]) == {"type": "pong"}
        await connection._handle({"type": "subscribe", "id": "c", "payload": {"query": "subscription { x }"}})
        assert "c" not in connection.operations  # a (stuck) and b still fill the limit of 2
        assert json.loads(sent[-1]["text"])["type"] == "error"
    finally:
        release.set()
    await asyncio.sleep(0.01)
    assert not connection._stopping
    await connection._shutdown()
