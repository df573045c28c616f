"""An operation name the document does not define (or an operation type the transport does not run) is
the client's mistake: a structured BAD_USER_INPUT refusal over HTTP and over graphql-transport-ws, never
INTERNAL (over WebSocket it used to reach the error masking as an unexpected error)."""

from __future__ import annotations

import json

import httpx
import pytest
from websockets.asyncio.client import connect

from tests.test_subscriptions import receive, ws_url

UNKNOWN_NAME = [
    {"query": "query A { __typename }", "operationName": "B"},
    {"query": "subscription A { accountEvents { kind } }", "operationName": "B"},
    {"query": "{ __typename }", "operationName": "B"},
]


async def test_an_unknown_operation_name_over_websocket_is_bad_user_input(live_server: str) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(socket))["type"] == "connection_ack"
        for number, payload in enumerate(UNKNOWN_NAME):
            await socket.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
            message = await receive(socket)
            assert (message["id"], message["type"]) == (str(number), "error"), (payload, message)
            assert message["payload"] == [
                {"message": 'Unknown operation named "B".', "extensions": {"code": "BAD_USER_INPUT"}}
            ], message


@pytest.mark.parametrize("payload", UNKNOWN_NAME)
async def test_an_unknown_operation_name_over_http_is_a_structured_400(
    client: httpx.AsyncClient, payload: dict[str, str]
) -> None:
    for accept in ("application/json", "application/graphql-response+json"):
        response = await client.post("/graphql", json=payload, headers={"Accept": accept})
        assert response.status_code == 400, response.text
        assert response.json()["errors"] == [
            {"message": 'Unknown operation named "B".', "extensions": {"code": "BAD_USER_INPUT"}}
        ]
