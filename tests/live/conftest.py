"""Helpers for the live tests: graphql-transport-ws clients against the `live_server` process."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from tests.conftest import fund


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


async def receive(socket: ClientConnection, seconds: float = 10) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), seconds))
    return message


@asynccontextmanager
async def subscription(
    base: str, token: str, query: str, variables: dict[str, Any] | None = None, *, brand: str | None = None
) -> AsyncIterator[ClientConnection]:
    """A connection, authenticated in connection_init, with one subscription (id "1") started."""
    async with connect(ws_url(base), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        payload: dict[str, Any] = {"authorization": f"Bearer {token}"}
        if brand:
            payload["brand"] = brand
        await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})
        )
        yield socket


async def next_data(socket: ClientConnection, seconds: float = 10) -> dict[str, Any]:
    message = await receive(socket, seconds)
    assert (message["id"], message["type"]) == ("1", "next"), message
    assert "errors" not in message["payload"], message
    data: dict[str, Any] = message["payload"]["data"]
    return data


async def refusal_codes(socket: ClientConnection) -> list[str]:
    """A refused subscription: as an `error` message, or a `next` with errors and no data."""
    message = await receive(socket)
    if message["type"] == "error":
        errors = message["payload"]
    else:
        assert message["type"] == "next", message
        assert message["payload"]["data"] is None, message
        errors = message["payload"]["errors"]
    return [error["extensions"]["code"] for error in errors]


async def deposit(rt: Any, player_id: uuid.UUID, amount: int, currency: str = "EUR") -> Any:
    """Kept for tests written against it; new tests call `fund(..., deposit=True)` (tests/conftest.py)."""
    return await fund(rt, player_id, amount, currency, deposit=True)
