"""Ending a login session ends the game sessions launched from it (services/game_sessions.py).

Driven as the player and the aggregator drive it: games launched through GraphQL from two login
sessions of one player (a laptop and a phone), each with a round left open; then a login session ends
(logout, logout everywhere, revoking the lost phone, a password change, a staff block, a reused refresh
token). The ended session's game token takes no more bets, while the win and the rollback of its open
rounds still settle (the Hub88 contract checks expiry on bets only); the other device's game plays on.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select
from strawberry import relay

from models.games import Game, GameSession
from tests.conftest import LOGIN, PASSWORD
from tests.providers.conftest import GAME, Aggregator, Seat, SoftswissProvider, cash, fund

EUR = 100_000  # one euro in Hub88 units
LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code field message } } }"""
LOGOUT = """
mutation($input: LogoutInput) { logout(input: $input) { revokedSessions errors { code } } }"""
SESSIONS = "{ me { sessions { edges { node { id current revokedAt } } } } }"
REVOKE = """
mutation($input: RevokeSessionInput!) { revokeSession(input: $input) { session { id } errors { code } } }"""
CHANGE_PASSWORD = """
mutation($input: ChangePasswordInput!) { changePassword(input: $input) { changed errors { code } } }"""
SET_STATUS = """
mutation($input: SetPlayerStatusInput!) { setPlayerStatus(input: $input) { player { status } errors { code } } }"""
REFRESH = """
mutation($input: RefreshTokenInput) { refreshToken(input: $input) { tokens { accessToken } errors { code } } }"""


@dataclass
class Device:
    """One login session of the player and the game it launched, with a bet left open in round `open`."""

    access_token: str
    refresh_token: str
    seat: Seat
    open_bet: str = ""
    open_round: str = ""


async def launch_token(gql: Any, rt: Any, provider: Any, access_token: str) -> str:
    async with rt.database.session() as db:
        game_id = await db.scalar(select(Game.id).where(Game.provider_id == provider.id, Game.code == GAME))
    body = await gql(
        LAUNCH, {"input": {"gameId": str(relay.GlobalID("Game", str(game_id))), "mode": "REAL"}}, token=access_token
    )
    payload = body["data"]["launchGame"]
    assert payload["errors"] == [], payload
    return parse_qs(urlsplit(payload["launchUrl"]).query)["token"][0]


@pytest.fixture
def two_devices(gql: Any, rt: Any, make_player: Any, hub88_provider: Any) -> Any:
    """A funded player logged in twice, a game launched from each login, and an open round in each."""

    async def make(aggregator: Aggregator | None = None, provider: Any = None) -> tuple[Any, Device, Device]:
        player = await make_player()
        await fund(rt, player.uuid, 10_000)
        second = await gql(LOGIN, {"input": {"brand": "royal", "email": player.email, "password": PASSWORD}})
        tokens = second["data"]["login"]["tokens"]
        devices = []
        for access, refresh in ((player.token, player.refresh_token), (tokens["accessToken"], tokens["refreshToken"])):
            token = await launch_token(gql, rt, provider or hub88_provider, access)
            devices.append(Device(access, refresh, Seat(str(player.uuid), player.uuid, token)))
        if aggregator is not None:
            for n, device in enumerate(devices):
                device.open_round = f"open-{n}"
                bet = device.seat.bet(EUR, round_ref=device.open_round)
                assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
                device.open_bet = bet["transaction_uuid"]
        return player, devices[0], devices[1]

    return make


async def assert_ended(
    aggregator: Aggregator, rt: Any, device: Device, refused: str = "RS_ERROR_TOKEN_EXPIRED"
) -> None:
    """No new bet on the ended game; its open round's win still lands, and a rollback still undoes."""
    before = await cash(rt, device.seat.player_id)
    answer = await aggregator.call("transaction/bet", device.seat.bet(EUR, round_ref="after-the-end"))
    assert answer["status"] == refused
    assert await cash(rt, device.seat.player_id) == before
    win = await aggregator.call(
        "transaction/win", device.seat.win(3 * EUR, device.open_bet, round_ref=device.open_round, closed=False)
    )
    assert win["status"] == "RS_OK"
    assert await cash(rt, device.seat.player_id) == before + 300
    undone = await aggregator.call(
        "transaction/rollback", device.seat.rollback(device.open_bet, round_ref=device.open_round)
    )
    assert undone["status"] == "RS_OK"
    assert await cash(rt, device.seat.player_id) == before + 300 + 100


async def assert_plays(aggregator: Aggregator, rt: Any, device: Device) -> None:
    before = await cash(rt, device.seat.player_id)
    answer = await aggregator.call("transaction/bet", device.seat.bet(EUR, round_ref=f"still-{uuid.uuid4()}"))
    assert answer["status"] == "RS_OK"
    assert await cash(rt, device.seat.player_id) == before - 100


async def test_logout_ends_that_login_s_game_and_no_other(
    gql: Any, rt: Any, aggregator: Aggregator, two_devices: Any
) -> None:
    _, laptop, phone = await two_devices(aggregator)
    out = await gql(LOGOUT, {"input": {"allSessions": False}}, token=phone.access_token)
    assert out["data"]["logout"] == {"revokedSessions": 1, "errors": []}
    await assert_ended(aggregator, rt, phone)
    await assert_plays(aggregator, rt, laptop)


async def test_logout_everywhere_ends_every_game(gql: Any, rt: Any, aggregator: Aggregator, two_devices: Any) -> None:
    _, laptop, phone = await two_devices(aggregator)
    out = await gql(LOGOUT, {"input": {"allSessions": True}}, token=laptop.access_token)
    assert out["data"]["logout"] == {"revokedSessions": 2, "errors": []}
    await assert_ended(aggregator, rt, laptop)
    await assert_ended(aggregator, rt, phone)


async def test_revoking_a_lost_phone_ends_its_game(gql: Any, rt: Any, aggregator: Aggregator, two_devices: Any) -> None:
    _, laptop, phone = await two_devices(aggregator)
    edges = (await gql(SESSIONS, token=laptop.access_token))["data"]["me"]["sessions"]["edges"]
    [lost] = [e["node"]["id"] for e in edges if not e["node"]["current"]]
    revoked = await gql(REVOKE, {"input": {"sessionId": lost}}, token=laptop.access_token)
    assert revoked["data"]["revokeSession"]["errors"] == []
    await assert_ended(aggregator, rt, phone)
    await assert_plays(aggregator, rt, laptop)


async def test_a_password_change_ends_the_other_logins_games(
    gql: Any, rt: Any, aggregator: Aggregator, two_devices: Any
) -> None:
    _, laptop, phone = await two_devices(aggregator)
    changed = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "another-horse-7"}},
        token=laptop.access_token,
    )
    assert changed["data"]["changePassword"] == {"changed": True, "errors": []}
    await assert_ended(aggregator, rt, phone)
    await assert_plays(aggregator, rt, laptop)  # the session that changed it stays, and its game


async def test_a_reused_refresh_token_ends_that_login_s_game(
    gql: Any, rt: Any, aggregator: Aggregator, two_devices: Any
) -> None:
    _, laptop, phone = await two_devices(aggregator)
    for attempt in ("first", "stolen copy"):
        body = await gql(REFRESH, {"input": {"refreshToken": phone.refresh_token}})
        assert (body["data"]["refreshToken"]["errors"] == []) is (attempt == "first")
    await assert_ended(aggregator, rt, phone)
    await assert_plays(aggregator, rt, laptop)


async def test_a_staff_block_ends_every_game_for_good(
    gql: Any, rt: Any, aggregator: Aggregator, two_devices: Any, make_staff: Any, hub88_provider: Any
) -> None:
    player, laptop, phone = await two_devices(aggregator)
    support = await make_staff("support")

    async def set_status(status: str) -> None:
        body = await gql(
            SET_STATUS, {"input": {"playerId": player.id, "status": status, "reason": "review"}}, token=support.token
        )
        assert body["data"]["setPlayerStatus"]["errors"] == [], body

    await set_status("BLOCKED")
    # While blocked the provider hears why; the open rounds settle all the same.
    await assert_ended(aggregator, rt, laptop, refused="RS_ERROR_USER_DISABLED")
    await set_status("ACTIVE")
    # Unblocked, the games launched before the block stay over; a new login launches a new one.
    await assert_ended(aggregator, rt, phone)
    stale = await aggregator.call("transaction/bet", laptop.seat.bet(EUR, round_ref="stale"))
    assert stale["status"] == "RS_ERROR_TOKEN_EXPIRED"
    login = await gql(LOGIN, {"input": {"brand": "royal", "email": player.email, "password": PASSWORD}})
    token = await launch_token(gql, rt, hub88_provider, login["data"]["login"]["tokens"]["accessToken"])
    await assert_plays(aggregator, rt, Device("", "", Seat(str(player.uuid), player.uuid, token)))


async def test_a_launch_racing_a_logout_is_refused(
    gql: Any, rt: Any, aggregator: Aggregator, make_player: Any, hub88_provider: Any
) -> None:
    """The launch authenticated just before its login session ended (the revocation is committed, its
    Redis mark not yet there): the launch is refused and leaves no game session behind."""
    from sqlalchemy import text

    player = await make_player()
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE auth_sessions SET revoked_at = now(), revoke_reason = 'logout' WHERE subject_id = :p"),
            {"p": player.uuid},
        )
    async with rt.database.session() as db:
        game_id = await db.scalar(select(Game.id).where(Game.provider_id == hub88_provider.id, Game.code == GAME))
    body = await gql(
        LAUNCH, {"input": {"gameId": str(relay.GlobalID("Game", str(game_id))), "mode": "REAL"}}, token=player.token
    )
    assert [e["code"] for e in body["data"]["launchGame"]["errors"]] == ["TOKEN_INVALID"]
    async with rt.database.session() as db:
        assert (await db.execute(select(GameSession.id))).first() is None


# ---- the SoftSwiss-style protocol: the same rule behind its own codes --------------------------------


async def test_softswiss_refuses_bets_after_logout_and_settles_the_open_round(
    gql: Any, rt: Any, softswiss: SoftswissProvider, softswiss_provider: Any, two_devices: Any
) -> None:
    _, laptop, phone = await two_devices(provider=softswiss_provider)

    def play(device: Device, *actions: dict[str, Any], round_ref: str, finished: bool = False) -> dict[str, Any]:
        return {
            "user_id": device.seat.user,
            "session_id": device.seat.token,
            "currency": "EUR",
            "game": GAME,
            "game_id": round_ref,
            "finished": finished,
            "actions": list(actions),
        }

    stake = {"action": "bet", "action_id": "phone-bet", "amount": 100}
    assert (await softswiss.play(play(phone, stake, round_ref="open"))).status_code == 200
    out = await gql(LOGOUT, {"input": {"allSessions": False}}, token=phone.access_token)
    assert out["data"]["logout"]["revokedSessions"] == 1
    before = await cash(rt, phone.seat.player_id)

    late = await softswiss.play(play(phone, {"action": "bet", "action_id": "late", "amount": 100}, round_ref="next"))
    assert late.status_code == 412
    assert late.json()["code"] == 101
    assert await cash(rt, phone.seat.player_id) == before
    settled = await softswiss.play(
        play(phone, {"action": "win", "action_id": "phone-win", "amount": 250}, round_ref="open", finished=True)
    )
    assert settled.status_code == 200, settled.text
    assert await cash(rt, phone.seat.player_id) == before + 250
    still = await softswiss.play(play(laptop, {"action": "bet", "action_id": "laptop", "amount": 100}, round_ref="l"))
    assert still.status_code == 200, still.text
