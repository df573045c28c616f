"""The role x field matrix of AML cases: each role reads a case's fields exactly as the policy says (the
AML desk and superadmins; support, finance, marketing, players and visitors nothing)."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLScalarType, get_named_type

from tests.aml_cases.conftest import OPEN, Desk
from tests.test_authz import ROLES, built_schema, errors_at, role_set, shared_authorizer, staff_holding


def case_leaf_fields(settings: Any) -> list[str]:
    case_type = built_schema(settings)._schema.type_map["AmlCase"]
    return [
        name
        for name, field in case_type.fields.items()
        if isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    ]


@pytest.mark.parametrize("role", ROLES)
async def test_case_field_matrix_follows_policy(
    role: str, settings: Any, gql: Any, desk: Desk, make_player: Any, make_staff: Any, mlro: Any
) -> None:
    fields = case_leaf_fields(settings)
    assert {"id", "summary", "state", "overdue", "restricted"} <= set(fields)
    player = await make_player()
    case_id = (await desk.ok(OPEN, mlro.token, playerId=player.id, summary="matrix"))["case"]["id"]
    token = None
    if role == "player":
        token = player.token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    body = await gql("query($id: ID!) { amlCase(id: $id) { " + " ".join(fields) + " } }", {"id": case_id}, token=token)

    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    if not any(authorizer.enforce(r, brand_code, "Query.amlCase") for r in roles):
        assert body["data"] == {"amlCase": None}
        assert errors_at(body, ["amlCase"]) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]
        return
    data = body["data"]["amlCase"]
    assert data is not None, body
    for field in fields:
        allowed = any(authorizer.enforce(r, brand_code, f"AmlCase.{field}") for r in roles)
        assert errors_at(body, ["amlCase", field]) == ([] if allowed else ["FORBIDDEN"]), (role, field)
        assert (data[field] is not None) == allowed or field in ("outcome", "escalatedAt", "closedAt"), (role, field)


def test_the_aml_desk_is_who_the_issue_says(settings: Any) -> None:
    authorizer = shared_authorizer(settings)

    def reads(role: str) -> bool:
        roles, brand_code = role_set(role)
        return any(authorizer.enforce(r, brand_code, "AmlCase.summary") for r in roles)

    assert {r for r in ROLES if reads(r)} == {"kyc_officer", "risk_analyst", "mlro", "brand_admin", "superadmin"}
    roles, brand_code = role_set("risk_analyst")
    assert not any(authorizer.enforce(r, brand_code, "Mutation.exportSar") for r in roles)
    roles, brand_code = role_set("mlro")
    assert any(authorizer.enforce(r, brand_code, "Mutation.exportSar") for r in roles)
