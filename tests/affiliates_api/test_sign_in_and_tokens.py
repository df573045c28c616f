"""Portal sign-in and scoped API tokens: shown once, stored hashed, expiring, revocable, rate-limited, last used."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from core.clock import clock
from schema.base import to_global_id
from tests.affiliates.test_partners_api import DISABLE, STATUS
from tests.affiliates_api.conftest import (
    ALL_SCOPES,
    CREATE_TOKEN,
    REVOKE_TOKEN,
    insert_partner,
    insert_portal_user,
    sign_in,
)
from tests.conftest import error_codes

PORTAL = "{ affiliatePortal { partner { code company brands } scopes } }"
TOKENS = "{ affiliatePortal { tokens { id name prefix scopes active lastUsedAt revokedAt } } }"


async def test_a_portal_user_signs_in_and_sees_its_partner(gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    body = await gql(PORTAL, token=partner.token)
    assert "errors" not in body
    assert body["data"] == {
        "affiliatePortal": {
            "partner": {"code": "acme", "company": "Acme Media Ltd", "brands": ["royal"]},
            "scopes": ALL_SCOPES,
        }
    }


async def test_wrong_password_disabled_user_and_closed_partner_cannot_sign_in(rt: Any, gql: Any, brand: Any) -> None:
    affiliate_id = await insert_partner(rt, "acme", [brand.id])
    await insert_portal_user(rt, affiliate_id, "a@acme.test")
    assert [e["code"] for e in (await sign_in(gql, "a@acme.test", "wrong-password-1"))["errors"]] == [
        "INVALID_CREDENTIALS"
    ]
    assert [e["code"] for e in (await sign_in(gql, "nobody@acme.test"))["errors"]] == ["INVALID_CREDENTIALS"]
    signed = await sign_in(gql, "A@Acme.test ")
    assert signed["errors"] == []
    assert signed["partner"]["code"] == "acme"
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE affiliate_users SET disabled_at = now()"))
    assert [e["code"] for e in (await sign_in(gql, "a@acme.test"))["errors"]] == ["ACCOUNT_BLOCKED"]
    # An access token issued before the user was disabled stops working at once.
    body = await gql(PORTAL, token=signed["accessToken"])
    assert error_codes(body) == ["UNAUTHENTICATED"]


async def test_a_portal_token_is_not_a_player_or_staff_token(gql: Any, make_partner: Any, make_player: Any) -> None:
    partner = await make_partner("acme")
    body = await gql("{ me { id } players { edges { node { id } } } currentStaff { id } }", token=partner.token)
    assert body["data"] == {"me": None, "players": None, "currentStaff": None}
    assert set(error_codes(body)) == {"FORBIDDEN"}
    # And a player's token gets no portal.
    player = await make_player()
    assert (await gql(PORTAL, token=player.token))["data"] == {"affiliatePortal": None}


async def test_a_token_is_shown_once_and_stored_hashed(rt: Any, gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    expires = (clock.now() + timedelta(days=30)).isoformat()
    body = await gql(
        CREATE_TOKEN,
        {"input": {"name": "stats feed", "scopes": ["STATS_READ"], "expiresAt": expires}},
        token=partner.token,
    )
    payload = body["data"]["createAffiliateToken"]
    assert payload["errors"] == []
    secret = payload["secret"]
    assert secret.startswith("caf_")
    assert len(secret) >= 40
    assert payload["token"]["prefix"] == secret[:12]
    assert payload["token"]["scopes"] == ["STATS_READ"]
    assert payload["token"]["active"] is True
    async with rt.database.session() as db:
        stored = (await db.execute(text("SELECT * FROM affiliate_api_tokens"))).mappings().one()
    assert stored["token_hash"] == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in {str(v) for v in stored.values()}
    # The list shows it without its secret (there is no field that could).
    listed = (await gql(TOKENS, token=partner.token))["data"]["affiliatePortal"]["tokens"]
    assert [(t["name"], t["prefix"], t["active"]) for t in listed] == [("stats feed", secret[:12], True)]
    # The token works, with its scope only, and its use is recorded.
    body = await gql(PORTAL, token=secret)
    assert body["data"]["affiliatePortal"]["scopes"] == ["STATS_READ"]
    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT last_used_at FROM affiliate_api_tokens")) is not None


async def test_token_input_is_checked(gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")

    async def refused(name: str, scopes: list[str], expires: Any) -> list[tuple[str, str]]:
        body = await gql(
            CREATE_TOKEN,
            {"input": {"name": name, "scopes": scopes, "expiresAt": expires.isoformat()}},
            token=partner.token,
        )
        payload = body["data"]["createAffiliateToken"]
        assert payload["secret"] is None
        assert payload["token"] is None
        return [(e["code"], e["field"]) for e in payload["errors"]]

    now = clock.now()
    assert await refused(" ", ["STATS_READ"], now + timedelta(days=1)) == [("INVALID_INPUT", "name")]
    assert await refused("x", [], now + timedelta(days=1)) == [("INVALID_INPUT", "scopes")]
    assert await refused("x", ["STATS_READ"], now - timedelta(minutes=1)) == [("INVALID_INPUT", "expiresAt")]
    assert await refused("x", ["STATS_READ"], now + timedelta(days=400)) == [("LIMIT_REACHED", "expiresAt")]
    body = await gql(
        CREATE_TOKEN,
        {"input": {"name": "x", "scopes": ["EVERYTHING"], "expiresAt": (now + timedelta(days=1)).isoformat()}},
        token=partner.token,
    )
    assert body["data"] is None
    assert error_codes(body) == ["BAD_USER_INPUT"]  # an unknown scope is not a scope


async def test_an_expired_or_revoked_token_stops_working(gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    secret = await partner.api_token(gql, ["STATS_READ"], days=1)
    assert (await gql(PORTAL, token=secret))["data"]["affiliatePortal"] is not None
    clock.advance(timedelta(days=1, seconds=1))
    body = await gql(PORTAL, token=secret)
    assert error_codes(body) == ["UNAUTHENTICATED"]
    clock.reset()

    other = await partner.api_token(gql, ["STATS_READ"], name="second")
    listed = (await gql(TOKENS, token=partner.token))["data"]["affiliatePortal"]["tokens"]
    second = next(t for t in listed if t["name"] == "second")
    body = await gql(REVOKE_TOKEN, {"input": {"id": second["id"]}}, token=partner.token)
    assert body["data"]["revokeAffiliateToken"]["errors"] == []
    assert body["data"]["revokeAffiliateToken"]["token"]["active"] is False
    assert error_codes(await gql(PORTAL, token=other)) == ["UNAUTHENTICATED"]
    # Revoking again changes nothing; a made-up token is refused like a revoked one.
    again = await gql(REVOKE_TOKEN, {"input": {"id": second["id"]}}, token=partner.token)
    assert (
        again["data"]["revokeAffiliateToken"]["token"]["revokedAt"]
        == (body["data"]["revokeAffiliateToken"]["token"]["revokedAt"])
    )
    assert error_codes(await gql(PORTAL, token="caf_" + "A" * 43)) == ["UNAUTHENTICATED"]


async def test_a_token_cannot_manage_tokens(gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    secret = await partner.api_token(gql, ALL_SCOPES)
    expires = (clock.now() + timedelta(days=1)).isoformat()
    body = await gql(
        CREATE_TOKEN, {"input": {"name": "more", "scopes": ALL_SCOPES, "expiresAt": expires}}, token=secret
    )
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["createAffiliateToken"], "FORBIDDEN")]
    body = await gql(TOKENS, token=secret)
    assert body["data"]["affiliatePortal"]["tokens"] is None
    assert error_codes(body) == ["FORBIDDEN"]


async def test_each_token_is_rate_limited_on_its_own(rt: Any, gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    busy = await partner.api_token(gql, ["STATS_READ"], name="busy")
    quiet = await partner.api_token(gql, ["STATS_READ"], name="quiet")
    limit = rt.settings.affiliate_requests_per_minute
    for _ in range(limit):
        assert "errors" not in await gql(PORTAL, token=busy)
    refused = await gql(PORTAL, token=busy)
    assert error_codes(refused) == ["RATE_LIMITED"]
    assert "errors" not in await gql(PORTAL, token=quiet)
    assert "errors" not in await gql(PORTAL, token=partner.token)


async def test_making_and_revoking_a_token_is_audited_without_its_secret(rt: Any, gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    secret = await partner.api_token(gql, ["STATS_READ"])
    listed = (await gql(TOKENS, token=partner.token))["data"]["affiliatePortal"]["tokens"]
    await gql(REVOKE_TOKEN, {"input": {"id": listed[0]["id"]}}, token=partner.token)
    await gql(REVOKE_TOKEN, {"input": {"id": listed[0]["id"]}}, token=partner.token)
    async with rt.database.session() as db:
        rows = (
            await db.execute(
                text("SELECT actor_type, actor_id, action, after::text AS after FROM audit_log ORDER BY seq")
            )
        ).all()
    assert [(r.actor_type, r.actor_id, r.action) for r in rows] == [
        ("affiliate", partner.user_id, "affiliate.token_created"),
        ("affiliate", partner.user_id, "affiliate.token_revoked"),
    ]
    assert all(secret not in r.after and secret[12:] not in r.after for r in rows)


async def test_signing_out_ends_the_sign_in_at_once(gql: Any, make_partner: Any) -> None:
    partner = await make_partner("acme")
    secret = await partner.api_token(gql, ["STATS_READ"])
    body = await gql("mutation { affiliateSignOut { signedOut errors { code } } }", token=partner.token)
    assert body["data"]["affiliateSignOut"] == {"signedOut": True, "errors": []}
    assert error_codes(await gql(PORTAL, token=partner.token)) == ["UNAUTHENTICATED"]
    # Its API tokens live on; a new sign-in works.
    assert "errors" not in await gql(PORTAL, token=secret)
    signed = await sign_in(gql, partner.email)
    assert "errors" not in await gql(PORTAL, token=signed["accessToken"])


async def test_tokens_stop_while_their_partner_is_suspended_or_closed_and_when_their_maker_is_disabled(
    rt: Any, gql: Any, make_partner: Any, make_staff: Any
) -> None:
    manager = await make_staff("affiliate_manager")
    partner = await make_partner("acme")
    secret = await partner.api_token(gql, ["STATS_READ"])
    pid = str(to_global_id("Affiliate", partner.id))

    async def move(status: str) -> None:
        body = await gql(STATUS, {"input": {"affiliateId": pid, "status": status, "reason": "r"}}, token=manager.token)
        assert body["data"]["setAffiliateStatus"]["errors"] == [], body

    await move("SUSPENDED")
    assert error_codes(await gql(PORTAL, token=secret)) == ["UNAUTHENTICATED"]
    refused = await gql(
        CREATE_TOKEN,
        {"input": {"name": "x", "scopes": ["STATS_READ"], "expiresAt": (clock.now() + timedelta(days=1)).isoformat()}},
        token=partner.token,
    )  # the portal user still signs in (to read its figures), but makes no token while suspended
    assert [e["code"] for e in refused["data"]["createAffiliateToken"]["errors"]] == ["INVALID_STATE"]
    await move("ACTIVE")
    assert (await gql(PORTAL, token=secret))["data"]["affiliatePortal"] is not None  # reactivated: works again

    colleague = await insert_portal_user(rt, partner.id, "colleague@acme.test")
    signed = await sign_in(gql, "colleague@acme.test")
    theirs = await gql(
        CREATE_TOKEN,
        {"input": {"name": "c", "scopes": ["STATS_READ"], "expiresAt": (clock.now() + timedelta(days=1)).isoformat()}},
        token=signed["accessToken"],
    )
    colleagues = theirs["data"]["createAffiliateToken"]["secret"]
    uid = str(to_global_id("AffiliatePortalUser", colleague))
    body = await gql(DISABLE, {"input": {"userId": uid, "reason": "left"}}, token=manager.token)
    assert body["data"]["disableAffiliatePortalUser"]["errors"] == []
    assert error_codes(await gql(PORTAL, token=colleagues)) == ["UNAUTHENTICATED"]  # their maker was disabled
    assert (await gql(PORTAL, token=secret))["data"]["affiliatePortal"] is not None  # another user's token works

    await move("CLOSED")
    assert error_codes(await gql(PORTAL, token=secret)) == ["UNAUTHENTICATED"]
