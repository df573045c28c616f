"""core/websocket_protocol.py replaces private parts of uvicorn's websockets-sansio protocol; a uvicorn
whose parts have another shape (renamed, reshaped) must keep its own, not run with ours half-fitted."""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from cli.run import websocket_protocol
from core.websocket_protocol import LeanWebSocketProtocol, _Flag, _Inbox


async def _app(scope: Any, receive: Any, send: Any) -> None:  # never called: no connection is made
    raise AssertionError


def _config() -> Config:
    config = Config(app=_app, ws="core.websocket_protocol:LeanWebSocketProtocol")
    config.load()
    return config


class _ReshapedUvicorn(WebSocketsSansIOProtocol):
    """A uvicorn whose inbox and writable flag are something else (another class, another name)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue: Any = asyncio.LifoQueue()
        del self.writable
        self.writable_event = asyncio.Event()


class _LeanOnReshaped(LeanWebSocketProtocol, _ReshapedUvicorn):
    pass


async def test_the_lean_parts_replace_this_uvicorns_own() -> None:
    protocol = LeanWebSocketProtocol(config=_config(), server_state=ServerState(), app_state={})
    assert isinstance(protocol.queue, _Inbox)
    assert isinstance(protocol.writable, _Flag)
    assert protocol.writable.is_set()
    assert websocket_protocol() == "core.websocket_protocol:LeanWebSocketProtocol"


async def test_a_uvicorn_of_another_shape_keeps_its_own_parts() -> None:
    protocol = _LeanOnReshaped(config=_config(), server_state=ServerState(), app_state={})
    assert type(protocol.queue) is asyncio.LifoQueue
    assert not hasattr(protocol, "writable")
