"""Accounts: registration, login, sign-out and every other end of a session, profile and consent changes,
password changes and staff's status changes — each one event of its type, in the player's brand."""

from __future__ import annotations

import uuid
from typing import Any
from unittest.mock import ANY

from tests.conftest import LOGIN, PASSWORD
from tests.events.conftest import Outbox, one, types

LOGOUT = "mutation($input: LogoutInput) { logout(input: $input) { revokedSessions errors { code } } }"
CHANGE_PASSWORD = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { errors { code } } }"
UPDATE_PROFILE = "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { code field } } }"
SET_STATUS = "mutation($input: SetPlayerStatusInput!) { setPlayerStatus(input: $input) { errors { code } } }"


def session_of(token: str) -> str:
    import jwt

    return str(jwt.decode(token, options={"verify_signature": False})["sid"])


async def _login(gql: Any, player: Any, *, password: str = PASSWORD, purpose: str = "PLAY") -> dict[str, Any]:
    ask = {"brand": player.brand, "email": player.email, "password": password, "purpose": purpose}
    payload: dict[str, Any] = (await gql(LOGIN, {"input": ask}))["data"]["login"]
    return payload


async def test_registration_is_one_event_and_signs_the_player_in(rt: Any, make_player: Any, brand: Any) -> None:
    outbox = Outbox(rt)
    player = await make_player(marketingConsent=True)
    got = await outbox.new()
    assert types(got) == ["player.registered", "player.logged_in"]
    registered, logged_in = got
    assert (registered.subject, registered.brand, registered.schema_version) == (f"player:{player.uuid}", brand.id, 1)
    assert registered.data == {
        "player_id": str(player.uuid),
        "currency": "EUR",
        "jurisdiction": ANY,
        "marketing_consent": True,
    }
    assert logged_in.brand == brand.id
    assert logged_in.data == {
        "player_id": str(player.uuid),
        "session_id": session_of(player.token),
        "purpose": "play",
        "method": "registration",
        "two_factor": False,
    }


async def test_a_login_is_one_event_saying_how_never_where_from(
    rt: Any, gql: Any, make_player: Any, brand: Any
) -> None:
    player = await make_player()
    outbox = Outbox(rt)
    await outbox.skip()
    assert (await _login(gql, player, password="wrong-horse-9"))["errors"]
    assert await outbox.new() == []  # a failed login is in the audit log, not an event
    done = await _login(gql, player)
    got = await outbox.new()
    assert types(got) == ["player.logged_in"]
    assert got[0].brand == brand.id
    assert got[0].data == {
        "player_id": str(player.uuid),
        "session_id": session_of(done["tokens"]["accessToken"]),
        "purpose": "play",
        "method": "password",
        "two_factor": False,
    }
    withdrawal = await _login(gql, player, purpose="WITHDRAWAL")
    assert one(await outbox.new(), "player.logged_in").data["purpose"] == "withdrawal"
    assert withdrawal["errors"] == []


async def test_each_ended_session_is_one_event_with_its_reason(rt: Any, gql: Any, make_player: Any) -> None:
    player = await make_player()
    second = (await _login(gql, player))["tokens"]["accessToken"]
    third = (await _login(gql, player))["tokens"]["accessToken"]
    outbox = Outbox(rt)
    await outbox.skip()

    assert (await gql(LOGOUT, {"input": {}}, token=third))["data"]["logout"]["revokedSessions"] == 1
    got = await outbox.new()
    assert types(got) == ["player.session_ended"]
    assert got[0].data == {"player_id": str(player.uuid), "session_id": session_of(third), "reason": "logout"}

    new_password = "battery-staple-7"
    ask = {"currentPassword": PASSWORD, "newPassword": new_password}
    assert (await gql(CHANGE_PASSWORD, {"input": ask}, token=player.token))["data"]["changePassword"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["player.session_ended", "player.password_changed"]  # the other live session ended
    assert got[0].data == {
        "player_id": str(player.uuid),
        "session_id": session_of(second),
        "reason": "password_changed",
    }
    assert got[1].data == {"player_id": str(player.uuid), "sessions_ended": 1}


async def test_a_profile_change_names_the_fields_never_their_values(rt: Any, gql: Any, make_player: Any) -> None:
    player = await make_player(firstName="Annika", phone="+356 2100 0001", marketingConsent=True)
    outbox = Outbox(rt)
    await outbox.skip()

    async def update(**change: Any) -> None:
        payload = (await gql(UPDATE_PROFILE, {"input": change}, token=player.token))["data"]["updateProfile"]
        assert payload["errors"] == [], payload

    await update(firstName="Annika", lastName="Lindqvist", phone="+356 2100 0002")
    got = await outbox.new()
    assert types(got) == ["player.profile_changed"]
    assert got[0].data == {"player_id": str(player.uuid), "fields": ["last_name", "phone"]}  # first name unchanged
    await update(firstName="Annika")
    assert await outbox.new() == []  # nothing changed, nothing to say
    await update(marketingConsent=False)
    got = await outbox.new()
    assert types(got) == ["player.marketing_consent_changed"]
    assert got[0].data == {"player_id": str(player.uuid), "consent": False, "cause": "player"}


async def test_a_block_by_staff_is_a_status_change_and_ends_every_session(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any
) -> None:
    player = await make_player()
    other = (await _login(gql, player))["tokens"]["accessToken"]
    support = await make_staff("support")
    outbox = Outbox(rt)
    await outbox.skip()
    ask = {"playerId": player.id, "status": "BLOCKED", "reason": "Chargeback from +356 2100 0003"}
    assert (await gql(SET_STATUS, {"input": ask}, token=support.token))["data"]["setPlayerStatus"]["errors"] == []
    got = await outbox.new()
    assert sorted(types(got)) == ["player.session_ended", "player.session_ended", "player.status_changed"]
    assert {e.data["session_id"] for e in got if e.type == "player.session_ended"} == {
        session_of(player.token),
        session_of(other),
    }
    assert {e.data["reason"] for e in got if e.type == "player.session_ended"} == {"account_blocked"}
    changed = one(got, "player.status_changed")
    assert changed.brand == brand.id
    assert changed.data == {"player_id": str(player.uuid), "status": "blocked", "staff_id": str(support.id)}
    assert all("2100 0003" not in str(e.envelope) for e in got)  # staff's reason stays inside
    assert uuid.UUID(changed.data["staff_id"]) == support.id


async def test_a_language_or_time_zone_change_names_the_fields(rt: Any, gql: Any, make_player: Any) -> None:
    player = await make_player(language="de", timeZone="Europe/Berlin")
    outbox = Outbox(rt)
    await outbox.skip()
    change = {"language": "de", "timeZone": "Europe/Malta"}
    assert (await gql(UPDATE_PROFILE, {"input": change}, token=player.token))["data"]["updateProfile"]["errors"] == []
    got = await outbox.new()
    assert types(got) == ["player.locale_changed"]
    assert got[0].data == {"player_id": str(player.uuid), "fields": ["time_zone"]}
