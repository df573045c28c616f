"""Subscriptions over graphql-transport-ws against a live `croupier serve` (same database and Redis)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, NegotiationError

from core import events
from tests.conftest import PASSWORD

SUBSCRIBE = "subscription { accountEvents { kind status } }"
SET_STATUS = """
mutation SetStatus($input: SetPlayerStatusInput!) {
  setPlayerStatus(input: $input) { player { status } errors { code message } }
}"""


def ws_url(base: str) -> str:
    return base.replace("http://", "ws://", 1) + "/graphql"


async def receive(socket: ClientConnection, seconds: float = 10) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), seconds))
    return message


async def wait_for_listener(rt: Any, channel: str, seconds: float = 10) -> None:
    """Until the live server has subscribed to the Redis channel (so no event is published too early)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        counts = dict(await rt.redis.pubsub_numsub(channel))
        if counts.get(channel.encode(), counts.get(channel, 0)):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the live server never listened on {channel}")


async def test_blocked_player_is_told_at_once(
    live_server: str, rt, gql, client: httpx.AsyncClient, make_player, make_staff
) -> None:
    player = await make_player()
    client.cookies.clear()  # registerPlayer's auth cookies would make the staff login cookie-authenticated
    staff = await make_staff("support")

    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        assert socket.subprotocol == "graphql-transport-ws"
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {player.token}"}})
        )
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        await wait_for_listener(rt, events.player_channel(player.uuid))

        body = await gql(
            SET_STATUS,
            {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "fraud check"}},
            token=staff.token,
        )
        assert body["data"]["setPlayerStatus"] == {"player": {"status": "BLOCKED"}, "errors": []}, body

        message = await receive(socket)
        assert (message["id"], message["type"]) == ("1", "next"), message
        assert "errors" not in message["payload"], message
        assert message["payload"]["data"] == {"accountEvents": {"kind": "status_changed", "status": "BLOCKED"}}


async def test_invalid_token_in_connection_init_closes_with_4403(live_server: str) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": "Bearer not-a-real-token"}})
        )
        with pytest.raises(ConnectionClosed) as closed:
            await receive(socket)
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4403


async def test_anonymous_connection_cannot_subscribe_to_account_events(live_server: str) -> None:
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        message = await receive(socket)
        # Refused either as an `error` message or as a `next` without data (then `complete`).
        if message["type"] == "error":
            errors = message["payload"]
        else:
            assert message["type"] == "next", message
            assert message["payload"]["data"] is None, message
            errors = message["payload"]["errors"]
        assert errors, message
        # Nobody logged in: log in first (as for any protected field), not "you may never".
        assert [error["extensions"]["code"] for error in errors] == ["UNAUTHENTICATED"], message


async def test_legacy_graphql_ws_protocol_is_refused(live_server: str) -> None:
    try:
        async with connect(ws_url(live_server), subprotocols=["graphql-ws"]) as socket:  # type: ignore[list-item]
            # The handshake may complete without agreeing on a protocol; then the server must close.
            assert socket.subprotocol != "graphql-ws"
            with pytest.raises(ConnectionClosed) as closed:
                await receive(socket)  # closed by the server without waiting for connection_init
    except (InvalidStatus, NegotiationError):
        return  # refused during the handshake
    assert closed.value.rcvd is not None
    assert closed.value.rcvd.code == 4406


async def test_a_rate_limited_subject_cannot_open_subscriptions(live_server: str, rt, make_player) -> None:
    player = await make_player()
    limit = rt.settings.requests_per_minute_per_subject
    await rt.rate_limiter.hit(f"req:player:{player.uuid}", limit=limit, window=60, cost=limit)  # the minute is spent

    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {player.token}"}})
        )
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIBE}}))
        message = await receive(socket)
    assert message["type"] in ("next", "error"), message
    errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
    assert [e["extensions"]["code"] for e in errors] == ["RATE_LIMITED"], message
    assert errors[0]["extensions"]["retryAfter"] > 0
    channel = events.player_channel(player.uuid)
    listeners = dict(await rt.redis.pubsub_numsub(channel))
    assert not listeners.get(channel.encode(), listeners.get(channel, 0))  # the source stream never started


PLAY_SUBSCRIPTIONS = [
    "subscription { accountEvents { kind } }",
    "subscription { realityCheck { kind } }",
    "subscription { ...Events } fragment Events on Subscription { accountEvents { kind } }",
]
LOGIN_FOR = """
mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } errors { code } } }"""


async def player_session(gql: Any, player: Any, purpose: str) -> str:
    body = await gql(
        LOGIN_FOR, {"input": {"brand": "royal", "email": player.email, "password": PASSWORD, "purpose": purpose}}
    )
    assert body["data"]["login"]["errors"] == [], body
    token: str = body["data"]["login"]["tokens"]["accessToken"]
    return token


@pytest.mark.parametrize("subscription", PLAY_SUBSCRIPTIONS)
async def test_a_withdrawal_only_session_is_refused_play_subscriptions_when_it_subscribes(
    live_server: str, rt, gql, make_player, subscription: str
) -> None:
    player = await make_player()
    channel = events.player_channel(player.uuid)
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        token = await player_session(gql, player, "WITHDRAWAL")
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}}))
        message = await receive(socket, seconds=5)  # at once, not when an event comes
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert message["type"] == "error" or message["payload"]["data"] is None, message
        assert [error["extensions"]["code"] for error in errors] == ["FORBIDDEN"], message
        listeners = dict(await rt.redis.pubsub_numsub(channel))
        assert not listeners.get(channel.encode(), listeners.get(channel, 0))  # the source stream never started

        # The same player's play session may subscribe.
        play = await player_session(gql, player, "PLAY")
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {play}"}}))
        assert (await receive(socket))["type"] == "connection_ack"
        await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": subscription}}))
        await wait_for_listener(rt, channel)
