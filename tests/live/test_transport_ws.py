"""graphql-transport-ws as our own endpoint speaks it (schema/transport_ws.py), through the public
WebSocket of a live server: each close code of the protocol, `complete` from the client, the session's
end, and a subscription served on the lean path answering exactly what strawberry answers."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from core import events, processes
from tests.conftest import ROOT, TEST_ENV, fund, helper_log
from tests.live.conftest import next_data, receive, subscription, ws_url
from tests.test_subscriptions import wait_for_listener

BALANCE = "subscription { balanceChanged { transactionId kind balances { currency cash { amount } } } }"
# The same selection through a fragment: not the lean path's shape, so strawberry serves it.
BALANCE_BY_FRAGMENT = (
    "subscription { ...B } fragment B on Subscription "
    "{ balanceChanged { transactionId kind balances { currency cash { amount } } } }"
)


async def opened(base: str, token: str | None = None) -> ClientConnection:
    socket = await connect(ws_url(base), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    payload = {"authorization": f"Bearer {token}"} if token else {}
    await socket.send(json.dumps({"type": "connection_init", "payload": payload}))
    assert (await receive(socket))["type"] == "connection_ack"
    return socket


async def closed_with(socket: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        while True:
            await receive(socket)
    await socket.close()
    return socket.close_code, socket.close_reason


def subscribe(operation_id: str, query: str = BALANCE) -> str:
    return json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": query}})


async def listeners(rt: Any, channel: str) -> int:
    counts = dict(await rt.redis.pubsub_numsub(channel))
    return int(counts.get(channel.encode(), counts.get(channel, 0)))


async def test_a_duplicate_operation_id_closes_with_4409(live_server, make_player) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    await socket.send(subscribe("1"))
    assert (await receive(socket))["type"] == "next"
    await socket.send(subscribe("1"))
    assert await closed_with(socket) == (4409, "Subscriber for 1 already exists")


async def test_subscribe_before_the_acknowledgement_closes_with_4401(live_server) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "ping"}))
        assert await receive(socket) == {"type": "pong"}  # a ping is answered before connection_init too
        await socket.send(subscribe("1"))
        assert await closed_with(socket) == (4401, "Unauthorized")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{not json", 4400),
        (json.dumps({"type": "subscribed", "id": "1"}), 4400),  # an unknown message type
        (json.dumps({"type": "connection_init", "payload": {}}), 4429),  # a second connection_init
    ],
)
async def test_what_the_protocol_does_not_allow_closes_the_socket(live_server, raw: str, code: int) -> None:
    socket = await opened(live_server)
    await socket.send(raw)
    assert (await closed_with(socket))[0] == code


async def test_a_binary_frame_closes_with_4400(live_server) -> None:
    socket = await opened(live_server)
    await socket.send(json.dumps({"type": "ping"}).encode())
    assert await closed_with(socket) == (4400, "WebSocket message type must be text")


async def test_a_connection_init_payload_that_is_not_an_object_closes_with_4400(live_server) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": ["Bearer x"]}))
        assert await closed_with(socket) == (4400, "Invalid connection init payload")


async def test_ping_pong_and_a_pong_needs_no_answer(live_server) -> None:
    socket = await opened(live_server)
    await socket.send(json.dumps({"type": "pong"}))
    await socket.send(json.dumps({"type": "ping", "payload": {"at": 1}}))
    assert await receive(socket) == {"type": "pong"}
    await socket.close()


async def test_complete_from_the_client_ends_the_subscription_and_frees_its_id(live_server, rt, make_player) -> None:
    player = await make_player()
    channel = events.player_channel(player.uuid)
    socket = await opened(live_server, player.token)
    await socket.send(subscribe("1"))
    assert (await receive(socket))["payload"]["data"]["balanceChanged"]["kind"] == "snapshot"
    assert await listeners(rt, channel) == 1

    await socket.send(json.dumps({"id": "1", "type": "complete"}))
    for _ in range(100):  # the server leaves the channel (the hub unsubscribes once nobody listens)
        if not await listeners(rt, channel):
            break
        await asyncio.sleep(0.05)
    assert await listeners(rt, channel) == 0
    await fund(rt, player, "1.00 EUR", deposit=True)
    await socket.send(json.dumps({"type": "ping"}))
    assert await receive(socket) == {"type": "pong"}  # no update came for the completed operation

    await socket.send(subscribe("1"))  # the id may be used again
    again = await receive(socket)
    assert (again["id"], again["payload"]["data"]["balanceChanged"]["kind"]) == ("1", "snapshot")
    assert again["payload"]["data"]["balanceChanged"]["balances"][0]["cash"]["amount"] == "1.00"
    await socket.close()


async def test_a_closed_socket_leaves_the_hub(live_server, rt, make_player) -> None:
    player = await make_player()
    channel = events.player_channel(player.uuid)
    async with subscription(live_server, player.token, BALANCE) as socket:
        await next_data(socket)
        assert await listeners(rt, channel) == 1
    for _ in range(100):
        if not await listeners(rt, channel):
            break
        await asyncio.sleep(0.05)
    assert await listeners(rt, channel) == 0


async def test_more_operations_than_the_limit_are_refused_on_their_id(live_server, rt, make_player) -> None:
    player = await make_player()
    socket = await opened(live_server, player.token)
    limit = rt.settings.graphql_max_subscriptions_per_connection
    for n in range(limit):
        await socket.send(subscribe(str(n)))
    for _ in range(limit):
        assert (await receive(socket))["type"] == "next"
    await socket.send(subscribe("extra"))
    assert await receive(socket) == {
        "id": "extra",
        "type": "error",
        "payload": [{"message": "Subscription limit reached"}],
    }
    await socket.close()


async def test_the_lean_path_answers_what_strawberry_answers(live_server, rt, make_player) -> None:
    """The same selection, once as a plain subscription (served by the lean path) and once through a
    fragment (served by strawberry): every payload is the same, snapshot and update."""
    player = await make_player(balance="4.00 EUR")
    socket = await opened(live_server, player.token)
    await socket.send(subscribe("lean", BALANCE))
    await socket.send(subscribe("strawberry", BALANCE_BY_FRAGMENT))
    first = {m["id"]: m for m in [await receive(socket), await receive(socket)]}
    await fund(rt, player, "2.50 EUR", deposit=True)
    second = {m["id"]: m for m in [await receive(socket), await receive(socket)]}
    for messages in (first, second):
        assert messages["lean"]["type"] == messages["strawberry"]["type"] == "next"
        assert messages["lean"]["payload"] == messages["strawberry"]["payload"]
    assert second["lean"]["payload"]["data"]["balanceChanged"]["balances"][0]["cash"]["amount"] == "6.50"
    assert second["lean"]["payload"]["extensions"]["cost"]["requested"] > 0
    await socket.close()


async def test_a_revoked_session_ends_the_subscription(live_server, rt, make_player) -> None:
    from services import auth

    player = await make_player()
    socket = await opened(live_server, player.token)
    await socket.send(subscribe("1"))
    assert (await receive(socket))["type"] == "next"
    async with rt.database.transaction() as db:
        revoked = await auth.revoke_sessions(db, subject_type="player", subject_id=player.uuid, reason="logout")
    await auth.after_commit_revoked(rt, revoked)
    await fund(rt, player, "1.00 EUR", deposit=True)
    ended = await receive(socket)
    assert ended == {
        "id": "1",
        "type": "next",
        "payload": {
            "data": None,
            "errors": [
                {
                    "message": "The session has ended: log in and subscribe again.",
                    "extensions": {"code": "UNAUTHENTICATED"},
                }
            ],
            "extensions": ended["payload"]["extensions"],
        },
    }
    assert await receive(socket) == {"id": "1", "type": "complete"}
    await socket.close()


async def test_an_expired_token_ends_the_subscription(live_server, rt, make_player) -> None:
    player = await make_player()
    claims = {"sub": f"player:{player.uuid}", "sid": str(uuid.uuid4()), "typ": "access", "brand": None}
    from sqlalchemy import select

    from models.auth import AuthSession

    async with rt.database.session() as db:
        session = (await db.execute(select(AuthSession).where(AuthSession.subject_id == player.uuid))).scalars().first()
    assert session is not None
    claims.update(sid=str(session.id), brand=str(session.brand_id))
    token = rt.keyring.issue(
        claims, issuer=rt.settings.jwt_issuer, audience=rt.settings.jwt_audience, ttl=timedelta(seconds=3)
    )
    socket = await opened(live_server, token)
    await socket.send(subscribe("1"))
    assert (await receive(socket))["payload"]["data"]["balanceChanged"]["kind"] == "snapshot"
    await wait_for_listener(rt, events.player_channel(player.uuid))
    await asyncio.sleep(3.5)
    await fund(rt, player, "1.00 EUR", deposit=True)
    ended = await receive(socket)
    assert ended["payload"]["data"] is None, ended
    assert [e["extensions"]["code"] for e in ended["payload"]["errors"]] == ["UNAUTHENTICATED"]
    assert await receive(socket) == {"id": "1", "type": "complete"}
    await socket.close()


# ---- connection_init's deadline, on a server of its own with a short one -----------------------------


@pytest.fixture(scope="module")
def impatient_server(app: Any) -> Iterator[str]:
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    process = processes.start_and_wait(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        health_url=f"{base}/readyz",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV, "GRAPHQL_WS_INIT_SECONDS": "0.5"},
        timeout=60,
        log_file=helper_log("impatient_server"),
    )
    yield base
    processes.stop(process)


async def test_no_connection_init_in_time_closes_with_4408(impatient_server) -> None:
    async with connect(ws_url(impatient_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        assert await closed_with(socket) == (4408, "Connection initialisation timeout")


async def test_a_connection_init_in_time_is_not_closed_later(impatient_server, make_player) -> None:
    player = await make_player()
    socket = await opened(impatient_server, player.token)
    await asyncio.sleep(1.0)
    await socket.send(subscribe("1"))
    assert (await receive(socket))["type"] == "next"
    await socket.close()


# ---- found in review (review-ws) --------------------------------------------------------------------


async def test_a_null_connection_init_payload_is_an_empty_one(live_server) -> None:
    """PROTOCOL.md: `payload?: Record<string, unknown> | null`; graphql-ws clients send null when their
    connectionParams give nothing."""
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": None}))
        assert (await receive(socket))["type"] == "connection_ack"


async def test_operations_that_ended_free_their_place_under_the_limit(live_server, rt, make_player) -> None:
    """An operation ended by the server (an error on its stream, a refusal) or completed by the client no
    longer counts against the per-connection limit."""
    me, other = await make_player(), await make_player()
    socket = await opened(live_server, me.token)
    limit = rt.settings.graphql_max_subscriptions_per_connection
    forbidden = json.dumps(
        {
            "id": "",
            "type": "subscribe",
            "payload": {"query": "subscription ($p: ID) { balanceChanged(playerId: $p) { kind } }"},
        }
    )
    for n in range(limit + 2):  # each ends with next (FORBIDDEN) and complete
        message = json.loads(forbidden)
        message["id"], message["payload"]["variables"] = f"f{n}", {"p": other.id}
        await socket.send(json.dumps(message))
        assert (await receive(socket))["type"] == "next"
        assert await receive(socket) == {"id": f"f{n}", "type": "complete"}
    for n in range(limit):
        await socket.send(subscribe(f"c{n}"))
        assert (await receive(socket))["type"] == "next"
        await socket.send(json.dumps({"id": f"c{n}", "type": "complete"}))
    for n in range(limit):
        await socket.send(subscribe(f"s{n}"))
        assert (await receive(socket))["type"] == "next"
    await socket.send(subscribe("extra"))
    assert (await receive(socket))["type"] == "error"
    await socket.close()


async def test_many_subscribe_and_complete_cycles_leave_nothing_subscribed(live_server, rt, make_player) -> None:
    player = await make_player()
    channel = events.player_channel(player.uuid)
    socket = await opened(live_server, player.token)
    for n in range(60):
        await socket.send(subscribe(str(n % 3)))
        assert (await receive(socket))["type"] == "next"
        await socket.send(json.dumps({"id": str(n % 3), "type": "complete"}))
    await socket.send(json.dumps({"type": "ping"}))
    assert await receive(socket) == {"type": "pong"}
    for _ in range(100):
        if not await listeners(rt, channel):
            break
        await asyncio.sleep(0.05)
    assert await listeners(rt, channel) == 0
    await socket.send(subscribe("again"))  # and the connection still serves
    assert (await receive(socket))["payload"]["data"]["balanceChanged"]["kind"] == "snapshot"
    assert await listeners(rt, channel) == 1
    await socket.close()


@pytest.mark.parametrize(
    "raw",
    [
        json.dumps({"type": "x" * 300}),  # an unknown type, named in the reason
        subscribe("1", "y" * 300),  # a syntax error, quoting the document
    ],
)
async def test_a_close_reason_naming_client_text_still_closes_with_4400(live_server, make_player, raw: str) -> None:
    """A close frame's reason is at most 123 bytes (RFC 6455 § 5.5): a reason quoting what the client sent
    is cut, not a close that fails and leaves the socket half open."""
    player = await make_player()
    socket = await opened(live_server, player.token)
    await socket.send(raw)
    code, reason = await closed_with(socket)
    assert code == 4400
    assert reason is not None
    assert 0 < len(reason.encode()) <= 123


async def test_a_document_that_does_not_parse_closes_with_4400_and_says_why(live_server, make_player) -> None:
    """As strawberry meant it (schema/transport_ws.py `_close_reason`): not a bare `complete`."""
    player = await make_player()
    socket = await opened(live_server, player.token)
    await socket.send(subscribe("1", "subscription {"))
    assert await closed_with(socket) == (4400, "Syntax Error: Expected Name, found <EOF>.")


async def test_a_server_stopping_closes_open_subscriptions_with_1012_and_exits(app: Any, make_player) -> None:
    """SIGTERM with subscriptions open (one on the lean path, one through strawberry): each socket hears
    1012 (service restart) and the process exits, not held by an operation task or the hub."""
    import signal
    import subprocess

    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    process = processes.start_and_wait(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        health_url=f"{base}/readyz",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV},
        timeout=60,
        log_file=helper_log("stopping_server"),
    )
    try:
        player = await make_player()
        socket = await opened(base, player.token)
        await socket.send(subscribe("lean"))
        await socket.send(subscribe("strawberry", BALANCE_BY_FRAGMENT))
        assert {(await receive(socket))["id"], (await receive(socket))["id"]} == {"lean", "strawberry"}
        process.send_signal(signal.SIGTERM)
        assert (await closed_with(socket))[0] == 1012
        try:
            code = await asyncio.to_thread(process.wait, 20)
        except subprocess.TimeoutExpired:
            pytest.fail("the server did not exit within 20 s of SIGTERM with subscriptions open")
        assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal it handled once it has shut down
    finally:
        processes.stop(process)
