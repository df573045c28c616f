"""The role x field matrix for the affiliate subject: every field of the partner's types and every partner
mutation, for a portal user, a token of each scope, a token of all scopes, and the other subjects (anonymous,
a player, staff). What the policy allows answers; the rest is FORBIDDEN at its path, null, and changes nothing.
New fields are covered as they are added (the selections are built from the schema)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLScalarType, get_named_type
from sqlalchemy import text

from authz.policy import Authorizer
from core.clock import clock
from models.affiliate_tokens import Scope
from schema.root import schema_coordinates
from services.affiliates.portal_auth import AFFILIATE_ROLE, PORTAL_ROLE, SCOPE_ROLES, roles_for
from tests.affiliates_api.conftest import insert_link
from tests.test_authz import built_schema, shared_authorizer

SUBJECTS = ["anonymous", "player", "support", "superadmin", "portal", *[f"token:{s.name}" for s in Scope], "token:ALL"]
DENIED = "FORBIDDEN"


def leaves(settings: Any, type_name: str) -> tuple[list[str], str]:
    graphql_type = built_schema(settings)._schema.type_map[type_name]
    names = [
        name
        for name, field in graphql_type.fields.items()
        if isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    ]
    return names, " ".join(names)


def portal_query(settings: Any) -> str:
    _, partner = leaves(settings, "AffiliatePortalPartner")
    _, link = leaves(settings, "AffiliatePortalLink")
    _, row = leaves(settings, "AffiliateStatsRow")
    _, token = leaves(settings, "AffiliateToken")
    _, commission = leaves(settings, "AffiliateCommissionRow")
    _, postback = leaves(settings, "AffiliatePortalPostback")
    portal = built_schema(settings)._schema.type_map["AffiliatePortal"]
    selections = {
        "partner": "partner { " + partner + " }",
        "scopes": "scopes",
        "links": "links { edges { node { " + link + " } } pageInfo { hasNextPage } }",
        "stats": "stats(from: $from, to: $to, groupBy: LINK) { " + row + " }",
        "tokens": "tokens { " + token + " }",
        "commissions": "commissions(from: $from, to: $to) { " + commission + " }",
        "postbacks": "postbacks(first: 10) { edges { node { " + postback + " } } pageInfo { hasNextPage } }",
    }
    assert set(portal.fields) == set(selections), "a new AffiliatePortal field: add it to the matrix"
    return "query($from: Date!, $to: Date!) { affiliatePortal { " + " ".join(selections.values()) + " } }"


MUTATIONS: dict[str, tuple[str, Any]] = {
    # Each with input its service refuses, so an allowed call answers in its payload and changes nothing.
    "createAffiliateLink": ("CreateAffiliateLinkInput", {"brandCode": "nowhere", "tag": "x"}),
    "createAffiliateToken": ("CreateAffiliateTokenInput", {"name": " ", "scopes": ["STATS_READ"]}),
    "revokeAffiliateToken": ("RevokeAffiliateTokenInput", {"id": "QWZmaWxpYXRlVG9rZW46MA=="}),
    "affiliateSignIn": ("AffiliateSignInInput", {"email": "nobody@nowhere.test", "password": "wrong-password-1"}),
}


def subject_roles(subject: str) -> tuple[frozenset[str], str]:
    if subject == "portal":
        return roles_for(frozenset(Scope), portal_user=True), "*"
    if subject == "token:ALL":
        return roles_for(frozenset(Scope), portal_user=False), "*"
    if subject.startswith("token:"):
        return roles_for(frozenset({Scope[subject.partition(":")[2]]}), portal_user=False), "*"
    if subject in ("anonymous", "player"):
        return frozenset({subject}), "*"
    return frozenset({subject, "staff"}), "*" if subject == "superadmin" else "royal"


@pytest.mark.parametrize("subject", SUBJECTS)
async def test_affiliate_matrix_follows_policy(
    subject: str, rt: Any, settings: Any, gql: Any, brand: Any, make_partner: Any, make_player: Any, make_staff: Any
) -> None:
    partner = await make_partner("acme")
    await insert_link(rt, partner.id, brand.id, "acme-link", "spring")
    await partner.api_token(gql, ["STATS_READ"], name="listed")
    token: str | None = None
    if subject == "portal":
        token = partner.token
    elif subject == "token:ALL":
        token = await partner.api_token(gql, [s.name for s in Scope])
    elif subject.startswith("token:"):
        token = await partner.api_token(gql, [subject.partition(":")[2]])
    elif subject == "player":
        token = (await make_player()).token
    elif subject != "anonymous":
        token = (await make_staff((subject, None) if subject == "superadmin" else subject)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = subject_roles(subject)
    affiliate = AFFILIATE_ROLE in roles

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    today = clock.now().date()
    body = await gql(portal_query(settings), {"from": today.isoformat(), "to": today.isoformat()}, token=token)
    if not affiliate:
        # Anyone may ask; only a partner has a portal.
        assert allowed("Query.affiliatePortal")
        assert body["data"] == {"affiliatePortal": None}, body
        assert not body.get("errors"), body
    else:
        portal = body["data"]["affiliatePortal"]
        assert portal is not None, body
        for field in ("partner", "scopes", "links", "stats", "tokens", "commissions", "postbacks"):
            codes = [
                e["extensions"]["code"] for e in body.get("errors") or [] if e["path"] == ["affiliatePortal", field]
            ]
            if allowed(f"AffiliatePortal.{field}"):
                assert DENIED not in codes, (subject, field, body)
            else:
                assert codes == [DENIED], (subject, field, body)
                assert portal[field] is None, (subject, field)
        if allowed("AffiliatePortal.links"):
            assert [e["node"]["tag"] for e in portal["links"]["edges"]] == ["spring"]
        if allowed("AffiliatePortal.tokens"):
            assert "listed" in [t["name"] for t in portal["tokens"]]
        assert sorted(portal["scopes"]) == sorted(s.name for s in Scope if SCOPE_ROLES[s] in roles)

    async with rt.database.session() as db:
        written = (
            await db.scalar(text("SELECT count(*) FROM affiliate_api_tokens")),
            await db.scalar(text("SELECT count(*) FROM affiliate_links")),
        )
    expires = (clock.now() + timedelta(days=1)).isoformat()
    for name, (input_type, given) in MUTATIONS.items():
        variables = {"input": {**given, **({"expiresAt": expires} if name == "createAffiliateToken" else {})}}
        body = await gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ code }} }} }}",
            variables,
            token=token,
        )
        if not allowed(f"Mutation.{name}"):
            refused = "UNAUTHENTICATED" if subject == "anonymous" else DENIED
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([name], refused)], (
                subject,
                body,
            )
        elif affiliate or name == "affiliateSignIn":
            assert not body.get("errors"), (subject, name, body)
            assert body["data"][name]["errors"], (subject, name, body)
        else:  # staff holding every right (superadmin's `*`) are still no partner
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([name], DENIED)], (subject, body)
    # Signing out (last: it ends a portal user's sign-in).
    body = await gql("mutation { affiliateSignOut { signedOut errors { code } } }", token=token)
    if not allowed("Mutation.affiliateSignOut"):
        refused = "UNAUTHENTICATED" if subject == "anonymous" else DENIED
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["affiliateSignOut"], refused)]
    elif affiliate:
        assert body["data"]["affiliateSignOut"] == {"signedOut": True, "errors": []}, body
    else:
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["affiliateSignOut"], DENIED)]
    async with rt.database.session() as db:
        assert (
            await db.scalar(text("SELECT count(*) FROM affiliate_api_tokens")),
            await db.scalar(text("SELECT count(*) FROM affiliate_links")),
        ) == written


def test_the_scopes_reach_what_they_name_and_no_more(settings: Any) -> None:
    """The policy itself: each scope's role reaches its own fields only; tokens never manage tokens; the
    affiliate roles reach no player, payment or staff field."""
    coordinates = schema_coordinates(built_schema(settings))
    authorizer = Authorizer(coordinates)

    def reach(*roles: str) -> frozenset[str]:
        return authorizer.allowed(frozenset(roles), "*")

    base = reach(AFFILIATE_ROLE)
    assert "Query.affiliatePortal" in base
    assert reach(AFFILIATE_ROLE, SCOPE_ROLES[Scope.STATS_READ]) - base == {
        "AffiliatePortal.stats",
        *(c for c in coordinates if c.startswith("AffiliateStatsRow.")),
    }
    assert "Mutation.createAffiliateLink" in reach(SCOPE_ROLES[Scope.LINKS_WRITE])
    assert "AffiliatePortal.links" not in reach(SCOPE_ROLES[Scope.LINKS_WRITE])
    assert "AffiliatePortal.commissions" in reach(SCOPE_ROLES[Scope.COMMISSIONS_READ])
    everything = reach(*roles_for(frozenset(Scope), portal_user=False))
    assert not everything & {"Mutation.createAffiliateToken", "Mutation.revokeAffiliateToken", "AffiliatePortal.tokens"}
    assert {"Mutation.createAffiliateToken", "AffiliatePortal.tokens"} <= reach(PORTAL_ROLE)
    with_portal = reach(*roles_for(frozenset(Scope), portal_user=True))
    foreign = {
        c
        for c in with_portal
        if not c.startswith(
            (
                "Affiliate",
                "CreateAffiliate",
                "RevokeAffiliate",
                "Query.affiliatePortal",
                "Mutation.createAffiliate",
                "Mutation.revokeAffiliate",
                "Mutation.affiliateSignOut",
            )
        )
    }
    assert foreign == {"PageInfo." + f for f in ("hasNextPage", "hasPreviousPage", "startCursor", "endCursor")} | {
        c for c in coordinates if c.startswith("UserError.")
    }


def test_the_policys_affiliate_roles_are_the_scopes_roles() -> None:
    """tests/test_authz.py checks every policy role's decisions against Casbin: it must list these."""
    from tests.test_authz import AFFILIATE_ROLES

    assert set(AFFILIATE_ROLES) == {AFFILIATE_ROLE, PORTAL_ROLE, *SCOPE_ROLES.values()}
