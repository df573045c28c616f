"""A WebSocket message larger than WEBSOCKET_MAX_MESSAGE_BYTES (64 KiB) closes the socket with 1009
(Message Too Big) before the server buffers it; one within the limit is served (docs/api.md)."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import receive, ws_url

LIMIT = 64 * 1024


async def test_a_message_within_the_limit_is_served(live_server) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"], max_size=None) as socket:  # type: ignore[list-item]
        message = json.dumps({"type": "ping", "payload": {"pad": "x" * (LIMIT - 100)}})
        assert len(message) <= LIMIT
        await socket.send(message)
        assert await receive(socket) == {"type": "pong"}


@pytest.mark.parametrize("fragmented", [False, True])
async def test_a_larger_message_closes_the_socket_with_1009(live_server, fragmented: bool) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"], max_size=None) as socket:  # type: ignore[list-item]
        message = json.dumps({"type": "ping", "payload": {"pad": "x" * (LIMIT + 1)}})
        if fragmented:  # the limit is on the message, whatever its frames
            await socket.send(message[i : i + 16_384] for i in range(0, len(message), 16_384))
        else:
            await socket.send(message)
        with pytest.raises(ConnectionClosed):
            await receive(socket)
        assert socket.close_code == 1009
        assert str(LIMIT) in (socket.close_reason or "")
