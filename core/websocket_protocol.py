"""uvicorn's WebSocket protocol (websockets-sansio), with less kept per open connection.

A live subscription keeps its WebSocket open for hours; on uvicorn's own protocol an idle one costs
~22 KiB (bench/README.md § 3). Three parts of that serve no purpose once the handshake is done, and go:
- the handshake's request and response (websockets' `Headers`, each header twice: ~3.5 KiB), kept for
  the connection's life; they are emptied once the response is sent;
- the inbox of ASGI events, an `asyncio.Queue` (three deques with a 64-slot block each, ~2.2 KiB
  empty): here a list and one future, which is all a single reader needs;
- the "transport writable" flag, an `asyncio.Event` (a deque, ~0.7 KiB): here a flag and a future.
Everything else — the handshake, framing, keepalive pings, flow control, closing — is uvicorn's code.
`croupier serve` runs it (`ws=` names this class); `bench.live` measures it.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any, cast

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class _Inbox:
    """What uvicorn uses of an asyncio.Queue with one reader (the ASGI app's `receive`)."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: list[Any] = []
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        self._items.append(item)
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    def qsize(self) -> int:
        return len(self._items)

    async def get(self) -> Any:
        while not self._items:
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        return self._items.pop(0)


class _Flag:
    """What uvicorn uses of an asyncio.Event: set, clear, wait (by the app's `send`)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for waiter in waiters or ():
            if not waiter.done():
                waiter.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        while not self._set:
            waiter = asyncio.get_running_loop().create_future()
            if self._waiters is None:
                self._waiters = []
            self._waiters.append(waiter)
            await waiter
        return True


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    """The replacements lean on uvicorn's private attributes (`queue`, `writable`, `request`, `response`,
    `handshake_complete`); each is made only where this uvicorn has the attribute in the shape it
    replaces, so a uvicorn that renames or reshapes one keeps its own behaviour for it (fail safe)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if type(getattr(self, "queue", None)) is asyncio.Queue and cast(Any, self).queue.empty():
            self.queue = _Inbox()  # type: ignore[assignment]
        if type(getattr(self, "writable", None)) is asyncio.Event and cast(Any, self).writable.is_set():
            self.writable = _Flag()  # type: ignore[assignment]
            self.writable.set()

    async def send(self, message: Any) -> None:
        await super().send(message)
        request, response = getattr(self, "request", None), getattr(self, "response", None)
        if getattr(self, "handshake_complete", False) and request is not None and response is not None:
            # The handshake is answered: its request and response are never read again. Their headers
            # are emptied too, since websockets' parser keeps the request object for the connection's life.
            with contextlib.suppress(AttributeError):
                request.headers.clear()
                response.headers.clear()
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]
