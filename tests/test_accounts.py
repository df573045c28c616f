"""Player and staff accounts through the GraphQL surface: registration rules, password change,
sessions, account status, and staff two-factor login."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, text
from strawberry import relay

from core.clock import clock
from tests.conftest import LOGIN, ME, PASSWORD, REGISTER, STAFF_LOGIN, error_codes, next_totp

REFRESH = """
mutation Refresh($input: RefreshTokenInput) {
  refreshToken(input: $input) { tokens { accessToken } errors { code field } }
}"""
CHANGE_PASSWORD = """
mutation Change($input: ChangePasswordInput!) {
  changePassword(input: $input) { changed errors { code field message } }
}"""
SESSIONS = """
{ me { sessions { edges { node { id device ip country current userAgent revokedAt } } } } }"""
REVOKE_SESSION = """
mutation Revoke($input: RevokeSessionInput!) {
  revokeSession(input: $input) { session { id current revokedAt } errors { code field message } }
}"""
SET_PLAYER_STATUS = """
mutation SetStatus($input: SetPlayerStatusInput!) {
  setPlayerStatus(input: $input) { player { id status statusReason } errors { code field message } }
}"""
SET_STAFF_STATUS = """
mutation SetStaffStatus($input: SetStaffStatusInput!) {
  setStaffStatus(input: $input) { staff { id status } errors { code field message } }
}"""
CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Mobile/15E148 Safari/604.1"
)


# ---- helpers -----------------------------------------------------------------------------------


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def assert_unauthenticated(gql: Any, token: str) -> None:
    body = await gql(ME, token=token)
    assert error_codes(body) == ["UNAUTHENTICATED"], body


async def assert_authenticated_as(gql: Any, token: str, player_id: str) -> None:
    body = await gql(ME, token=token)
    assert "errors" not in body, body
    assert body["data"]["me"] == {"id": player_id}


async def login(
    gql: Any, email: str, password: str = PASSWORD, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    body = await gql(LOGIN, {"input": {"brand": "royal", "email": email, "password": password}}, headers=headers)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["login"]
    return payload


async def login_tokens(
    gql: Any, email: str, password: str = PASSWORD, *, headers: dict[str, str] | None = None
) -> dict[str, str]:
    payload = await login(gql, email, password, headers=headers)
    assert payload["errors"] == [], payload
    tokens: dict[str, str] = payload["tokens"]
    return tokens


def registration(**changes: Any) -> dict[str, Any]:
    return {
        "brand": "royal",
        "email": "new@example.com",
        "password": PASSWORD,
        "dateOfBirth": "1990-01-01",
        "country": "MT",
        "currency": "EUR",
        **changes,
    }


async def player_count(rt: Any) -> int:
    from models.players import Player

    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(Player)) or 0)


def years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February
        return today.replace(year=today.year - years, day=28)


# ---- registration ------------------------------------------------------------------------------


async def test_registration_creates_a_logged_in_player(gql, brand, rt) -> None:
    body = await gql(REGISTER, {"input": registration(email=" New.Player@Example.COM ", country="se", currency="sek")})
    payload = body["data"]["registerPlayer"]
    assert payload["errors"] == []
    assert payload["player"]["email"] == "new.player@example.com"
    await assert_authenticated_as(gql, payload["tokens"]["accessToken"], payload["player"]["id"])
    me = await gql("{ me { country currency status } }", token=payload["tokens"]["accessToken"])
    assert me["data"]["me"] == {"country": "SE", "currency": "SEK", "status": "ACTIVE"}
    assert await player_count(rt) == 1


async def test_registration_on_the_18th_birthday_is_accepted(gql, brand) -> None:
    born = years_before(clock.now().date(), 18)
    payload = (await gql(REGISTER, {"input": registration(dateOfBirth=born.isoformat())}))["data"]["registerPlayer"]
    assert payload["errors"] == []


async def test_underage_registration_is_refused(gql, brand, rt) -> None:
    born = years_before(clock.now().date(), 18) + timedelta(days=1)
    payload = (await gql(REGISTER, {"input": registration(dateOfBirth=born.isoformat())}))["data"]["registerPlayer"]
    assert payload["player"] is None
    assert payload["tokens"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("UNDERAGE", "dateOfBirth")]
    assert await player_count(rt) == 0


async def test_brand_minimum_age_applies_per_brand(gql, other_brand, rt) -> None:
    born = years_before(clock.now().date(), 19)  # old enough for royal (18), not for northstar (20)
    payload = (
        await gql(
            REGISTER,
            {"input": registration(brand="northstar", country="SE", currency="SEK", dateOfBirth=born.isoformat())},
        )
    )["data"]["registerPlayer"]
    assert codes(payload) == ["UNDERAGE"]
    assert await player_count(rt) == 0


@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"country": "US"}, "COUNTRY_NOT_ALLOWED", "country"),
        ({"country": "Malta"}, "INVALID_INPUT", "country"),
        ({"country": "1T"}, "INVALID_INPUT", "country"),
        ({"currency": "USD"}, "CURRENCY_NOT_ALLOWED", "currency"),
        ({"password": "short-1"}, "WEAK_PASSWORD", "password"),
        ({"password": "onlyletterspassword"}, "WEAK_PASSWORD", "password"),
        ({"password": "12345678901234"}, "WEAK_PASSWORD", "password"),
        ({"email": "not-an-email"}, "INVALID_INPUT", "email"),
        ({"email": "two@@example.com"}, "INVALID_INPUT", "email"),
        ({"email": ""}, "INVALID_INPUT", "email"),
    ],
)
async def test_registration_refusals_create_nothing(
    gql, brand, rt, changes: dict[str, str], code: str, field: str
) -> None:
    payload = (await gql(REGISTER, {"input": registration(**changes)}))["data"]["registerPlayer"]
    assert payload["player"] is None
    assert payload["tokens"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await player_count(rt) == 0


async def test_registration_in_an_unknown_brand_is_refused(gql, brand, rt) -> None:
    payload = (await gql(REGISTER, {"input": registration(brand="nowhere")}))["data"]["registerPlayer"]
    assert codes(payload) == ["NOT_FOUND"]
    assert await player_count(rt) == 0


async def test_duplicate_email_is_refused_whatever_its_case(gql, make_player, rt) -> None:
    await make_player(email="Dup@Example.com")
    for email in ("dup@example.com", "DUP@EXAMPLE.COM", " dup@Example.Com "):
        payload = (await gql(REGISTER, {"input": registration(email=email)}))["data"]["registerPlayer"]
        assert [(e["code"], e["field"]) for e in payload["errors"]] == [("ALREADY_EXISTS", "email")], email
        assert payload["tokens"] is None
    assert await player_count(rt) == 1


async def test_same_email_may_register_in_another_brand(gql, make_player, other_brand, rt) -> None:
    await make_player(email="both@example.com")
    payload = (
        await gql(
            REGISTER, {"input": registration(brand="northstar", email="both@example.com", country="SE", currency="SEK")}
        )
    )["data"]["registerPlayer"]
    assert payload["errors"] == []
    assert await player_count(rt) == 2


@pytest.mark.parametrize("born", ["1990-13-45", "01/01/1990", "not-a-date", "1990-02-30", ""])
async def test_malformed_date_of_birth_is_a_request_error(gql, brand, rt, born: str) -> None:
    body = await gql(REGISTER, {"input": registration(dateOfBirth=born)})  # asserts no 500
    assert error_codes(body) == ["BAD_USER_INPUT"], body
    assert body.get("data") is None
    assert await player_count(rt) == 0


# ---- password change ---------------------------------------------------------------------------


async def test_password_change_with_wrong_current_password_is_refused(gql, make_player) -> None:
    player = await make_player()
    body = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": "wrong-password-1", "newPassword": "another-horse-7"}},
        token=player.token,
    )
    payload = body["data"]["changePassword"]
    assert payload["changed"] is False
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_CREDENTIALS", "currentPassword")]
    await login_tokens(gql, player.email)  # the old password still works
    await assert_authenticated_as(gql, player.token, player.id)


async def test_guessing_the_current_password_is_rate_limited(gql, make_player, rt) -> None:
    """A stolen access token must not become an unlimited password oracle."""
    player = await make_player()
    for _ in range(rt.settings.login_failures_per_account):
        body = await gql(
            CHANGE_PASSWORD,
            {"input": {"currentPassword": "guess-number-1", "newPassword": "another-horse-7"}},
            token=player.token,
        )
        assert body["data"]["changePassword"]["errors"][0]["code"] == "INVALID_CREDENTIALS"
    body = await gql(
        CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "another-horse-7"}}, token=player.token
    )
    assert error_codes(body) == ["RATE_LIMITED"]
    assert body["errors"][0]["extensions"]["retryAfter"] > 0
    await login_tokens(gql, player.email)  # the password did not change


async def test_password_changes_do_not_lock_out_the_honest_user(gql: Any, make_player: Any, rt: Any) -> None:
    player = await make_player()
    password = PASSWORD
    change = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) { changed errors { code } } }"""
    for i in range(rt.settings.login_failures_per_account + 2):
        new = f"another-horse-{i}x"
        body = await gql(change, {"input": {"currentPassword": password, "newPassword": new}}, token=player.token)
        assert body["data"]["changePassword"]["changed"] is True, body
        password = new


async def test_password_change_to_a_weak_password_is_refused(gql, make_player) -> None:
    player = await make_player()
    body = await gql(
        CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "short"}}, token=player.token
    )
    assert [(e["code"], e["field"]) for e in body["data"]["changePassword"]["errors"]] == [
        ("WEAK_PASSWORD", "newPassword")
    ]
    await login_tokens(gql, player.email)


async def test_password_change_ends_other_sessions_but_keeps_this_one(gql, make_player, rt) -> None:
    from models.audit import AuditRecord

    player = await make_player()
    other = await login_tokens(gql, player.email)
    current = await login_tokens(gql, player.email)
    body = await gql(
        CHANGE_PASSWORD,
        {"input": {"currentPassword": PASSWORD, "newPassword": "another-horse-7"}},
        token=current["accessToken"],
    )
    assert body["data"]["changePassword"] == {"changed": True, "errors": []}

    await assert_authenticated_as(gql, current["accessToken"], player.id)
    await assert_unauthenticated(gql, other["accessToken"])
    await assert_unauthenticated(gql, player.token)
    refreshed = (await gql(REFRESH, {"input": {"refreshToken": other["refreshToken"]}}))["data"]["refreshToken"]
    assert codes(refreshed) == ["TOKEN_INVALID"]
    kept = (await gql(REFRESH, {"input": {"refreshToken": current["refreshToken"]}}))["data"]["refreshToken"]
    assert kept["errors"] == []

    assert codes(await login(gql, player.email)) == ["INVALID_CREDENTIALS"]
    tokens = await login_tokens(gql, player.email, "another-horse-7")
    await assert_authenticated_as(gql, tokens["accessToken"], player.id)
    async with rt.database.session() as db:
        record = await db.scalar(select(AuditRecord).where(AuditRecord.action == "player.password_changed"))
    assert record is not None
    assert record.after == {"revoked_sessions": 2}
    assert record.target_id == str(player.uuid)


async def test_password_change_needs_a_login(gql, brand) -> None:
    body = await gql(CHANGE_PASSWORD, {"input": {"currentPassword": PASSWORD, "newPassword": "another-horse-7"}})
    assert error_codes(body) == ["UNAUTHENTICATED"]


# ---- sessions ----------------------------------------------------------------------------------


async def test_sessions_show_device_address_and_which_one_is_current(gql, make_player) -> None:
    player = await make_player()  # registered without a browser User-Agent
    phone = await login_tokens(gql, player.email, headers={"User-Agent": SAFARI_ON_IPHONE})
    desktop = await login_tokens(gql, player.email, headers={"User-Agent": CHROME_ON_WINDOWS})

    body = await gql(SESSIONS, token=desktop["accessToken"], headers={"User-Agent": CHROME_ON_WINDOWS})
    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["me"]["sessions"]["edges"]]
    assert len(nodes) == 3
    assert {n["ip"] for n in nodes} == {"203.0.113.7"}
    assert all(n["country"] is None for n in nodes)  # no trusted country header is configured
    assert all(n["revokedAt"] is None for n in nodes)
    current = [n for n in nodes if n["current"]]
    assert len(current) == 1
    assert current[0]["device"] == "Chrome on Windows"
    assert current[0]["userAgent"] == CHROME_ON_WINDOWS
    assert sorted(n["device"] for n in nodes if not n["current"]) == ["Python on Other", "Safari on iPhone"]

    from_phone = await gql(SESSIONS, token=phone["accessToken"])
    current_on_phone = [e["node"] for e in from_phone["data"]["me"]["sessions"]["edges"] if e["node"]["current"]]
    assert [n["device"] for n in current_on_phone] == ["Safari on iPhone"]


async def test_session_country_comes_from_a_configured_trusted_header(gql, make_player, rt, monkeypatch) -> None:
    monkeypatch.setattr(rt.settings, "country_header", "CF-IPCountry")
    player = await make_player()
    tokens = await login_tokens(gql, player.email, headers={"CF-IPCountry": "se"})
    await login_tokens(gql, player.email, headers={"CF-IPCountry": "XYZ"})  # not a country code: ignored
    body = await gql(SESSIONS, token=tokens["accessToken"])
    nodes = [edge["node"] for edge in body["data"]["me"]["sessions"]["edges"]]
    assert sorted((n["country"] or "") for n in nodes) == ["", "", "SE"]
    assert [n["country"] for n in nodes if n["current"]] == ["SE"]


async def test_forwarded_for_header_is_ignored_unless_trusted(gql, make_player) -> None:
    player = await make_player()
    tokens = await login_tokens(gql, player.email, headers={"X-Forwarded-For": "198.51.100.99"})
    body = await gql(SESSIONS, token=tokens["accessToken"])
    assert {e["node"]["ip"] for e in body["data"]["me"]["sessions"]["edges"]} == {"203.0.113.7"}


async def test_revoking_a_session_kills_its_token(gql, make_player) -> None:
    player = await make_player()
    lost_phone = await login_tokens(gql, player.email, headers={"User-Agent": SAFARI_ON_IPHONE})
    body = await gql(SESSIONS, token=player.token)
    target = next(
        e["node"]["id"] for e in body["data"]["me"]["sessions"]["edges"] if e["node"]["device"] == "Safari on iPhone"
    )

    body = await gql(REVOKE_SESSION, {"input": {"sessionId": target}}, token=player.token)
    payload = body["data"]["revokeSession"]
    assert payload["errors"] == []
    assert payload["session"]["id"] == target
    assert payload["session"]["current"] is False
    assert payload["session"]["revokedAt"] is not None

    await assert_unauthenticated(gql, lost_phone["accessToken"])
    refreshed = (await gql(REFRESH, {"input": {"refreshToken": lost_phone["refreshToken"]}}))["data"]["refreshToken"]
    assert codes(refreshed) == ["TOKEN_INVALID"]
    await assert_authenticated_as(gql, player.token, player.id)
    body = await gql(SESSIONS, token=player.token)
    revoked = {e["node"]["id"]: e["node"]["revokedAt"] for e in body["data"]["me"]["sessions"]["edges"]}
    assert revoked[target] is not None


async def test_a_player_cannot_revoke_someone_elses_session(gql, make_player) -> None:
    victim = await make_player()
    attacker = await make_player()
    body = await gql(SESSIONS, token=victim.token)
    victim_session = body["data"]["me"]["sessions"]["edges"][0]["node"]["id"]
    body = await gql(REVOKE_SESSION, {"input": {"sessionId": victim_session}}, token=attacker.token)
    assert codes(body["data"]["revokeSession"]) == ["NOT_FOUND"]
    await assert_authenticated_as(gql, victim.token, victim.id)


async def test_players_see_only_their_own_sessions(gql, make_player) -> None:
    first = await make_player()
    second = await make_player()
    await login_tokens(gql, second.email)
    body = await gql(SESSIONS, token=first.token)
    assert len(body["data"]["me"]["sessions"]["edges"]) == 1


# ---- account status ----------------------------------------------------------------------------


async def test_blocking_a_player_ends_their_sessions_and_logins(gql, make_player, make_staff, rt) -> None:
    from models.audit import AuditRecord

    player = await make_player()
    other = await login_tokens(gql, player.email)
    support = await make_staff("support")
    body = await gql(
        SET_PLAYER_STATUS,
        {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "  chargeback investigation  "}},
        token=support.token,
    )
    payload = body["data"]["setPlayerStatus"]
    assert payload["errors"] == []
    assert payload["player"] == {"id": player.id, "status": "BLOCKED", "statusReason": "chargeback investigation"}

    await assert_unauthenticated(gql, player.token)
    await assert_unauthenticated(gql, other["accessToken"])
    refreshed = (await gql(REFRESH, {"input": {"refreshToken": other["refreshToken"]}}))["data"]["refreshToken"]
    assert codes(refreshed) == ["TOKEN_INVALID"]
    refused = await login(gql, player.email)
    assert refused["tokens"] is None
    assert codes(refused) == ["ACCOUNT_BLOCKED"]
    assert codes(await login(gql, player.email, "wrong-password-1")) == ["INVALID_CREDENTIALS"]  # no oracle

    async with rt.database.session() as db:
        record = await db.scalar(select(AuditRecord).where(AuditRecord.action == "player.status_changed"))
    assert record is not None
    assert record.reason == "chargeback investigation"
    assert record.actor_id == support.id
    assert record.before == {"status": "active", "status_reason": None}


async def test_unblocked_player_can_log_in_again(gql, make_player, make_staff) -> None:
    player = await make_player()
    support = await make_staff("support")
    for status in ("BLOCKED", "ACTIVE"):
        body = await gql(
            SET_PLAYER_STATUS,
            {"input": {"playerId": player.id, "status": status, "reason": "review"}},
            token=support.token,
        )
        assert body["data"]["setPlayerStatus"]["errors"] == []
    tokens = await login_tokens(gql, player.email)
    await assert_authenticated_as(gql, tokens["accessToken"], player.id)


async def test_closed_account_cannot_be_reopened(gql, make_player, make_staff) -> None:
    player = await make_player()
    support = await make_staff("support")
    body = await gql(
        SET_PLAYER_STATUS,
        {"input": {"playerId": player.id, "status": "CLOSED", "reason": "asked"}},
        token=support.token,
    )
    assert body["data"]["setPlayerStatus"]["errors"] == []
    assert codes(await login(gql, player.email)) == ["ACCOUNT_CLOSED"]
    body = await gql(
        SET_PLAYER_STATUS, {"input": {"playerId": player.id, "status": "ACTIVE", "reason": "oops"}}, token=support.token
    )
    assert codes(body["data"]["setPlayerStatus"]) == ["NOT_ALLOWED"]


@pytest.mark.parametrize("reason", ["", "   "])
async def test_status_change_needs_a_reason(gql, make_player, make_staff, reason: str) -> None:
    player = await make_player()
    support = await make_staff("support")
    body = await gql(
        SET_PLAYER_STATUS,
        {"input": {"playerId": player.id, "status": "BLOCKED", "reason": reason}},
        token=support.token,
    )
    payload = body["data"]["setPlayerStatus"]
    assert payload["player"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", "reason")]
    await assert_authenticated_as(gql, player.token, player.id)


async def test_staff_of_another_brand_cannot_find_the_player(gql, make_player, make_staff, other_brand) -> None:
    player = await make_player()
    outsider = await make_staff(("support", "northstar"))
    body = await gql(
        SET_PLAYER_STATUS,
        {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "fraud"}},
        token=outsider.token,
    )
    payload = body["data"]["setPlayerStatus"]
    assert payload["player"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("NOT_FOUND", "playerId")]
    await assert_authenticated_as(gql, player.token, player.id)
    assert (await login(gql, player.email))["errors"] == []


async def test_a_player_cannot_change_account_status(gql, make_player) -> None:
    player = await make_player()
    body = await gql(
        SET_PLAYER_STATUS, {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "me"}}, token=player.token
    )
    assert error_codes(body) == ["FORBIDDEN"]


# ---- staff login and TOTP ------------------------------------------------------------------------


async def staff_login(gql: Any, email: str, code: str, password: str = PASSWORD) -> dict[str, Any]:
    body = await gql(STAFF_LOGIN, {"input": {"email": email, "password": password, "totpCode": code}})
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["staffLogin"]
    return payload


def wrong_code(secret: str) -> str:
    valid = {next_totp(secret, offset) for offset in (-1, 0, 1)}
    return next(code for code in (f"{n:06d}" for n in range(1_000_000)) if code not in valid)


async def test_staff_login_with_a_current_code(gql, make_staff) -> None:
    staff = await make_staff("support", login=False)
    payload = await staff_login(gql, staff.email, next_totp(staff.totp_secret))
    assert payload["errors"] == []
    body = await gql("{ currentStaff { email } }", token=payload["tokens"]["accessToken"])
    assert body["data"]["currentStaff"] == {"email": staff.email}


async def test_staff_login_with_a_wrong_code_is_refused(gql, make_staff, rt) -> None:
    from models.audit import AuditRecord

    staff = await make_staff("support", login=False)
    payload = await staff_login(gql, staff.email, wrong_code(staff.totp_secret))
    assert payload["tokens"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_TOTP", "totpCode")]
    async with rt.database.session() as db:
        record = await db.scalar(select(AuditRecord).where(AuditRecord.action == "staff.login_failed"))
    assert record is not None
    assert record.after == {"email": staff.email, "reason": "INVALID_TOTP"}


async def test_staff_totp_code_cannot_be_replayed(gql, make_staff) -> None:
    staff = await make_staff("support", login=False)
    code = next_totp(staff.totp_secret)
    assert (await staff_login(gql, staff.email, code))["errors"] == []
    replay = await staff_login(gql, staff.email, code)
    assert replay["tokens"] is None
    assert codes(replay) == ["INVALID_TOTP"]
    # An older code still inside the drift window is no good either once a newer one was used.
    assert codes(await staff_login(gql, staff.email, next_totp(staff.totp_secret, -1))) == ["INVALID_TOTP"]
    # The next time step's code works.
    clock.advance(timedelta(seconds=30))
    assert (await staff_login(gql, staff.email, next_totp(staff.totp_secret)))["errors"] == []


async def test_staff_code_from_far_away_steps_is_refused(gql, make_staff) -> None:
    staff = await make_staff("support", login=False)
    for offset in (-3, 3):
        assert codes(await staff_login(gql, staff.email, next_totp(staff.totp_secret, offset))) == ["INVALID_TOTP"]


async def test_staff_wrong_password_is_refused_before_the_code(gql, make_staff) -> None:
    staff = await make_staff("support", login=False)
    code = next_totp(staff.totp_secret)
    assert codes(await staff_login(gql, staff.email, code, "wrong-password-1")) == ["INVALID_CREDENTIALS"]
    assert (await staff_login(gql, staff.email, code))["errors"] == []  # the code was not spent


async def test_disabled_staff_cannot_log_in(gql, make_staff) -> None:
    admin = await make_staff("brand_admin")
    agent = await make_staff("support")
    staff_gid = str(relay.GlobalID("StaffUser", str(agent.id)))
    body = await gql(
        SET_STAFF_STATUS,
        {"input": {"staffId": staff_gid, "status": "DISABLED", "reason": "left the company"}},
        token=admin.token,
    )
    payload = body["data"]["setStaffStatus"]
    assert payload["errors"] == [], payload
    assert payload["staff"]["status"] == "DISABLED"

    await assert_unauthenticated(gql, agent.token)
    clock.advance(timedelta(seconds=30))  # a fresh, never-used code
    refused = await staff_login(gql, agent.email, next_totp(agent.totp_secret))
    assert refused["tokens"] is None
    assert codes(refused) == ["ACCOUNT_BLOCKED"]


# ---- postal address ------------------------------------------------------------------------------

ADDRESS = "addressLine1 addressLine2 city postalCode country"
REGISTER_WITH_ADDRESS = (
    "mutation($input: RegisterPlayerInput!) { registerPlayer(input: $input) { player { id "
    + ADDRESS
    + " } errors { code field message } } }"
)
UPDATE_ADDRESS = (
    "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { player { "
    + ADDRESS
    + " } errors { code field message } } }"
)
BAKER_STREET = {"addressLine1": "12 Baker Street", "addressLine2": "Flat 2", "city": "London", "postalCode": "NW1 6XE"}


def registered_in_gb(email: str, **extra: Any) -> dict[str, Any]:
    return {"input": registration(email=email, country="GB", **extra)}


async def test_a_player_registers_with_a_postal_address_and_reads_it_back(gql: Any, brand: Any) -> None:
    body = await gql(REGISTER_WITH_ADDRESS, registered_in_gb("home@example.com", **BAKER_STREET))
    payload = body["data"]["registerPlayer"]
    assert payload["errors"] == [], payload
    assert payload["player"] == {"id": payload["player"]["id"], **BAKER_STREET, "country": "GB"}
    # Optional: without one, the parts are null.
    body = await gql(REGISTER_WITH_ADDRESS, registered_in_gb("nohome@example.com"))
    player = body["data"]["registerPlayer"]["player"]
    assert [player[k] for k in ("addressLine1", "addressLine2", "city", "postalCode")] == [None] * 4


@pytest.mark.parametrize(
    ("given", "field", "message"),
    [
        ({"addressLine1": "1" * 201, "city": "London"}, "addressLine1", "at most 200 characters"),
        ({"addressLine1": "12 Baker Street", "city": "L" * 101}, "city", "at most 100 characters"),
        ({"addressLine1": "12 Baker Street", "city": "London", "postalCode": "N" * 17}, "postalCode", "at most 16"),
        ({"city": "London", "postalCode": "NW1 6XE"}, "addressLine1", "first line and its city"),
        ({"addressLine1": "12 Baker Street"}, "city", "first line and its city"),
        ({"addressLine1": "12 Baker Street", "city": "London", "postalCode": "NW1; DROP"}, "postalCode", "letters"),
    ],
)
async def test_a_bad_address_is_refused_naming_its_field_and_nothing_is_created(
    gql: Any, brand: Any, given: dict[str, str], field: str, message: str
) -> None:
    body = await gql(REGISTER_WITH_ADDRESS, registered_in_gb("bad-address@example.com", **given))
    payload = body["data"]["registerPlayer"]
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)], payload
    assert message in payload["errors"][0]["message"]
    assert payload["player"] is None
    login = await gql(LOGIN, {"input": {"brand": "royal", "email": "bad-address@example.com", "password": PASSWORD}})
    assert codes(login["data"]["login"]) == ["INVALID_CREDENTIALS"]


async def test_a_player_sets_and_changes_their_address_in_the_profile_and_it_is_audited(
    rt: Any, gql: Any, make_player: Any
) -> None:
    player = await make_player(country="GB")
    body = await gql(UPDATE_ADDRESS, {"input": BAKER_STREET}, token=player.token)
    assert body["data"]["updateProfile"] == {"player": {**BAKER_STREET, "country": "GB"}, "errors": []}, body
    # One part replaces its own; an empty one clears it.
    body = await gql(UPDATE_ADDRESS, {"input": {"addressLine1": "221B Baker Street", "addressLine2": ""}},
                     token=player.token)  # fmt: skip
    assert body["data"]["updateProfile"]["player"] == {
        **BAKER_STREET, "addressLine1": "221B Baker Street", "addressLine2": None, "country": "GB"
    }  # fmt: skip
    # The address that results must stay whole, and an over-long part is refused by name: nothing changes.
    body = await gql(UPDATE_ADDRESS, {"input": {"city": ""}}, token=player.token)
    assert [(e["code"], e["field"]) for e in body["data"]["updateProfile"]["errors"]] == [("INVALID_INPUT", "city")]
    body = await gql(UPDATE_ADDRESS, {"input": {"addressLine2": "x" * 201}}, token=player.token)
    assert [(e["code"], e["field"]) for e in body["data"]["updateProfile"]["errors"]] == [
        ("INVALID_INPUT", "addressLine2")
    ]
    me = await gql("{ me { " + ADDRESS + " } }", token=player.token)
    assert me["data"]["me"]["addressLine1"] == "221B Baker Street"
    assert me["data"]["me"]["city"] == "London"
    async with rt.database.session() as db:
        events = (
            (
                await db.execute(
                    text(
                        "SELECT payload::text FROM outbox_events WHERE topic = 'player.profile_changed' "
                        "AND payload->>'player_id' = :p ORDER BY id"
                    ),
                    {"p": str(player.uuid)},
                )
            )
            .scalars()
            .all()
        )
        audited = await db.scalar(
            text(
                "SELECT after->>'address_line1' FROM audit_log WHERE action = 'player.profile_updated' "
                "AND target_id = :p ORDER BY seq DESC LIMIT 1"
            ),
            {"p": str(player.uuid)},
        )
    # The events name the fields that changed, never the address itself.
    assert len(events) == 2
    assert all("Baker" not in e and "NW1" not in e for e in events), events
    assert json.loads(events[1])["fields"] == ["address_line1", "address_line2"]
    assert audited == "221B Baker Street"
