"""Staff require a KYC level (`kycRequireLevel`): the AML desk only, with a reason kept in the AML audit
topic, once per level; the player's withdrawals then wait for it."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from models.audit import AuditRecord
from tests.conftest import fund
from tests.kyc.conftest import PLAYER_KYC, withdraw
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

REQUIRE = """mutation($input: KycRequireLevelInput!) {
  kycRequireLevel(input: $input) { kyc { level requiredLevel status reason } errors { code field message } } }"""


async def require(gql: Any, token: str | None, player: Any, level: str, reason: str = "unusual pattern") -> Any:
    return await gql(REQUIRE, {"input": {"playerId": player.id, "level": level, "reason": reason}}, token=token)


async def test_an_officer_requires_a_level_and_the_players_withdrawal_waits_for_it(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    await fund(rt, player, "100.00 EUR", deposit=True)
    officer = await make_staff("kyc_officer")
    body = await require(gql, officer.token, player, "address_verified", "source of deposits unclear")
    payload = body["data"]["kycRequireLevel"]
    assert payload["errors"] == [], body
    assert (payload["kyc"]["level"], payload["kyc"]["requiredLevel"]) == ("registered", "address_verified")
    seen = await gql(PLAYER_KYC, {"id": player.id}, token=officer.token)
    assert seen["data"]["player"]["kyc"]["requiredLevel"] == "address_verified"

    waiting = await withdraw(gql, player, "10.00")
    assert waiting["errors"] == [], waiting
    assert waiting["payment"]["status"] == "WAITING_FOR_KYC"

    async with rt.database.session() as db:
        records = (
            await db.execute(
                select(AuditRecord.action, AuditRecord.reason, AuditRecord.actor_id).where(
                    AuditRecord.action == "aml.kyc_level_required"
                )
            )
        ).all()
    assert [(r[1], str(r[2])) for r in records] == [("source of deposits unclear", str(officer.id))]


async def test_refusals_name_the_problem_and_change_nothing(gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    mlro = await make_staff("mlro")
    assert (await require(gql, mlro.token, player, "identity_verified"))["data"]["kycRequireLevel"]["errors"] == []
    again = (await require(gql, mlro.token, player, "identity_verified"))["data"]["kycRequireLevel"]
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("INVALID_STATE", "level")]
    held = (await require(gql, mlro.token, player, "registered"))["data"]["kycRequireLevel"]
    assert [(e["code"], e["field"]) for e in held["errors"]] == [("INVALID_STATE", "level")]
    unknown = (await require(gql, mlro.token, player, "platinum"))["data"]["kycRequireLevel"]
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("INVALID_INPUT", "level")]
    blank = (await require(gql, mlro.token, player, "address_verified", "  "))["data"]["kycRequireLevel"]
    assert [e["field"] for e in blank["errors"]] == ["reason"]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_who_may_require_a_level_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    token = player.token if role == "player" else (await staff_holding(make_staff, role)).token
    body = await require(gql, token, player, "address_verified")
    roles, brand_code = role_set(role)
    authorizer = shared_authorizer(settings)
    if role == "brand_admin":  # the policy lets brand admins through risk; the service keeps acting to the desk
        assert [e["code"] for e in body["data"]["kycRequireLevel"]["errors"]] == ["NOT_ALLOWED"], body
    elif any(authorizer.enforce(r, brand_code, "Mutation.kycRequireLevel") for r in roles):
        assert body["data"]["kycRequireLevel"]["errors"] == [], (role, body)
        assert body["data"]["kycRequireLevel"]["kyc"]["requiredLevel"] == "address_verified", (role, body)
    else:
        assert body["data"] is None or body["data"]["kycRequireLevel"] is None, (role, body)
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"], (role, body)
    expected = {"kyc_officer", "risk_analyst", "mlro", "brand_admin", "superadmin"}
    assert any(authorizer.enforce(r, brand_code, "Mutation.kycRequireLevel") for r in roles) == (role in expected)
