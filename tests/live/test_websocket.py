"""What one live WebSocket costs the server: no per-message deflate unless configured (zlib's state is
~44 KiB a connection, bench/README.md § 3), and the GraphQL endpoint served past FastAPI's stack still
authenticates in connection_init and refuses what it refused."""

from __future__ import annotations

import json

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.live.conftest import next_data, receive, subscription, ws_url

BALANCE = "subscription { balanceChanged { kind } }"


async def test_a_websocket_offering_compression_is_served_without_it(live_server, make_player) -> None:
    player = await make_player()
    async with subscription(live_server, player.token, BALANCE) as socket:  # the client offers deflate
        assert (await next_data(socket))["balanceChanged"]["kind"] == "snapshot"
        assert socket.protocol.extensions == []


async def test_a_subscription_before_connection_init_closes_the_socket(live_server) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": BALANCE}}))
        with pytest.raises(ConnectionClosed):
            await receive(socket)
        assert socket.close_code == 4401


async def test_a_bad_token_is_refused_in_connection_init(live_server) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer forged"}}))
        with pytest.raises(ConnectionClosed):
            await receive(socket)
        assert socket.close_code == 4403
