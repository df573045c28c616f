"""`balanceChanged` over graphql-transport-ws: a money movement committed by one process reaches a
subscriber served by another (one database, one Redis, the outbox relay in between)."""

from __future__ import annotations

from strawberry import relay

from tests.conftest import fund
from tests.live.conftest import next_data, refusal_codes, subscription

BALANCE = """
subscription Balance($playerId: ID) {
  balanceChanged(playerId: $playerId) {
    transactionId kind
    balances { currency cash { amount currency } bonus { amount } withdrawalPending { amount } }
  }
}"""


async def test_a_deposit_in_one_process_reaches_the_players_subscription_on_another(
    live_server, rt, make_player
) -> None:
    player = await make_player()
    async with subscription(live_server, player.token, BALANCE) as socket:
        first = (await next_data(socket))["balanceChanged"]
        assert (first["transactionId"], first["kind"]) == (None, "snapshot")  # subscribed: now listening
        assert first["balances"][0]["cash"] == {"amount": "0.00", "currency": "EUR"}

        result = await fund(rt, player, "25.00 EUR", deposit=True)

        update = (await next_data(socket))["balanceChanged"]
        assert update["kind"] == "deposit"
        assert relay.GlobalID.from_id(update["transactionId"]).node_id == str(result.transaction_id)
        assert update["balances"] == [
            {
                "currency": "EUR",
                "cash": {"amount": "25.00", "currency": "EUR"},
                "bonus": {"amount": "0.00"},
                "withdrawalPending": {"amount": "0.00"},
            }
        ]

        await fund(rt, player, "5.00 EUR", deposit=True)
        assert (await next_data(socket))["balanceChanged"]["balances"][0]["cash"]["amount"] == "30.00"


async def test_staff_watch_a_player_of_their_brand(live_server, rt, client, make_player, make_staff) -> None:
    player = await make_player(balance="10.00 EUR")
    client.cookies.clear()
    staff = await make_staff("support")
    async with subscription(live_server, staff.token, BALANCE, {"playerId": player.id}, brand="royal") as socket:
        snapshot = (await next_data(socket))["balanceChanged"]
        assert snapshot["balances"][0]["cash"]["amount"] == "10.00"
        await fund(rt, player, "1.50 EUR")
        assert (await next_data(socket))["balanceChanged"]["balances"][0]["cash"]["amount"] == "11.50"


async def test_a_player_cannot_watch_another_players_balance(live_server, make_player) -> None:
    me, other = await make_player(), await make_player()
    async with subscription(live_server, me.token, BALANCE, {"playerId": other.id}) as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]


async def test_staff_cannot_watch_a_player_of_another_brand(
    live_server, gql, client, make_player, make_staff, other_brand
) -> None:
    outsider = await make_player(brand_code="northstar", country="SE", currency="SEK")
    client.cookies.clear()
    staff = await make_staff("support")
    async with subscription(live_server, staff.token, BALANCE, {"playerId": outsider.id}, brand="royal") as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]


async def test_roles_without_money_access_cannot_watch_balances(live_server, client, make_player, make_staff) -> None:
    player = await make_player()
    client.cookies.clear()
    staff = await make_staff("marketing")
    async with subscription(live_server, staff.token, BALANCE, {"playerId": player.id}, brand="royal") as socket:
        assert await refusal_codes(socket) == ["FORBIDDEN"]


async def test_a_process_serves_more_subscriptions_than_redis_connections(live_server, rt, make_player) -> None:
    """Subscriptions share one Redis connection per process: the 101st is served like the first (each
    used to hold its own connection, and the client's pool stops at 100: it failed with INTERNAL)."""
    import asyncio
    import json

    from websockets.asyncio.client import connect

    from tests.live.conftest import receive, ws_url

    player = await make_player()
    sockets = []
    try:
        for _ in range(11):  # 11 connections, 10 subscriptions each (the cap per connection)
            socket = await connect(ws_url(live_server), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
            sockets.append(socket)
            await socket.send(
                json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {player.token}"}})
            )
            assert (await receive(socket))["type"] == "connection_ack"
            for n in range(10):
                await socket.send(json.dumps({"id": str(n), "type": "subscribe", "payload": {"query": BALANCE}}))

        async def kinds(socket, count: int) -> list[str]:
            found = []
            for _ in range(count):
                message = await receive(socket, 20)
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                found.append(message["payload"]["data"]["balanceChanged"]["kind"])
            return found

        snapshots = await asyncio.gather(*(kinds(s, 10) for s in sockets))
        assert [k for ks in snapshots for k in ks] == ["snapshot"] * 110
        await fund(rt, player, "3.00 EUR", deposit=True)
        updates = await asyncio.gather(*(kinds(s, 10) for s in sockets))
        assert [k for ks in updates for k in ks] == ["deposit"] * 110
    finally:
        for socket in sockets:
            await socket.close()
