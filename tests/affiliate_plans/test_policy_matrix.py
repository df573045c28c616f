"""Casbin per field for the affiliate plan types: every field of plans and deals, the queries and the mutations, for
every role of the authorisation matrix (tests/test_authz.py): what the policy allows answers, the rest is FORBIDDEN
at its path (new fields are covered as they are added)."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import relay

from tests.affiliate_plans.conftest import create_deal, create_plan
from tests.test_authz import (
    DENIED,
    ROLES,
    allowed_for,
    check_fields,
    mutations_follow_policy,
    role_set,
    selection_of,
    shared_authorizer,
    staff_holding,
)

NOBODY = "00000000-0000-0000-0000-000000000000"
MUTATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "createAffiliatePlan": ("CreateAffiliatePlanInput", {"code": "-", "name": "x", "currency": "EUR", "kind": "CPA"}),
    "createAffiliateDeal": (
        "CreateAffiliateDealInput",
        {
            "affiliateCode": "nobody",
            "brandCode": "royal",
            "planId": str(relay.GlobalID("AffiliatePlan", NOBODY)),
            "effectiveFrom": "2030-01-01",
        },
    ),
    "cancelAffiliateDeal": ("CancelAffiliateDealInput", {"dealId": str(relay.GlobalID("AffiliateDeal", NOBODY))}),
}


@pytest.mark.parametrize("role", ROLES)
async def test_affiliate_plan_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any, partner: Any
) -> None:
    manager = await make_staff("brand_admin")
    plan = (await create_plan(gql, manager.token, kind="HYBRID", revshare={"kind": "FLAT", "ratePpm": 1}))["plan"]
    assert (await create_deal(gql, manager.token, plan["id"]))["errors"] == []
    token = None
    if role == "player":
        token = (await make_player()).token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else DENIED

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    plan_fields, plan_selection = selection_of(settings, "AffiliatePlan")
    deal_fields, deal_selection = selection_of(settings, "AffiliateDeal")
    for root, query, path, type_name, fields in (
        ("affiliatePlans", "{ affiliatePlans { edges { node { " + plan_selection + " } } } }", ["edges", 0, "node"],
         "AffiliatePlan", plan_fields),
        ("affiliatePlan", '{ affiliatePlan(id: "' + plan["id"] + '") { ' + plan_selection + " } }", [],
         "AffiliatePlan", plan_fields),
        ("affiliateDeals", "{ affiliateDeals { edges { node { " + deal_selection + " } } } }", ["edges", 0, "node"],
         "AffiliateDeal", deal_fields),
        ("affiliateDealInForce", '{ affiliateDealInForce(affiliateCode: "acme", brandCode: "royal") { '
         + deal_selection + " } }", [], "AffiliateDeal", deal_fields),
    ):  # fmt: skip
        body = await gql(query, token=token)
        if not allowed(f"Query.{root}"):
            assert body["data"] == {root: None}, (role, body)
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([root], refused)]
            continue
        node = body["data"][root]
        for step in path:
            node = node[step]
        check_fields(body, node, [root, *path], type_name, fields, allowed)

    await mutations_follow_policy(gql, token, MUTATIONS, allowed, refused, role)
    readers = {r for r in ROLES if allowed_for(authorizer, r, "Query.affiliateDeals")}
    assert readers == {"finance", "affiliate_manager", "brand_admin", "superadmin"}
    makers = {r for r in ROLES if allowed_for(authorizer, r, "Mutation.createAffiliatePlan")}
    assert makers == {"affiliate_manager", "brand_admin", "superadmin"}
