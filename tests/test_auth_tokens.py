"""Access and refresh tokens through the GraphQL surface: forged JWTs, key rotation, refresh
rotation with reuse detection, logout, and the login rate limits."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from datetime import timedelta
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from core.clock import clock
from tests.conftest import LOGIN, ME, PASSWORD, error_codes

REFRESH = """
mutation Refresh($input: RefreshTokenInput) {
  refreshToken(input: $input) {
    tokens { accessToken refreshToken }
    errors { code field message }
  }
}"""
LOGOUT = """
mutation Logout($input: LogoutInput) {
  logout(input: $input) { revokedSessions errors { code field message } }
}"""


# ---- helpers -----------------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    return jwt.get_unverified_header(token), jwt.decode(token, options={"verify_signature": False})


def signing_key(rt: Any, kid: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key((rt.settings.key_dir / f"{kid}.pem").read_bytes(), password=None)
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    return key


def resign(rt: Any, token: str, **changes: Any) -> str:
    """The same claims with `changes`, correctly signed with the platform's own active key."""
    header, claims = unverified(token)
    return jwt.encode(
        {**claims, **changes}, signing_key(rt, header["kid"]), algorithm="ES256", headers={"kid": header["kid"]}
    )


async def assert_unauthenticated(gql: Any, token: str) -> None:
    body = await gql(ME, token=token)
    assert error_codes(body) == ["UNAUTHENTICATED"], body
    assert body.get("data") is None


async def assert_authenticated_as(gql: Any, token: str, player_id: str) -> None:
    body = await gql(ME, token=token)
    assert "errors" not in body, body
    assert body["data"]["me"] == {"id": player_id}


async def login(
    gql: Any, email: str, password: str = PASSWORD, *, brand: str = "royal", headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return await gql(LOGIN, {"input": {"brand": brand, "email": email, "password": password}}, headers=headers)


async def login_tokens(gql: Any, email: str) -> dict[str, str]:
    body = await login(gql, email)
    payload = body["data"]["login"]
    assert payload["errors"] == [], payload
    tokens: dict[str, str] = payload["tokens"]
    return tokens


# ---- forged and unusable access tokens ------------------------------------------------------------


async def test_genuine_access_token_is_accepted(gql, make_player) -> None:
    player = await make_player()
    await assert_authenticated_as(gql, player.token, player.id)
    header, claims = unverified(player.token)
    assert header["alg"] == "ES256"
    assert claims["typ"] == "access"
    assert claims["sub"] == f"player:{player.uuid}"


async def test_alg_none_token_is_rejected(gql, make_player) -> None:
    player = await make_player()
    header, claims = unverified(player.token)
    forged = f"{b64url_json({'alg': 'none', 'typ': 'JWT', 'kid': header['kid']})}.{b64url_json(claims)}."
    await assert_unauthenticated(gql, forged)
    # `None` spelled differently, and with a leftover signature, are refused too.
    forged_upper = f"{b64url_json({'alg': 'None', 'kid': header['kid']})}.{b64url_json(claims)}."
    await assert_unauthenticated(gql, forged_upper)
    forged_with_sig = player.token.rsplit(".", 2)
    forged_with_sig[0] = b64url_json({"alg": "none", "kid": header["kid"]})
    await assert_unauthenticated(gql, ".".join(forged_with_sig))


async def test_hs256_token_signed_with_public_key_is_rejected(gql, make_player, rt) -> None:
    """The algorithm-confusion attack: an HMAC signed with the (public) verifying key as the secret."""
    player = await make_player()
    header, claims = unverified(player.token)
    public_pem = (
        signing_key(rt, header["kid"])
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    for secret in (public_pem, public_pem.strip()):
        signing_input = f"{b64url_json({'alg': 'HS256', 'typ': 'JWT', 'kid': header['kid']})}.{b64url_json(claims)}"
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        await assert_unauthenticated(gql, f"{signing_input}.{b64url(signature)}")


async def test_token_for_another_audience_is_rejected(gql, make_player, rt) -> None:
    player = await make_player()
    await assert_authenticated_as(gql, resign(rt, player.token), player.id)  # the re-signing itself is sound
    await assert_unauthenticated(gql, resign(rt, player.token, aud="some-other-api"))
    await assert_unauthenticated(gql, resign(rt, player.token, aud=["some-other-api"]))


async def test_token_from_another_issuer_is_rejected(gql, make_player, rt) -> None:
    player = await make_player()
    await assert_unauthenticated(gql, resign(rt, player.token, iss="evil-issuer"))


async def test_token_without_expiry_is_rejected(gql, make_player, rt) -> None:
    player = await make_player()
    header, claims = unverified(player.token)
    del claims["exp"]
    token = jwt.encode(claims, signing_key(rt, header["kid"]), algorithm="ES256", headers={"kid": header["kid"]})
    await assert_unauthenticated(gql, token)


async def test_access_token_expires_after_its_lifetime(gql, make_player, rt) -> None:
    player = await make_player()
    assert rt.settings.access_token_ttl_seconds == 900
    clock.advance(timedelta(seconds=880))
    await assert_authenticated_as(gql, player.token, player.id)
    clock.advance(timedelta(seconds=60))  # 940 s: past 900 s plus the 10 s leeway
    await assert_unauthenticated(gql, player.token)
    body = await gql("{ me { id } }", token=player.token)
    assert body["errors"][0]["extensions"]["reason"] == "expired"  # the client knows to refresh


async def test_refused_tokens_do_not_say_what_was_wrong_with_them(gql, make_player, rt) -> None:
    """A forger learns nothing from the refusal: only "expired" or "invalid" is ever said."""
    player = await make_player()
    forged = resign(rt, player.token, sub=f"player:{uuid.uuid4()}")[:-4] + "AAAA"
    for token in (forged, "not-a-jwt", jwt.encode({"sub": "x"}, "k" * 32, algorithm="HS256")):
        body = await gql("{ me { id } }", token=token)
        error = body["errors"][0]
        assert error["extensions"] == {"code": "UNAUTHENTICATED", "reason": "invalid"}
        assert error["message"] == "Invalid credentials."


async def test_token_issued_after_the_clock_moved_forward_is_accepted(gql, make_player) -> None:
    """The platform clock (not the wall clock) decides validity, for `nbf` as for `exp`."""
    player = await make_player()
    clock.advance(timedelta(hours=2))
    tokens = await login_tokens(gql, player.email)
    await assert_authenticated_as(gql, tokens["accessToken"], player.id)


async def test_token_not_valid_before_a_future_time_is_rejected(gql, make_player, rt) -> None:
    player = await make_player()
    _, claims = unverified(player.token)
    await assert_unauthenticated(gql, resign(rt, player.token, nbf=claims["nbf"] + 3600))
    clock.advance(timedelta(hours=1))
    await assert_authenticated_as(
        gql, resign(rt, player.token, nbf=claims["nbf"] + 3600, exp=claims["exp"] + 3600), player.id
    )


async def test_token_signed_with_an_unknown_key_is_rejected(gql, make_player) -> None:
    player = await make_player()
    _, claims = unverified(player.token)
    stranger = ec.generate_private_key(ec.SECP256R1())
    await assert_unauthenticated(
        gql, jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": "19990101T000000000000Z"})
    )
    await assert_unauthenticated(gql, jwt.encode(claims, stranger, algorithm="ES256"))  # no kid at all


async def test_token_signed_by_a_stranger_under_our_kid_is_rejected(gql, make_player) -> None:
    player = await make_player()
    header, claims = unverified(player.token)
    stranger = ec.generate_private_key(ec.SECP256R1())
    await assert_unauthenticated(gql, jwt.encode(claims, stranger, algorithm="ES256", headers={"kid": header["kid"]}))


async def test_tampered_subject_is_rejected(gql, make_player) -> None:
    victim = await make_player()
    attacker = await make_player()
    header_b64, _, signature = attacker.token.split(".")
    _, claims = unverified(attacker.token)
    claims["sub"] = f"player:{victim.uuid}"
    forged = f"{header_b64}.{b64url_json(claims)}.{signature}"
    await assert_unauthenticated(gql, forged)
    await assert_authenticated_as(gql, attacker.token, attacker.id)  # the original is untouched


async def test_refresh_token_is_not_an_access_token(gql, make_player) -> None:
    player = await make_player()
    await assert_unauthenticated(gql, player.refresh_token)


async def test_signed_token_that_is_not_an_access_token_is_rejected(gql, make_player, rt) -> None:
    player = await make_player()
    await assert_unauthenticated(gql, resign(rt, player.token, typ="refresh"))
    await assert_unauthenticated(gql, resign(rt, player.token, sub=f"admin:{player.uuid}"))
    await assert_unauthenticated(gql, resign(rt, player.token, sid="not-a-uuid"))


@pytest.mark.parametrize("garbage", ["garbage", "a.b.c", "eyJhbGciOiJFUzI1NiJ9..", "Bearer", "x" * 5000])
async def test_garbage_token_is_rejected(gql, brand, garbage: str) -> None:
    await assert_unauthenticated(gql, garbage)


async def test_rejected_token_does_not_fall_back_to_anonymous(gql, make_player) -> None:
    """A bad token fails the whole request, even for fields anonymous callers may use."""
    body = await gql("{ brands { code } }", token="garbage")
    assert error_codes(body) == ["UNAUTHENTICATED"]
    assert body.get("data") is None
    body = await gql("{ brands { code } }")
    assert body["data"]["brands"] == [{"code": "royal"}]


# ---- key rotation ------------------------------------------------------------------------------


async def test_key_rotation_keeps_old_tokens_valid_and_signs_new_ones_with_the_new_key(
    gql, make_player, rt, client
) -> None:
    from authz.jwt import KeyRing, generate_key

    player = await make_player()
    old_kid = unverified(player.token)[0]["kid"]
    original = rt.keyring
    new_kid = None
    try:
        clock.advance(timedelta(seconds=1))  # kids are timestamps: make the new one strictly newer
        new_kid = generate_key(rt.settings.key_dir)
        rt.keyring = KeyRing.load(rt.settings.key_dir, create_if_empty=False)
        assert rt.keyring.active_kid == new_kid != old_kid

        await assert_authenticated_as(gql, player.token, player.id)
        tokens = await login_tokens(gql, player.email)
        assert unverified(tokens["accessToken"])[0]["kid"] == new_kid
        await assert_authenticated_as(gql, tokens["accessToken"], player.id)
        jwks = (await client.get("/.well-known/jwks.json")).json()
        assert {old_kid, new_kid} <= {key["kid"] for key in jwks["keys"]}
    finally:
        rt.keyring = original
        if new_kid is not None:
            (rt.settings.key_dir / f"{new_kid}.pem").unlink(missing_ok=True)


async def test_retired_key_no_longer_verifies(gql, make_player, rt) -> None:
    from authz.jwt import KeyRing, generate_key

    player = await make_player()
    original = rt.keyring
    new_kid = None
    try:
        clock.advance(timedelta(seconds=1))
        new_kid = generate_key(rt.settings.key_dir)
        rt.keyring = KeyRing.load(rt.settings.key_dir, create_if_empty=False)
        tokens = await login_tokens(gql, player.email)
        assert unverified(tokens["accessToken"])[0]["kid"] == new_kid
        # Retire the new key: its file goes, and a ring that re-reads the folder must not find it.
        (rt.settings.key_dir / f"{new_kid}.pem").unlink()
        rt.keyring = KeyRing.load(rt.settings.key_dir, create_if_empty=False)
        await assert_unauthenticated(gql, tokens["accessToken"])
        await assert_authenticated_as(gql, player.token, player.id)
    finally:
        rt.keyring = original
        if new_kid is not None:
            (rt.settings.key_dir / f"{new_kid}.pem").unlink(missing_ok=True)


def test_replicas_sharing_the_key_folder_follow_a_rotation_without_a_restart(tmp_path) -> None:
    """Two key rings on one folder, as two replicas: one rotates, the other verifies its tokens at once
    (unknown kid) and signs with the new key after its periodic re-read; a retired key stops verifying."""
    from authz import jwt as jwt_keys

    folder = tmp_path / "keys"
    old_kid = jwt_keys.generate_key(folder)
    replica_a = jwt_keys.KeyRing.load(folder, create_if_empty=False)
    replica_b = jwt_keys.KeyRing.load(folder, create_if_empty=False)
    claims = {"sub": "player:x", "typ": "access"}
    ttl = timedelta(minutes=5)

    clock.advance(timedelta(seconds=1))
    new_kid = jwt_keys.generate_key(folder)
    replica_a._last_reload -= jwt_keys.REFRESH_SECONDS  # A's periodic re-read is due
    token = replica_a.issue(claims, issuer="i", audience="a", ttl=ttl)
    assert jwt.get_unverified_header(token)["kid"] == new_kid
    replica_b._last_reload -= jwt_keys.MISS_RELOAD_SECONDS  # B re-reads on the unknown kid
    assert replica_b.verify(token, issuer="i", audience="a")["sub"] == "player:x"
    assert replica_b.active_kid == new_kid  # and signs with it from now on

    (folder / f"{old_kid}.pem").unlink()  # retire the old key
    replica_b._last_reload -= jwt_keys.REFRESH_SECONDS
    old_token = jwt.encode(
        {**claims, "iss": "i", "aud": "a", "iat": 0, "exp": 2**40},
        replica_a._private[old_kid],
        algorithm="ES256",
        headers={"kid": old_kid},
    )
    with pytest.raises(jwt_keys.InvalidToken):
        replica_b.verify(old_token, issuer="i", audience="a")


# ---- refresh tokens ----------------------------------------------------------------------------


async def test_refresh_returns_a_new_pair_for_the_same_session(gql, make_player) -> None:
    player = await make_player()
    body = await gql(REFRESH, {"input": {"refreshToken": player.refresh_token}})
    payload = body["data"]["refreshToken"]
    assert payload["errors"] == []
    tokens = payload["tokens"]
    assert tokens["refreshToken"] != player.refresh_token
    assert tokens["accessToken"] != player.token
    assert unverified(tokens["accessToken"])[1]["sid"] == unverified(player.token)[1]["sid"]
    await assert_authenticated_as(gql, tokens["accessToken"], player.id)
    await assert_authenticated_as(gql, player.token, player.id)  # the old access token lives out its minutes
    again = await gql(REFRESH, {"input": {"refreshToken": tokens["refreshToken"]}})
    assert again["data"]["refreshToken"]["errors"] == []


async def test_reused_refresh_token_revokes_the_whole_session(gql, make_player, rt) -> None:
    from models.audit import AuditRecord

    player = await make_player()
    other_session = await login_tokens(gql, player.email)
    first = (await gql(REFRESH, {"input": {"refreshToken": player.refresh_token}}))["data"]["refreshToken"]
    assert first["errors"] == []
    newer = first["tokens"]

    replay = (await gql(REFRESH, {"input": {"refreshToken": player.refresh_token}}))["data"]["refreshToken"]
    assert replay["tokens"] is None
    assert [e["code"] for e in replay["errors"]] == ["TOKEN_REUSED"]

    followup = (await gql(REFRESH, {"input": {"refreshToken": newer["refreshToken"]}}))["data"]["refreshToken"]
    assert followup["tokens"] is None
    assert [e["code"] for e in followup["errors"]] == ["TOKEN_INVALID"]
    await assert_unauthenticated(gql, newer["accessToken"])
    await assert_unauthenticated(gql, player.token)

    # Only the stolen family ends: the player's other session carries on.
    await assert_authenticated_as(gql, other_session["accessToken"], player.id)
    async with rt.database.session() as db:
        actions = (
            await db.scalars(select(AuditRecord.action).where(AuditRecord.action == "auth.refresh_token_reused"))
        ).all()
    assert actions == ["auth.refresh_token_reused"]


async def test_unknown_refresh_token_is_invalid(gql, brand) -> None:
    body = await gql(REFRESH, {"input": {"refreshToken": "not-a-token"}})
    assert [e["code"] for e in body["data"]["refreshToken"]["errors"]] == ["TOKEN_INVALID"]
    body = await gql(REFRESH, {"input": {}})
    assert [e["code"] for e in body["data"]["refreshToken"]["errors"]] == ["TOKEN_INVALID"]


async def test_access_token_is_not_a_refresh_token(gql, make_player) -> None:
    player = await make_player()
    body = await gql(REFRESH, {"input": {"refreshToken": player.token}})
    assert [e["code"] for e in body["data"]["refreshToken"]["errors"]] == ["TOKEN_INVALID"]


async def test_refresh_token_of_a_logged_out_session_is_invalid(gql, make_player) -> None:
    player = await make_player()
    assert (await gql(LOGOUT, token=player.token))["data"]["logout"]["revokedSessions"] == 1
    body = await gql(REFRESH, {"input": {"refreshToken": player.refresh_token}})
    assert [e["code"] for e in body["data"]["refreshToken"]["errors"]] == ["TOKEN_INVALID"]


async def test_refresh_token_expires_with_its_session(gql, make_player, rt) -> None:
    player = await make_player()
    clock.advance(timedelta(seconds=rt.settings.refresh_token_ttl_seconds + 1))
    body = await gql(REFRESH, {"input": {"refreshToken": player.refresh_token}})
    assert [e["code"] for e in body["data"]["refreshToken"]["errors"]] == ["TOKEN_INVALID"]


# ---- logout ------------------------------------------------------------------------------------


async def test_logout_revokes_the_access_token_at_once(gql, make_player) -> None:
    player = await make_player()
    other = await login_tokens(gql, player.email)
    body = await gql(LOGOUT, token=player.token)
    assert body["data"]["logout"] == {"revokedSessions": 1, "errors": []}
    await assert_unauthenticated(gql, player.token)
    await assert_authenticated_as(gql, other["accessToken"], player.id)  # only this session ended


async def test_logout_all_sessions_ends_every_session(gql, make_player) -> None:
    player = await make_player()
    second = await login_tokens(gql, player.email)
    third = await login_tokens(gql, player.email)
    bystander = await make_player()
    body = await gql(LOGOUT, {"input": {"allSessions": True}}, token=second["accessToken"])
    assert body["data"]["logout"] == {"revokedSessions": 3, "errors": []}
    for token in (player.token, second["accessToken"], third["accessToken"]):
        await assert_unauthenticated(gql, token)
    for refresh_token in (player.refresh_token, third["refreshToken"]):
        payload = (await gql(REFRESH, {"input": {"refreshToken": refresh_token}}))["data"]["refreshToken"]
        assert [e["code"] for e in payload["errors"]] == ["TOKEN_INVALID"]
    await assert_authenticated_as(gql, bystander.token, bystander.id)


async def test_logout_needs_a_login(gql, brand) -> None:
    body = await gql(LOGOUT)
    assert error_codes(body) == ["UNAUTHENTICATED"]  # anonymous callers are told to log in


# ---- login and its rate limits -------------------------------------------------------------------


async def test_login_with_email_in_any_case(gql, make_player) -> None:
    player = await make_player(email="Casey@Example.com")
    tokens = await login_tokens(gql, "  CASEY@example.COM ")
    await assert_authenticated_as(gql, tokens["accessToken"], player.id)


async def test_wrong_password_and_unknown_email_look_the_same(gql, make_player) -> None:
    player = await make_player()
    wrong = (await login(gql, player.email, "wrong-password-1"))["data"]["login"]
    unknown = (await login(gql, "nobody@example.com"))["data"]["login"]
    assert wrong["tokens"] is None
    assert unknown["tokens"] is None
    assert [(e["code"], e["message"]) for e in wrong["errors"]] == [
        (e["code"], e["message"]) for e in unknown["errors"]
    ]
    assert [e["code"] for e in wrong["errors"]] == ["INVALID_CREDENTIALS"]


async def test_login_in_another_brand_does_not_find_the_account(gql, make_player, other_brand) -> None:
    player = await make_player()
    body = await login(gql, player.email, brand="northstar")
    assert [e["code"] for e in body["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]


async def test_five_wrong_passwords_lock_the_account_even_for_the_right_one(gql, make_player, rt) -> None:
    from models.audit import AuditRecord

    player = await make_player()
    bystander = await make_player()
    assert rt.settings.login_failures_per_account == 5
    for _ in range(5):
        body = await login(gql, player.email, "wrong-password-1")
        assert [e["code"] for e in body["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]
    body = await login(gql, player.email)
    assert error_codes(body) == ["RATE_LIMITED"], body
    assert body["errors"][0]["extensions"]["retryAfter"] > 0
    body = await login(gql, player.email.upper())  # the lock is on the account, not the spelling
    assert error_codes(body) == ["RATE_LIMITED"]
    # Other accounts from the same address still log in.
    await login_tokens(gql, bystander.email)

    async with rt.database.session() as db:
        records = (
            await db.scalars(
                select(AuditRecord).where(AuditRecord.action == "player.login_failed").order_by(AuditRecord.seq)
            )
        ).all()
    assert len(records) == 5
    assert {r.target_id for r in records} == {str(player.uuid)}
    assert {r.ip for r in records} == {"203.0.113.7"}
    assert all(r.after == {"email": player.email} for r in records)
    assert all(r.actor_type == "anonymous" for r in records)


async def test_account_lock_lifts_after_its_window(gql, make_player, rt) -> None:
    player = await make_player()
    for _ in range(5):
        await login(gql, player.email, "wrong-password-1")
    assert error_codes(await login(gql, player.email)) == ["RATE_LIMITED"]
    # The window lives in Redis; end it as time would.
    async for key in rt.redis.scan_iter(match=f"rl:login:fail:player:*:{player.email}"):
        await rt.redis.delete(key)
    await login_tokens(gql, player.email)


async def test_padding_the_brand_code_does_not_reset_the_account_lockout(gql: Any, make_player: Any, rt: Any) -> None:
    player = await make_player()
    for _ in range(rt.settings.login_failures_per_account):
        await gql(LOGIN, {"input": {"brand": "royal", "email": player.email, "password": "wrong-guess-1"}})
    for brand in ("royal", "royal ", " royal", "ROYAL"):
        body = await gql(LOGIN, {"input": {"brand": brand, "email": player.email, "password": PASSWORD}})
        assert error_codes(body) == ["RATE_LIMITED"], brand


async def test_parallel_guesses_cannot_all_slip_past_the_lockout(gql: Any, make_player: Any, rt: Any) -> None:
    import asyncio

    player = await make_player()
    bodies = await asyncio.gather(
        *(
            gql(LOGIN, {"input": {"brand": "royal", "email": player.email, "password": f"guess-{i}-x"}})
            for i in range(12)
        )
    )
    judged = [b for b in bodies if b.get("data") and b["data"]["login"]]  # password actually checked
    assert len(judged) <= rt.settings.login_failures_per_account


async def test_successful_login_clears_earlier_failures(gql, make_player) -> None:
    player = await make_player()
    for _ in range(4):
        await login(gql, player.email, "wrong-password-1")
    await login_tokens(gql, player.email)
    for _ in range(4):
        await login(gql, player.email, "wrong-password-1")
    await login_tokens(gql, player.email)


async def test_unknown_email_failures_are_audited(gql, brand, rt) -> None:
    from models.audit import AuditRecord

    body = await login(gql, "Ghost@Example.com", "wrong-password-1")
    assert [e["code"] for e in body["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"]
    async with rt.database.session() as db:
        record = await db.scalar(select(AuditRecord).where(AuditRecord.action == "player.login_failed"))
    assert record is not None
    assert record.target_id is None
    assert record.actor_id is None
    assert record.after == {"email": "ghost@example.com"}
    assert record.brand_id == brand.id


async def test_too_many_logins_from_one_address_are_refused(gql, make_player, rt) -> None:
    player = await make_player()
    limit = rt.settings.login_attempts_per_ip
    assert limit == 30
    for attempt in range(limit):
        body = await login(gql, f"nobody{attempt}@example.com", "wrong-password-1")
        assert [e["code"] for e in body["data"]["login"]["errors"]] == ["INVALID_CREDENTIALS"], attempt
    body = await login(gql, player.email)
    assert error_codes(body) == ["RATE_LIMITED"], body
    # A client-supplied X-Forwarded-For is not trusted, so it does not open a new window.
    body = await login(gql, player.email, headers={"X-Forwarded-For": str(uuid.uuid4().int % 250) + ".1.2.3"})
    assert error_codes(body) == ["RATE_LIMITED"]
