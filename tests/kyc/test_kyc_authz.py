"""Who reads `Player.kyc` and its fields: the role x field matrix against the policy (players their own,
support, risk, finance and KYC officers any in their brand; marketing and content managers not)."""

from __future__ import annotations

from typing import Any

import pytest

from authz.policy import Authorizer
from schema.root import build_schema, schema_coordinates
from tests.test_authz import ROLES, role_set, staff_holding

FIELDS = ["level", "requiredLevel", "status", "levels", "restricted", "highRisk"]


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_kyc_field_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    target = await make_player()
    selection = "kyc { " + " ".join(FIELDS) + " }"
    if role == "player":
        body = await gql("{ me { " + selection + " } }", token=target.token)
        data = body["data"]["me"]
    else:
        viewer = await staff_holding(make_staff, role)
        body = await gql(
            "query($id: ID!) { player(id: $id) { " + selection + " } }", {"id": target.id}, token=viewer.token
        )
        data = body["data"]["player"]
    authorizer = Authorizer(schema_coordinates(build_schema(settings)))
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
    for field in FIELDS:
        if may(f"Kyc.{field}"):
            assert data["kyc"][field] is not None, (role, field, body)
        else:
            assert data["kyc"] is None or data["kyc"][field] is None, (role, field, body)
    # The MLRO reads the overview too: they require levels (kycRequireLevel) and decide on what KYC shows.
    expected = {"support", "kyc_officer", "risk_analyst", "finance", "brand_admin", "superadmin", "player", "mlro"}
    assert (role in expected) == may("Kyc.status"), role
    assert may("Query.kycReviewQueue") == (role in {"kyc_officer", "superadmin"}), role
