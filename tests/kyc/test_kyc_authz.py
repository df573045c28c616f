"""Who reads `Player.kyc` and its fields: the role x field matrix against the policy (players their own,
support, risk, finance and KYC officers any in their brand; marketing and content managers not)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.kyc.conftest import START_VERIFICATION
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

FIELDS = ["level", "requiredLevel", "status", "levels", "restricted", "highRisk"]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_kyc_field_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    target = await make_player()
    viewer = target if role == "player" else await staff_holding(make_staff, role)

    async def read(fields: list[str]) -> tuple[dict[str, Any], Any]:
        selection = "kyc { " + " ".join(fields) + " }"
        if role == "player":
            body = await gql("{ me { " + selection + " } }", token=viewer.token)
            return body, body["data"]["me"]
        query = "query($id: ID!) { player(id: $id) { " + selection + " } }"
        body = await gql(query, {"id": target.id}, token=viewer.token)
        return body, body["data"]["player"]

    body, data = await read(FIELDS)
    authorizer = shared_authorizer(settings)
    roles, brand = role_set(role)

    def may(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand, coordinate) for r in roles)

    if data is None:  # a role that does not look players up
        assert not may("Query.player"), body
        return
    if not may("Player.kyc"):
        assert data["kyc"] is None
        assert any(e["extensions"]["code"] == "FORBIDDEN" for e in body["errors"]), body
        return
    assert may("Kyc.level") == may("Kyc.status")
    denied = [f for f in FIELDS if not may(f"Kyc.{f}")]
    if denied and may("Kyc.level"):  # a denied non-null field takes its object with it: read the rest alone
        assert data["kyc"] is None, (role, body)
        assert {e["path"][-1] for e in body["errors"]} == set(denied), body
        body, data = await read([f for f in FIELDS if f not in denied])
    for field in FIELDS:
        if may(f"Kyc.{field}"):
            assert data["kyc"][field] is not None, (role, field, body)
        else:
            assert data["kyc"] is None or data["kyc"].get(field) is None, (role, field, body)
    # The MLRO reads the overview too: they require levels (kycRequireLevel) and decide on what KYC shows.
    expected = {"support", "kyc_officer", "risk_analyst", "finance", "brand_admin", "superadmin", "player", "mlro"}
    assert (role in expected) == may("Kyc.status"), role
    assert may("Query.kycReviewQueue") == (role in {"kyc_officer", "superadmin"}), role


VERIFICATION_FIELDS = ["provider", "status", "canStart", "rejectLabels", "updatedAt"]


@pytest.mark.parametrize("role", ROLES)
async def test_the_identity_check_at_the_provider_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any, idv: Any
) -> None:
    """`Kyc.verification` is read by whoever reads a player's KYC; only the player starts their own check."""
    target = await make_player()
    started = await gql(START_VERIFICATION, token=target.token)
    assert started["data"]["kycStartVerification"]["errors"] == [], started
    authorizer = shared_authorizer(settings)
    roles, brand = role_set(role)

    def may(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand, coordinate) for r in roles)

    assert may("Mutation.kycStartVerification") == (role in {"player", "superadmin"}), role
    assert may("KycVerification.status") == may("Kyc.status"), role
    selection = "kyc { verification { " + " ".join(VERIFICATION_FIELDS) + " } }"
    token = None
    if role == "player":
        body = await gql("{ me { " + selection + " } }", token=target.token)
        data = body["data"]["me"]
    else:
        token = (await staff_holding(make_staff, role)).token if role != "anonymous" else None
        body = await gql("query($id: ID!) { player(id: $id) { " + selection + " } }", {"id": target.id}, token=token)
        data = (body.get("data") or {}).get("player")
    kyc = (data or {}).get("kyc")
    if may("Player.kyc") and may("Kyc.verification") and data is not None:
        for field in VERIFICATION_FIELDS:
            assert (kyc["verification"][field] is not None) == may(f"KycVerification.{field}"), (role, field, body)
    else:
        assert kyc is None or kyc["verification"] is None, (role, body)
    if role not in ("player", "anonymous"):  # staff cannot start a player's check, whatever the policy says
        other = await gql(START_VERIFICATION, token=token)
        payload = (other.get("data") or {}).get("kycStartVerification")
        assert payload is None or payload["url"] is None, (role, other)
