"""Malformed requests on /graphql get a structured GraphQL-over-HTTP refusal (a 4xx with `errors` and
`extensions.code`), never a 500: bodies that are not UTF-8, not a JSON object, nested too deep; bad GET
parameters; and the same shapes in a WebSocket `subscribe` message."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.test_subscriptions import receive, ws_url

DEEP = "[" * 10_000 + "]" * 10_000
QUERY = "{ __typename }"


def assert_refused(response: httpx.Response, status: int = 400) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/"), response.headers
    body: dict[str, Any] = response.json()
    assert body.get("data") is None, body
    assert body["errors"], body
    for error in body["errors"]:
        assert error["message"], body
        assert error["extensions"]["code"] == "BAD_USER_INPUT", body
    return body


@pytest.mark.parametrize(
    ("body", "why"),
    [
        (b'{"query": "{ __typename \xff\xfe }"}', "not UTF-8"),
        (b"\xff\xfe\x00{", "not UTF-8 at all"),
        (b"null", "JSON null"),
        (b"5", "a bare number"),
        (b"1e999", "a number too large for a float"),
        (b'"{ __typename }"', "a bare string"),
        (b"true", "a boolean"),
        (b"[]", "an empty batch"),
        (b"[1, 2]", "a batch of numbers"),
        (DEEP.encode(), "an array nested 10,000 deep"),
        (json.dumps({"query": QUERY, "variables": {"a": json.loads("[" * 33 + "]" * 33)}}).encode(), "33 deep"),
        (json.dumps({"query": QUERY, "variables": {"a": json.loads("[" * 500 + "]" * 500)}}).encode(), "500 deep"),
        (('{"query": "{ __typename }", "variables": {"a": ' + DEEP + "}}").encode(), "variables 10,000 deep"),
        (('{"query": "{ __typename }", "extensions": {"a": ' + DEEP + "}}").encode(), "extensions 10,000 deep"),
        (b'{"query": "{ __typename }", "variables": {"n": ' + b"9" * 5000 + b"}}", "a 5000-digit integer"),
        (b"", "an empty body"),
        (b"{", "truncated JSON"),
        (b'{"query": 5}', "a query that is not a string"),
        (b'{"query": "{ __typename }", "variables": 5}', "variables that are not an object"),
        (b'{"query": "{ __typename }", "variables": []}', "variables that are a list"),
        (b'{"query": "{ __typename }", "operationName": 5}', "an operation name that is not a string"),
        (b'{"query": "{ __typename }", "operationName": ["a"]}', "an operation name that is a list"),
        (b'{"query": "{ __typename }", "extensions": "x"}', "extensions that are not an object"),
        (b'{"variables": {}}', "no query"),
        (b'{"query": "query A { __typename }", "operationName": "B"}', "an unknown operation name"),
    ],
)
async def test_a_malformed_post_body_is_a_structured_400(client: httpx.AsyncClient, body: bytes, why: str) -> None:
    for accept in ("application/json", "application/graphql-response+json"):
        response = await client.post(
            "/graphql", content=body, headers={"Content-Type": "application/json", "Accept": accept}
        )
        assert_refused(response)


async def test_a_body_that_is_not_json_is_a_structured_refusal(client: httpx.AsyncClient) -> None:
    response = await client.post("/graphql", content=b"query=1", headers={"Content-Type": "text/plain"})
    assert_refused(response, 415)


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"query": QUERY, "variables": "5"}, "variables a number"),
        ({"query": QUERY, "variables": "[1]"}, "variables a list"),
        ({"query": QUERY, "variables": "{"}, "variables not JSON"),
        ({"query": QUERY, "variables": DEEP}, "variables nested 10,000 deep"),
        ({"query": QUERY, "extensions": "7"}, "extensions a number"),
        ({"query": QUERY, "extensions": DEEP}, "extensions nested 10,000 deep"),
        ({"variables": "{}"}, "no query"),
        ({"query": "query A { __typename }", "operationName": "B"}, "an unknown operation name"),
    ],
)
async def test_bad_get_parameters_are_a_structured_400(
    client: httpx.AsyncClient, params: dict[str, str], why: str
) -> None:
    assert_refused(await client.get("/graphql", params=params, headers={"Accept": "application/json"}))


async def test_get_parameters_that_are_not_utf8_are_a_structured_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/graphql?query=%7B%20__typename%20%FF%20%7D&variables=%7B%22a%22%3A%22%FF%22%7D")
    assert_refused(response)


async def test_a_well_formed_request_still_runs(client: httpx.AsyncClient, brand) -> None:
    response = await client.post("/graphql", json={"query": "{ brands { code } }", "variables": None})
    assert response.json() == {"data": {"brands": [{"code": "royal"}]}, "extensions": response.json()["extensions"]}
    response = await client.get("/graphql", params={"query": "{ brands { code } }", "variables": "{}"})
    assert response.json()["data"] == {"brands": [{"code": "royal"}]}


# ---- the same shapes over graphql-transport-ws -------------------------------------------------


SUBSCRIBE_PAYLOADS: list[tuple[Any, str]] = [
    (None, "payload null"),
    (5, "payload a number"),
    ("subscription { accountEvents { kind } }", "payload a string"),
    ([1], "payload a list"),
    ({"query": 5}, "query not a string"),
    ({}, "no query"),
    ({"query": QUERY, "variables": 5}, "variables a number"),
    ({"query": QUERY, "variables": [1]}, "variables a list"),
    ({"query": QUERY, "operationName": 5}, "operation name a number"),
    ({"query": QUERY, "extensions": "x"}, "extensions a string"),
]


async def test_malformed_subscribe_payloads_are_refused_with_a_code(live_server: str) -> None:
    """Each refused on its own operation id with an `error` message carrying a code; the connection
    stays open for the next one."""
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(socket))["type"] == "connection_ack"
        for number, (payload, why) in enumerate(SUBSCRIBE_PAYLOADS):
            await socket.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
            message = await receive(socket)
            assert (message["id"], message["type"]) == (str(number), "error"), (why, message)
            assert [e["extensions"]["code"] for e in message["payload"]] == ["BAD_USER_INPUT"], (why, message)
        await socket.send(json.dumps({"id": "ok", "type": "subscribe", "payload": {"query": QUERY}}))
        message = await receive(socket)
        assert (message["type"], message["payload"]["data"]) == ("next", {"__typename": "Query"}), message


@pytest.mark.parametrize(
    "raw",
    [
        '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "variables": {"a": ' + DEEP + "}}}",
        '{"id": "1", "type": "subscribe", "payload": {"query": "{ __typename }", "variables": {"a": '
        + "[" * 40
        + "]" * 40
        + "}}}",
        DEEP,
        '{"id": ["1"], "type": "subscribe", "payload": {"query": "{ __typename }"}}',
        '{"id": 1, "type": "subscribe", "payload": {"query": "{ __typename }"}}',
        '{"id": "1", "type": 5}',
        "null",
        "7",
    ],
)
async def test_a_malformed_message_closes_the_socket_with_4400(live_server: str, raw: str) -> None:
    """What cannot be answered on an operation id is an invalid message: the protocol closes with 4400."""
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(raw)
        with pytest.raises(ConnectionClosed) as closed:
            await receive(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4400, closed.value.rcvd


async def test_text_with_a_lone_surrogate_is_refused_before_the_database(
    client: httpx.AsyncClient, make_player
) -> None:
    """JSON's `\\ud800` decodes to a surrogate that has no UTF-8 form: PostgreSQL could not store it."""
    player = await make_player()
    mutation = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { errors { code } } }"
    body = b'{"query": "' + mutation.encode() + b'", "variables": {"i": {"firstName": "A\\ud800B"}}}'
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {player.token}"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", response.text
    assert response.json()["data"] is None


async def test_a_client_that_leaves_mid_body_is_not_a_server_error(live_server: str) -> None:
    """A client that announces a body and hangs up before sending it all (a dropped mobile connection):
    nobody is left to answer and nothing broke, so the server logs no error for it."""
    import asyncio
    from urllib.parse import urlsplit

    from tests.conftest import HELPER_LOGS

    log = HELPER_LOGS["live_server"]
    before = log.stat().st_size
    where = urlsplit(live_server)
    _reader, writer = await asyncio.open_connection(where.hostname, where.port)
    writer.write(
        b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        b'{"query": "{ brands'
    )
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    async with httpx.AsyncClient() as client:  # the server goes on answering, its log written by then
        assert (await client.get(f"{live_server}/healthz")).status_code == 200
    await asyncio.sleep(0.2)
    with log.open("rb") as written:
        written.seek(before)
        assert b"unhandled_error" not in written.read()
