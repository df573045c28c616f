"""Authorisation through the public API: the field matrix, policy coverage, ids, brands, role management."""

from __future__ import annotations

import functools
import json
from datetime import date
from typing import Any

import casbin
import pytest
from casbin.util.builtin_operators import glob_match_func
from graphql import GraphQLEnumType, GraphQLScalarType, get_named_type
from sqlalchemy import func, select
from strawberry import relay

from authz.policy import MODEL_PATH, POLICY_PATH, Authorizer, action_for
from schema.root import build_schema, schema_coordinates
from tests.conftest import PASSWORD, error_codes

_BUILT: dict[int, tuple[Any, Authorizer]] = {}


def built_schema(settings: Any) -> Any:
    """The schema as the server builds it, once per worker and settings (a build takes about a second)."""
    return _built(settings)[0]


def shared_authorizer(settings: Any) -> Authorizer:
    """An Authorizer over the schema's coordinates, once per worker and settings: each role's decisions
    are computed once for every test that asks."""
    return _built(settings)[1]


def _built(settings: Any) -> tuple[Any, Authorizer]:
    if (found := _BUILT.get(id(settings))) is None:
        schema = build_schema(settings)
        found = _BUILT[id(settings)] = (schema, Authorizer(schema_coordinates(schema)))
    return found


ROLES = [
    "anonymous",
    "player",
    "support",
    "kyc_officer",
    "risk_analyst",
    "finance",
    "marketing",
    "brand_admin",
    "superadmin",
    "content_manager",
    "mlro",
    "dpo",
    "affiliate_manager",
]
STAFF_ROLES = ROLES[2:]
# Roles over what every brand shares, granted for every brand only (models/staff.py PLATFORM_ROLES).
GLOBAL_ROLES = ("superadmin", "content_manager")
# Every role named in the policy, including the ones only inherited from.
# The affiliate subject's roles: its base role, one per API-token scope, and the portal user's
# (services/affiliates/portal_auth.py; the matrix for them is tests/affiliates_api/test_matrix.py).
AFFILIATE_ROLES = [
    "affiliate",
    "affiliate_portal",
    "affiliate_stats",
    "affiliate_links_read",
    "affiliate_links_write",
    "affiliate_commissions",
    "affiliate_postbacks",
]
POLICY_ROLES = [
    *ROLES,
    "staff",
    "player_desk",
    "aml_desk",
    "dispute_desk",
    "tournament_desk",
    "affiliate_reader",
    "attribution_view",
    *AFFILIATE_ROLES,
    "experiment_desk",
    "lobby_desk",
    "content_desk",
    "journey_builder",
    "journey_log",
    "routing_desk",
    "routing_view",
]


def player_leaf_fields(settings: Any) -> list[str]:
    """The scalar and enum fields of `Player`, as the built schema has them."""
    player_type = built_schema(settings)._schema.type_map["Player"]
    return [
        name
        for name, field in player_type.fields.items()
        if isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    ]


def role_set(role: str) -> tuple[frozenset[str], str]:
    """The roles and brand code a viewer holding `role` is authorised with (staff also hold "staff")."""
    if role in ("anonymous", "player"):
        return frozenset({role}), "*"
    return frozenset({role, "staff"}), "*" if role in GLOBAL_ROLES else "royal"


async def staff_holding(make_staff: Any, role: str) -> Any:
    """A staff member holding `role` where it is granted: every brand for global roles, else royal."""
    return await make_staff((role, None) if role in GLOBAL_ROLES else role)


def errors_at(body: dict[str, Any], path: list[str | int]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or [] if e.get("path") == path]


async def set_status(gql: Any, token: str, player_id: str, status: str, reason: str = "checked") -> dict[str, Any]:
    return await gql(
        """
        mutation($input: SetPlayerStatusInput!) {
          setPlayerStatus(input: $input) { player { id status statusReason } errors { code field message } }
        }""",
        {"input": {"playerId": player_id, "status": status, "reason": reason}},
        token=token,
    )


async def audit_count(rt: Any) -> int:
    from models.audit import AuditRecord

    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(AuditRecord)) or 0)


async def player_status(rt: Any, player_uuid: Any) -> tuple[str, str | None]:
    from models.players import Player

    async with rt.database.session() as db:
        row = (await db.execute(select(Player.status, Player.status_reason).where(Player.id == player_uuid))).one()
    return str(row[0]), row[1]


# ---- 1. the role x field matrix ----------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_player_field_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    fields = player_leaf_fields(settings)
    assert {"id", "email", "dateOfBirth", "status"} <= set(fields)
    assert "brand" not in fields
    assert "sessions" not in fields

    target = await make_player(
        email="matrix@example.com",
        firstName="Ada",
        lastName="Lovelace",
        phone="+35699123456",
        addressLine1="12 Baker Street",
        addressLine2="Flat 2",
        city="London",
        postalCode="NW1 6XE",
        marketingConsent=True,
        born=date(1985, 12, 10),
    )
    admin = await make_staff(("superadmin", None))
    # Give every field a value, so "allowed" always shows as data (statusReason is set by a status change).
    changed = await set_status(gql, admin.token, target.id, "ACTIVE", reason="verified")
    assert changed["data"]["setPlayerStatus"]["errors"] == []

    selection = " ".join(fields)
    if role == "anonymous":
        body = await gql(
            "mutation($input: LoginInput!) { login(input: $input) { player { " + selection + " } errors { code } } }",
            {"input": {"brand": "royal", "email": target.email, "password": PASSWORD}},
        )
        prefix: list[str | int] = ["login", "player"]
        assert body["data"]["login"]["errors"] == []
        data = body["data"]["login"]["player"]
    elif role == "player":
        body = await gql("{ me { " + selection + " } }", token=target.token)
        prefix = ["me"]
        data = body["data"]["me"]
    else:
        viewer = admin if role == "superadmin" else await staff_holding(make_staff, role)
        body = await gql(
            "query($id: ID!) { player(id: $id) { " + selection + " } }", {"id": target.id}, token=viewer.token
        )
        prefix = ["player"]
        data = body["data"]["player"]

    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    if prefix == ["player"] and not any(authorizer.enforce(r, brand_code, "Query.player") for r in roles):
        # A role that does not look players up (content managers) gets none of their fields.
        assert data is None
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["player"], "FORBIDDEN")]
        return
    assert data is not None, body
    unexpected = [
        e
        for e in body.get("errors") or []
        if e.get("path", [])[: len(prefix)] != prefix or len(e["path"]) != len(prefix) + 1
    ]
    assert unexpected == [], unexpected
    for field in fields:
        allowed = any(authorizer.enforce(r, brand_code, f"Player.{field}") for r in roles)
        codes = errors_at(body, [*prefix, field])
        if allowed:
            assert codes == [], (role, field, body)
            assert data[field] is not None, (role, field, body)
        else:
            assert codes == ["FORBIDDEN"], (role, field, body)
            assert data[field] is None, (role, field, body)
    # The readable values are the player's own.
    expected = {
        "id": target.id,
        "email": "matrix@example.com",
        "firstName": "Ada",
        "lastName": "Lovelace",
        "dateOfBirth": "1985-12-10",
        "addressLine1": "12 Baker Street",
        "addressLine2": "Flat 2",
        "city": "London",
        "postalCode": "NW1 6XE",
        "country": "MT",
        "currency": "EUR",
        "marketingConsent": True,
        "status": "ACTIVE",
        "statusReason": "verified",
    }
    for field, value in expected.items():
        if data.get(field) is not None:
            assert data[field] == value, (role, field)


def test_matrix_is_not_trivial(settings: Any) -> None:
    """The policy really differs between roles on Player fields (else the matrix would test nothing)."""
    authorizer = shared_authorizer(settings)
    fields = player_leaf_fields(settings)

    def readable(role: str) -> set[str]:
        roles, brand_code = role_set(role)
        return {f for f in fields if any(authorizer.enforce(r, brand_code, f"Player.{f}") for r in roles)}

    assert readable("superadmin") == set(fields) == readable("player") == readable("kyc_officer")
    assert readable("support") == set(fields) - {"dateOfBirth"}
    assert "email" not in readable("marketing")
    assert "dateOfBirth" not in readable("finance")
    # The postal address is personal data: read where the phone is read, not by finance or marketing.
    address = {"addressLine1", "addressLine2", "city", "postalCode"}
    for role in ("support", "kyc_officer", "risk_analyst", "player"):
        assert address <= readable(role), role
    for role in ("finance", "marketing", "content_manager"):
        assert not address & readable(role), role
    assert readable("staff") == set()


# ---- 2. policy coverage ------------------------------------------------------------------------


def test_every_coordinate_is_allowed_to_some_role(settings: Any, app: Any) -> None:
    coordinates = schema_coordinates(built_schema(settings))
    authorizer = app.state.authorizer
    assert authorizer.coordinates == frozenset(coordinates)
    # (`allowed` is checked against Casbin's enforcer by the next test.)
    audience = {r: authorizer.allowed(frozenset({r}), "*") for r in POLICY_ROLES}
    dead = [c for c in coordinates if not any(c in audience[r] for r in POLICY_ROLES)]
    assert dead == []
    # And not only through superadmin's wildcard: every field has a real audience below it.
    superadmin_only = [c for c in coordinates if not any(c in audience[r] for r in POLICY_ROLES if r != "superadmin")]
    assert superadmin_only == []


# Casbin's own glob matching, remembered across the enforcers: the same (coordinate, pattern) pairs come
# up for every role and brand, and compiling a pattern is most of what an evaluation of it costs.
cached_glob_match = functools.lru_cache(maxsize=None)(glob_match_func)


def concerned_lines(policy: casbin.Enforcer, role: str) -> list[list[str]]:
    """The policy lines that can concern a request by `role`: its own and those of the roles it inherits
    (by Casbin's role manager). A request by `role` matches no other line (`g(r.sub, p.sub)` is false)."""
    concerned = {role, *policy.get_implicit_roles_for_user(role)}
    return [line for line in policy.get_policy() if line[0] in concerned]


def literal_prefix(pattern: str) -> str:
    """What a name must begin with to match the glob `pattern`: the pattern up to its first special
    character (with Casbin's flags, GLOBSTAR and BRACE: `*`, `?`, `[`, `{` and the escape `\\`)."""
    for index, char in enumerate(pattern):
        if char in "*?[{\\":
            return pattern[:index]
    return pattern


def could_match(pattern: str, type_name: str) -> bool:
    """False only when no coordinate `type_name.field` can match the pattern: its literal prefix and the
    coordinates' common beginning `type_name.` differ within the shorter of the two."""
    prefix, head = literal_prefix(pattern), type_name + "."
    return head.startswith(prefix) or prefix.startswith(head)


@functools.cache
def enforcer_with(lines: tuple[tuple[str, ...], ...]) -> casbin.Enforcer:
    """Casbin's own enforcer over these policy lines, with every grouping line of the policy."""
    enforcer = casbin.Enforcer(str(MODEL_PATH))
    enforcer.add_function("globMatch", cached_glob_match)
    enforcer.add_grouping_policies(reference_policy().get_grouping_policy())
    enforcer.add_policies([list(line) for line in lines])
    return enforcer


@functools.cache
def reference_policy() -> casbin.Enforcer:
    return casbin.Enforcer(str(MODEL_PATH), str(POLICY_PATH))


@functools.cache
def granted_by_casbin(coordinates: tuple[str, ...], role: str, brand_code: str) -> frozenset[str]:
    """The coordinates Casbin's own enforcer grants `role` in `brand_code` (cached per worker: the role
    sets below share `staff`). Each type's coordinates are asked of an enforcer holding only the lines
    that can concern them (the role's lines whose pattern could match a field of that type): the lines left
    out match no such request, so the decisions are Casbin's over the whole policy, at a small part of the
    lines evaluated per request (every line is evaluated for every request, and there are ~1,700
    coordinates)."""
    lines = concerned_lines(reference_policy(), role)
    by_type: dict[str, list[str]] = {}
    for coordinate in coordinates:
        by_type.setdefault(coordinate.partition(".")[0], []).append(coordinate)
    granted: set[str] = set()
    for type_name, names in by_type.items():
        enforcer = enforcer_with(tuple(tuple(line) for line in lines if could_match(line[2], type_name)))
        action = action_for(type_name)
        granted.update(name for name in names if enforcer.enforce(role, brand_code, name, action))
    return frozenset(granted)


ROLE_SETS = [role_set(r) for r in ROLES] + [(frozenset({r}), b) for r in POLICY_ROLES for b in ("*", "royal")]


# One case per role set, so the workers share the exhaustive comparison.
@pytest.mark.parametrize(("roles", "brand_code"), ROLE_SETS, ids=[f"{'+'.join(sorted(r))}@{b}" for r, b in ROLE_SETS])
def test_cached_decisions_equal_the_enforcer(settings: Any, app: Any, roles: frozenset[str], brand_code: str) -> None:
    coordinates = tuple(schema_coordinates(built_schema(settings)))
    if roles == {"superadmin"} and brand_code == "*":  # the reference itself grants
        assert granted_by_casbin(coordinates, "superadmin", "*") == frozenset(coordinates)
    authorizer = app.state.authorizer
    expected = frozenset().union(*(granted_by_casbin(coordinates, r, brand_code) for r in roles))
    decided = authorizer.allowed(roles, brand_code)
    assert decided == expected, (roles, brand_code, decided ^ expected)
    assert authorizer.allowed(roles, brand_code) is decided  # served from the cache


# ---- 3. aliases --------------------------------------------------------------------------------


async def test_alias_cannot_read_a_denied_field(gql: Any, make_player: Any, make_staff: Any) -> None:
    target = await make_player()
    support = await make_staff("support")
    body = await gql(
        "query($id: ID!) { player(id: $id) { dob: dateOfBirth, x: email, dateOfBirth: email } }",
        {"id": target.id},
        token=support.token,
    )
    assert body["data"]["player"] == {"dob": None, "x": target.email, "dateOfBirth": target.email}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["player", "dob"], "FORBIDDEN")]


# ---- 4. global ids -----------------------------------------------------------------------------


async def test_player_cannot_read_another_player_by_global_id(gql: Any, make_player: Any) -> None:
    alice = await make_player(email="alice@example.com")
    bob = await make_player(email="bob@example.com", firstName="Bob")

    body = await gql(
        "query($id: ID!) { node(id: $id) { id ... on Player { email firstName } } }", {"id": bob.id}, token=alice.token
    )
    assert body["data"] == {"node": None}
    assert "errors" not in body or body["errors"] is None

    body = await gql("query($id: ID!) { player(id: $id) { id email firstName } }", {"id": bob.id}, token=alice.token)
    assert body["data"] == {"player": None}
    assert error_codes(body) == ["FORBIDDEN"]
    for leaked in (bob.email, "Bob", str(bob.uuid)):
        assert leaked not in json.dumps(body)

    # Their own id works.
    body = await gql(
        "query($id: ID!) { node(id: $id) { id ... on Player { email } } }", {"id": alice.id}, token=alice.token
    )
    assert body["data"]["node"] == {"id": alice.id, "email": alice.email}


async def test_player_lookup_rejects_ids_of_other_types_and_garbage(
    gql: Any, make_player: Any, make_staff: Any, brand: Any
) -> None:
    player = await make_player()
    support = await make_staff("support")
    brand_gid = str(relay.GlobalID("Brand", str(brand.id)))
    staff_gid = str(relay.GlobalID("StaffUser", str(support.id)))
    query = "query($id: ID!) { player(id: $id) { id email } }"
    for wrong in (brand_gid, staff_gid, str(relay.GlobalID("Session", str(player.uuid)))):
        body = await gql(query, {"id": wrong}, token=support.token)
        assert body["data"] == {"player": None}
        assert error_codes(body) == ["BAD_USER_INPUT"], wrong
    for garbage in ("not-a-global-id", "", str(player.uuid), str(relay.GlobalID("Player", "nope"))):
        body = await gql(query, {"id": garbage}, token=support.token)
        assert body["data"] == {"player": None}
        assert error_codes(body) == ["BAD_USER_INPUT"], garbage
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": "%%%"}, token=player.token)
    assert body["data"] == {"node": None}
    assert error_codes(body) == ["BAD_USER_INPUT"]


# ---- 5. denied mutations -----------------------------------------------------------------------


async def test_denied_set_player_status_changes_nothing(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    marketing = await make_staff("marketing")
    before_status = await player_status(rt, player.uuid)
    assert before_status == ("active", None)
    records = await audit_count(rt)

    body = await set_status(gql, player.token, player.id, "CLOSED", reason="me")
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["setPlayerStatus"], "FORBIDDEN")]
    me = await gql("{ me { status statusReason } }", token=player.token)
    assert me["data"]["me"] == {"status": "ACTIVE", "statusReason": None}

    body = await set_status(gql, marketing.token, player.id, "BLOCKED", reason="spam")
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["setPlayerStatus"], "FORBIDDEN")]

    assert await player_status(rt, player.uuid) == before_status
    assert await audit_count(rt) == records
    # The player's session still works (a block would have revoked it).
    assert (await gql("{ me { id } }", token=player.token))["data"]["me"] == {"id": player.id}

    # Control: an allowed role does change it, and that is audited.
    support = await make_staff("support")
    records = await audit_count(rt)
    body = await set_status(gql, support.token, player.id, "BLOCKED", reason="chargeback")
    assert body["data"]["setPlayerStatus"]["errors"] == []
    assert await player_status(rt, player.uuid) == ("blocked", "chargeback")
    assert await audit_count(rt) == records + 1


# ---- 6. brand scoping --------------------------------------------------------------------------

PLAYERS = "{ players(first: 50) { edges { node { id brand { code } } } } }"


def listed(body: dict[str, Any]) -> dict[str, str]:
    assert "errors" not in body or not body["errors"], body
    return {e["node"]["id"]: e["node"]["brand"]["code"] for e in body["data"]["players"]["edges"]}


async def test_brand_scoping_of_player_lists(gql: Any, make_player: Any, make_staff: Any, other_brand: Any) -> None:
    royal = {(await make_player()).id for _ in range(2)}
    north = {
        (await make_player(brand_code="northstar", country="SE", currency="SEK", born=date(1980, 5, 5))).id
        for _ in range(2)
    }

    support = await make_staff("support")
    assert listed(await gql(PLAYERS, token=support.token)) == dict.fromkeys(royal, "royal")
    # Asking for a brand where they hold no role gives them no player access there.
    body = await gql(PLAYERS, token=support.token, brand="northstar")
    assert body["data"] == {"players": None}
    assert error_codes(body) == ["FORBIDDEN"]

    both = await make_staff("support", ("support", "northstar"))
    body = await gql(PLAYERS, token=both.token)
    assert body["data"] is None
    assert len(body["errors"]) == 1
    error = body["errors"][0]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"] == "Choose a brand with the X-Croupier-Brand header."
    assert listed(await gql(PLAYERS, token=both.token, brand="northstar")) == dict.fromkeys(north, "northstar")
    assert listed(await gql(PLAYERS, token=both.token, brand="royal")) == dict.fromkeys(royal, "royal")
    # A single player lookup across brands is empty, not a leak.
    other = next(iter(north))
    body = await gql("query($id: ID!) { player(id: $id) { id email } }", {"id": other}, token=support.token)
    assert body["data"] == {"player": None}
    assert "errors" not in body

    admin = await make_staff(("superadmin", None))
    everyone = listed(await gql(PLAYERS, token=admin.token))
    assert everyone == {**dict.fromkeys(royal, "royal"), **dict.fromkeys(north, "northstar")}


# ---- 7. role management ------------------------------------------------------------------------

CREATE_STAFF = """
mutation($input: CreateStaffUserInput!) {
  createStaffUser(input: $input) {
    staff { id email roles { role brand { code } } }
    totpProvisioningUri
    errors { code field message }
  }
}"""

SET_ROLES = """
mutation($input: SetStaffRolesInput!) {
  setStaffRoles(input: $input) {
    staff { id roles { role brand { code } } }
    errors { code field message }
  }
}"""


async def staff_count(rt: Any) -> int:
    from models.staff import StaffUser

    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(StaffUser)) or 0)


async def test_brand_admin_manages_staff_in_their_brand_only(
    rt: Any, gql: Any, make_staff: Any, brand: Any, other_brand: Any
) -> None:
    admin = await make_staff("brand_admin")

    def new_staff(email: str, *roles: dict[str, Any]) -> dict[str, Any]:
        return {"input": {"email": email, "displayName": "New Person", "password": PASSWORD, "roles": list(roles)}}

    body = await gql(
        CREATE_STAFF, new_staff("agent@croupier.dev", {"role": "SUPPORT", "brand": "royal"}), token=admin.token
    )
    created = body["data"]["createStaffUser"]
    assert created["errors"] == []
    assert created["totpProvisioningUri"].startswith("otpauth://totp/")
    assert created["staff"]["email"] == "agent@croupier.dev"
    assert created["staff"]["roles"] == [{"role": "SUPPORT", "brand": {"code": "royal"}}]
    agent_gid = created["staff"]["id"]

    count = await staff_count(rt)
    refused = [
        ("boss@croupier.dev", {"role": "SUPERADMIN", "brand": None}),
        ("boss2@croupier.dev", {"role": "SUPERADMIN", "brand": "royal"}),
        ("north@croupier.dev", {"role": "SUPPORT", "brand": "northstar"}),
        ("global@croupier.dev", {"role": "SUPPORT", "brand": None}),
    ]
    for email, grant in refused:
        body = await gql(CREATE_STAFF, new_staff(email, grant), token=admin.token)
        payload = body["data"]["createStaffUser"]
        assert [e["code"] for e in payload["errors"]] == ["NOT_ALLOWED"], (grant, payload)
        assert payload["staff"] is None
        assert payload["totpProvisioningUri"] is None
    assert await staff_count(rt) == count

    # The same refusals when changing roles.
    for _, grant in refused:
        body = await gql(
            SET_ROLES, {"input": {"staffId": agent_gid, "roles": [grant], "reason": "promotion"}}, token=admin.token
        )
        assert [e["code"] for e in body["data"]["setStaffRoles"]["errors"]] == ["NOT_ALLOWED"], grant

    body = await gql(
        SET_ROLES,
        {
            "input": {
                "staffId": agent_gid,
                "reason": "moved to KYC",
                "roles": [{"role": "KYC_OFFICER", "brand": "royal"}, {"role": "FINANCE", "brand": "royal"}],
            }
        },
        token=admin.token,
    )
    payload = body["data"]["setStaffRoles"]
    assert payload["errors"] == []
    assert sorted(r["role"] for r in payload["staff"]["roles"]) == ["FINANCE", "KYC_OFFICER"]

    agent_uuid = relay.GlobalID.from_id(agent_gid).node_id
    body = await gql(
        """query($filter: AuditFilter) { auditLog(filter: $filter) { edges { node {
                          action actorId targetType targetId reason before after } } } }""",
        {"filter": {"action": "staff.roles_changed"}},
        token=admin.token,
    )
    assert "errors" not in body, body
    royal_id = str(brand.id)
    assert [e["node"] for e in body["data"]["auditLog"]["edges"]] == [
        {
            "action": "staff.roles_changed",
            "actorId": str(admin.id),
            "targetType": "staff",
            "targetId": agent_uuid,
            "reason": "moved to KYC",
            "before": {"roles": [{"role": "support", "brand_id": royal_id}]},
            "after": {
                "roles": [{"role": "finance", "brand_id": royal_id}, {"role": "kyc_officer", "brand_id": royal_id}]
            },
        }
    ]


async def test_a_brand_admin_cannot_disable_staff_who_also_work_elsewhere(
    gql: Any, make_staff: Any, other_brand: Any
) -> None:
    admin = await make_staff("brand_admin")
    shared = await make_staff("marketing", ("brand_admin", "northstar"))
    local = await make_staff("support")
    query = """mutation($input: SetStaffStatusInput!) { setStaffStatus(input: $input) {
        staff { status } errors { code } } }"""
    for target, expected in ((shared, ["NOT_ALLOWED"]), (local, [])):
        body = await gql(
            query,
            {
                "input": {
                    "staffId": str(relay.GlobalID("StaffUser", str(target.id))),
                    "status": "DISABLED",
                    "reason": "test",
                }
            },
            token=admin.token,
        )
        assert [e["code"] for e in body["data"]["setStaffStatus"]["errors"]] == expected


async def test_a_brand_admin_sees_only_their_brands_grants_of_a_colleague(
    gql: Any, make_staff: Any, other_brand: Any
) -> None:
    admin = await make_staff("brand_admin")
    colleague = await make_staff("marketing", ("brand_admin", "northstar"))
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on StaffUser { roles { role brand { code } } } } }",
        {"id": str(relay.GlobalID("StaffUser", str(colleague.id)))},
        token=admin.token,
    )
    assert body["data"]["node"]["roles"] == [{"role": "MARKETING", "brand": {"code": "royal"}}]


async def test_nobody_changes_their_own_roles(rt: Any, gql: Any, make_staff: Any) -> None:
    from models.audit import AuditRecord

    for roles in (("brand_admin",), (("superadmin", None),)):
        actor = await make_staff(*roles)
        own_gid = str(relay.GlobalID("StaffUser", str(actor.id)))
        before = (await gql("{ currentStaff { roles { role brand { code } } } }", token=actor.token))["data"]
        body = await gql(
            SET_ROLES,
            {
                "input": {
                    "staffId": own_gid,
                    "reason": "self-service",
                    "roles": [{"role": "BRAND_ADMIN", "brand": "royal"}, {"role": "SUPPORT", "brand": "royal"}],
                }
            },
            token=actor.token,
        )
        payload = body["data"]["setStaffRoles"]
        assert payload["staff"] is None
        assert [e["code"] for e in payload["errors"]] == ["NOT_ALLOWED"]
        after = (await gql("{ currentStaff { roles { role brand { code } } } }", token=actor.token))["data"]
        assert after == before
    async with rt.database.session() as db:
        changed = await db.scalar(
            select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "staff.roles_changed")
        )
    assert changed == 0


async def test_roles_are_granted_only_to_those_allowed(gql: Any, make_staff: Any) -> None:
    """Roles without the mutation in the policy are refused before anything runs."""
    target = await make_staff("support", login=False)
    target_gid = str(relay.GlobalID("StaffUser", str(target.id)))
    for role in ("support", "risk_analyst", "marketing"):
        actor = await make_staff(role)
        body = await gql(
            SET_ROLES,
            {"input": {"staffId": target_gid, "reason": "x", "roles": [{"role": "FINANCE", "brand": "royal"}]}},
            token=actor.token,
        )
        assert body["data"] is None
        assert error_codes(body) == ["FORBIDDEN"]


# ---- 8. the provider onboarding types: role x field ---------------------------------------------

DENIED = "FORBIDDEN"
ONBOARDING_TYPES = ("ProviderSettings", "CatalogGame", "GameImportReport", "GameImportChange", "GameFieldChange")
ONBOARDING_MUTATIONS = {
    "addGameProvider": ("AddGameProviderInput", {"code": "-", "name": "X", "protocol": "HUB88"}),
    "updateGameProvider": ("UpdateGameProviderInput", {"provider": "nobody"}),
    "setGameProviderKey": ("SetGameProviderKeyInput", {"provider": "nobody", "publicKeyPem": "x", "reason": "x"}),
    "setGameProviderSecretRef": (
        "SetGameProviderSecretRefInput",
        {"provider": "nobody", "secretRef": "-", "reason": "x"},
    ),
    "setGameProviderEnabled": ("SetGameProviderEnabledInput", {"provider": "nobody", "enabled": True, "reason": "x"}),
    "createGame": ("CreateGameInput", {"provider": "nobody", "code": "g", "title": "G", "type": "SLOT", "rtp": "96"}),
    "updateGame": ("UpdateGameInput", {"gameId": str(relay.GlobalID("Game", "00000000-0000-0000-0000-000000000000"))}),
    "setGameEnabled": (
        "SetGameEnabledInput",
        {"gameId": str(relay.GlobalID("Game", "00000000-0000-0000-0000-000000000000")), "enabled": True},
    ),
    "importGames": ("ImportGamesInput", {"provider": "nobody", "games": []}),
}


def selection_of(settings: Any, type_name: str) -> tuple[list[str], str]:
    """Every field of a type as the built schema has it, and a selection reading each once (object
    fields with `__typename`, so the field's own permission is what is tested)."""
    graphql_type = built_schema(settings)._schema.type_map[type_name]
    names = list(graphql_type.fields)
    parts = [
        name
        if isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
        else name + " { __typename }"
        for name, field in graphql_type.fields.items()
    ]
    return names, " ".join(parts)


def check_fields(
    body: dict[str, Any], data: dict[str, Any], path: list[str | int], type_name: str, names: list[str], allowed: Any
) -> None:
    for name in names:
        codes = errors_at(body, [*path, name])
        if allowed(f"{type_name}.{name}"):
            assert codes == [], (type_name, name, body)
        else:
            assert codes == [DENIED], (type_name, name, body)
            assert data[name] is None, (type_name, name)


@pytest.mark.parametrize("role", ROLES)
async def test_provider_onboarding_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """Every field of the onboarding types and every onboarding mutation, for every role: what the policy
    allows answers, the rest is FORBIDDEN at its path (new fields are covered as they are added)."""
    from tests.onboarding.conftest import add_provider, create_game

    manager = await make_staff(("content_manager", None))
    assert (await add_provider(gql, manager.token, "acme"))["errors"] == []
    assert (await create_game(gql, manager.token, "acme", minBets=[{"currency": "EUR", "amount": "0.10"}]))[
        "errors"
    ] == []
    token = None
    if role == "player":
        token = (await make_player()).token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else DENIED  # what a denied root field answers

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    provider_fields, provider_selection = selection_of(settings, "ProviderSettings")
    game_fields, game_selection = selection_of(settings, "CatalogGame")
    for root, query, type_name, fields in (
        (
            "gameProviders",
            "{ gameProviders { edges { node { " + provider_selection + " } } } }",
            "ProviderSettings",
            provider_fields,
        ),
        (
            "catalogGames",
            '{ catalogGames(provider: "acme") { edges { node { ' + game_selection + " } } } }",
            "CatalogGame",
            game_fields,
        ),
    ):
        body = await gql(query, token=token)
        if not allowed(f"Query.{root}"):
            assert body["data"] == {root: None}, (role, body)
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([root], refused)]
            continue
        node = body["data"][root]["edges"][0]["node"]
        check_fields(body, node, [root, "edges", 0, "node"], type_name, fields, allowed)

    # The import report's types, read from a dry run's answer.
    report_fields, report_selection = selection_of(settings, "GameImportReport")
    change_fields, change_selection = selection_of(settings, "GameImportChange")
    diff_fields, diff_selection = selection_of(settings, "GameFieldChange")
    selection = report_selection.replace("added { __typename }", "added { " + change_selection + " }").replace(
        "changes { __typename }", "changes { " + diff_selection + " }"
    )
    selection = selection.replace("changed { __typename }", "changed { code }")
    games = [{"game_code": "new-one", "name": "New One", "category": "Slots", "rtp": 96}]
    body = await gql(
        "mutation($input: ImportGamesInput!) { importGames(input: $input) { report { "
        + selection
        + " } errors { code } } }",
        {"input": {"provider": "acme", "games": games, "dryRun": True}},
        token=token,
    )
    if not allowed("Mutation.importGames"):
        assert body["data"] is None
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["importGames"], refused)]
    else:
        report = body["data"]["importGames"]["report"]
        check_fields(body, report, ["importGames", "report"], "GameImportReport", report_fields, allowed)
        added = ["importGames", "report", "added", 0]
        check_fields(body, report["added"][0], added, "GameImportChange", change_fields, allowed)
        check_fields(
            body, report["added"][0]["changes"][0], [*added, "changes", 0], "GameFieldChange", diff_fields, allowed
        )

    # Every onboarding mutation: refused before it runs, or run (and refused in its payload: no such provider).
    await mutations_follow_policy(gql, token, ONBOARDING_MUTATIONS, allowed, refused, role)
    assert {r for r in ROLES if allowed_for(authorizer, r, "Mutation.setGameProviderKey")} == {
        "superadmin",
        "content_manager",
    }


async def mutations_follow_policy(
    gql: Any, token: str | None, mutations: dict[str, tuple[str, dict[str, Any]]], allowed: Any, refused: str, role: str
) -> None:
    """Each mutation with input its service refuses: answered in its payload where the policy allows it, else
    refused at its path before it runs."""
    for name, (input_type, given) in mutations.items():
        body = await gql(
            f"mutation($input: {input_type}!) {{ {name}(input: $input) {{ errors {{ code }} }} }}",
            {"input": given},
            token=token,
        )
        if allowed(f"Mutation.{name}"):
            assert not body.get("errors"), (role, name, body)
            assert body["data"][name]["errors"], (role, name, body)
        else:
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([name], refused)], (role, body)


def allowed_for(authorizer: Authorizer, role: str, coordinate: str) -> bool:
    roles, brand_code = role_set(role)
    return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)


# ---- 9. around the matrix: the audit trail and refusals tell a role only what it may read -------

TRAIL = """query($id: ID!) { player(id: $id) { auditTrail(first: 100) { edges { node { action reason after } } } } }"""
PLAY_LOGIN = """mutation($input: LoginInput!) { login(input: $input) { tokens { accessToken } errors { code } } }"""
SELF_EXCLUDE = """mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) {
  exclusion { endsAt } errors { code } } }"""
ADD_NOTE = """mutation($input: AddPlayerNoteInput!) { addPlayerNote(input: $input) { errors { code } } }"""


def may_read(settings: Any, role: str) -> Any:
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    return lambda coordinate: any(authorizer.enforce(r, brand_code, coordinate) for r in roles)


async def self_excluded_player(gql: Any, make_player: Any) -> tuple[Any, str]:
    """A player who logged in to play, then excluded themself for six months; and the end date."""
    player = await make_player()
    login = await gql(PLAY_LOGIN, {"input": {"brand": "royal", "email": player.email, "password": PASSWORD}})
    token = login["data"]["login"]["tokens"]["accessToken"]
    excluded = (await gql(SELF_EXCLUDE, token=token))["data"]["selfExclude"]
    assert excluded["errors"] == [], excluded
    ends_at: str = excluded["exclusion"]["endsAt"]
    return player, ends_at[:10]  # the day, however a record spells the time


def test_a_trail_reader_is_denied_the_rg_view(settings: Any) -> None:
    """The trail test below is not trivial: a role reads the trail but not the player's RG view."""
    kyc = may_read(settings, "kyc_officer")
    assert kyc("Player.auditTrail")
    assert not kyc("Player.responsibleGambling")
    assert not kyc("Player.sessions")


@pytest.mark.parametrize("role", STAFF_ROLES)
async def test_the_audit_trail_shows_a_role_only_what_it_may_read_on_the_player(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player, ends_on = await self_excluded_player(gql, make_player)
    admin = await make_staff(("superadmin", None))
    noted = await gql(ADD_NOTE, {"input": {"playerId": player.id, "body": "called about limits"}}, token=admin.token)
    assert noted["data"]["addPlayerNote"]["errors"] == [], noted
    changed = await set_status(gql, admin.token, player.id, "ACTIVE", reason="verified")
    assert changed["data"]["setPlayerStatus"]["errors"] == [], changed

    viewer = admin if role == "superadmin" else await staff_holding(make_staff, role)
    body = await gql(TRAIL, {"id": player.id}, token=viewer.token)
    may = may_read(settings, role)
    trail = ((body.get("data") or {}).get("player") or {}).get("auditTrail")
    if not (may("Query.player") and may("Player.auditTrail")):
        assert trail is None, body
        return
    actions = [edge["node"]["action"] for edge in trail["edges"]]
    assert "player.status_changed" in actions  # no topic: every reader of the trail sees it
    assert ("rg.self_exclusion_started" in actions) == may("Player.responsibleGambling"), (role, actions)
    assert ("player.login" in actions) == may("Player.sessions"), (role, actions)
    assert ("player.note_added" in actions) == may("Player.notes"), (role, actions)
    if not may("Player.responsibleGambling"):
        assert not [a for a in actions if a.startswith("rg.")], (role, actions)
        assert ends_on not in json.dumps(trail), (role, trail)  # the exclusion's end, nowhere
    else:
        assert ends_on in json.dumps(trail)


ELIGIBILITY = """query($c: ID!, $p: ID!) { bonusEligibility(campaignId: $c, playerId: $p) {
  eligible reasons { code message } } }"""
CREATE_CAMPAIGN = """mutation($input: CreateBonusCampaignInput!) { createBonusCampaign(input: $input) {
  campaign { id } errors { code } } }"""
ACTIVATE_CAMPAIGN = """mutation($id: ID!) { setBonusCampaignStatus(input: {campaignId: $id, status: ACTIVE}) {
  errors { code } } }"""


@pytest.mark.parametrize("role", STAFF_ROLES)
async def test_a_bonus_eligibility_refusal_tells_a_role_only_what_it_may_know(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    marketing = await make_staff("marketing")
    rules = {"fixed_amount": {"EUR": "5.00"}, "max_bonus": {"EUR": "50.00"}, "wagering_multiplier": 2}
    offer = {"name": "Welcome", "kind": "NO_DEPOSIT", "rules": {**rules, "max_bet": {"EUR": "5.00"}}}
    created = (await gql(CREATE_CAMPAIGN, {"input": offer}, token=marketing.token))["data"]["createBonusCampaign"]
    assert created["errors"] == [], created
    campaign = created["campaign"]["id"]
    activated = await gql(ACTIVATE_CAMPAIGN, {"id": campaign}, token=marketing.token)
    assert activated["data"]["setBonusCampaignStatus"]["errors"] == [], activated
    player, ends_on = await self_excluded_player(gql, make_player)

    viewer = (await make_staff(("superadmin", None))) if role == "superadmin" else await staff_holding(make_staff, role)
    body = await gql(ELIGIBILITY, {"c": campaign, "p": player.id}, token=viewer.token)
    may = may_read(settings, role)
    preview = (body.get("data") or {}).get("bonusEligibility")
    if not (may("Query.bonusEligibility") and may("BonusEligibility.reasons")):
        assert preview is None, body
        return
    assert preview["eligible"] is False, body  # never offered to an excluded player, whoever asks
    messages = " ".join(reason["message"] for reason in preview["reasons"]).lower()
    if may("Player.responsibleGambling"):
        assert "self-exclusion" in messages, (role, preview)
    else:
        assert "exclu" not in messages, (role, preview)
        assert "time-out" not in messages, (role, preview)
        assert ends_on not in json.dumps(body)
        assert preview["reasons"] == [
            {"code": "BONUS_NOT_ELIGIBLE", "message": "The player does not qualify for offers now."}
        ]


# ---- 10. tournaments: role x field ----------------------------------------------------------------

TOURNAMENT_MUTATIONS = {
    "createTournament": (
        "CreateTournamentInput",
        {
            "name": " ",
            "currency": "EUR",
            "startsAt": "2030-01-01T00:00:00+00:00",
            "endsAt": "2030-01-02T00:00:00+00:00",
            "scoring": "POINTS_PER_WAGER",
        },
    ),
    "updateTournament": (
        "UpdateTournamentInput",
        {
            "tournamentId": str(relay.GlobalID("Tournament", "00000000-0000-0000-0000-000000000000")),
            "definition": {
                "name": "x",
                "currency": "EUR",
                "startsAt": "2030-01-01T00:00:00+00:00",
                "endsAt": "2030-01-02T00:00:00+00:00",
                "scoring": "POINTS_PER_WAGER",
            },
        },
    ),
    "joinTournament": (
        "JoinTournamentInput",
        {"tournamentId": str(relay.GlobalID("Tournament", "00000000-0000-0000-0000-000000000000"))},
    ),
    "cancelTournament": (
        "CancelTournamentInput",
        {"tournamentId": str(relay.GlobalID("Tournament", "00000000-0000-0000-0000-000000000000")), "reason": "x"},
    ),
    "settleTournament": (
        "SettleTournamentInput",
        {"tournamentId": str(relay.GlobalID("Tournament", "00000000-0000-0000-0000-000000000000"))},
    ),
}
CREATE_TOURNAMENT = """mutation($input: CreateTournamentInput!) {
  createTournament(input: $input) { tournament { id } errors { code } } }"""
JOIN_TOURNAMENT = """mutation($input: JoinTournamentInput!) { joinTournament(input: $input) { errors { code } } }"""


@pytest.mark.parametrize("role", ROLES)
async def test_tournament_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """Every field of the tournament types, the tournament queries and mutations, for every role: what the policy
    allows answers, the rest is FORBIDDEN at its path (new fields are covered as they are added)."""
    from core.clock import clock

    organiser = await make_staff("brand_admin")
    now = clock.now()
    created = await gql(
        CREATE_TOURNAMENT,
        {
            "input": {
                "name": "Matrix Cup",
                "currency": "EUR",
                "startsAt": now.isoformat(),
                "endsAt": now.replace(year=now.year + 1).isoformat(),
                "scoring": "POINTS_PER_WAGER",
                "prizes": [{"rankFrom": 1, "rankTo": 1, "kind": "CASH", "amount": "5.00"}],
            }
        },
        token=organiser.token,
    )
    gid = created["data"]["createTournament"]["tournament"]["id"]
    token = None
    if role == "player":
        player = await make_player()
        token = player.token
        joined = await gql(JOIN_TOURNAMENT, {"input": {"tournamentId": gid}}, token=token)
        assert joined["data"]["joinTournament"]["errors"] == [], joined
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else DENIED

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    fields, selection = selection_of(settings, "Tournament")
    rule_fields, rule_selection = selection_of(settings, "TournamentPrizeRule")
    selection = selection.replace("prizes { __typename }", "prizes { " + rule_selection + " }")
    for root, query, path in (
        ("tournaments", "{ tournaments { edges { node { " + selection + " } } } }", ["edges", 0, "node"]),
        ("tournament", '{ tournament(id: "' + gid + '") { ' + selection + " } }", []),
    ):
        body = await gql(query, token=token)
        if not allowed(f"Query.{root}"):
            assert body["data"] == {root: None}, (role, body)
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([root], refused)]
            continue
        node = body["data"][root]
        for step in path:
            node = node[step]
        check_fields(body, node, [root, *path], "Tournament", fields, allowed)
        if allowed("Tournament.prizes"):
            check_fields(
                body, node["prizes"][0], [root, *path, "prizes", 0], "TournamentPrizeRule", rule_fields, allowed
            )

    entry_fields, entry_selection = selection_of(settings, "TournamentEntry")
    body = await gql("{ myTournamentEntries { edges { node { " + entry_selection + " } } } }", token=token)
    if not allowed("Query.myTournamentEntries"):
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["myTournamentEntries"], refused)]
    elif role == "player":
        node = body["data"]["myTournamentEntries"]["edges"][0]["node"]
        check_fields(body, node, ["myTournamentEntries", "edges", 0, "node"], "TournamentEntry", entry_fields, allowed)

    # Every tournament mutation: refused before it runs, or run and refused in its payload (bad or unknown input).
    await mutations_follow_policy(gql, token, TOURNAMENT_MUTATIONS, allowed, refused, role)
    assert {r for r in ROLES if allowed_for(authorizer, r, "Mutation.settleTournament")} == {
        "finance",
        "brand_admin",
        "superadmin",
    }
    assert {r for r in ROLES if allowed_for(authorizer, r, "Mutation.joinTournament")} == {"player", "superadmin"}
    assert not allowed_for(authorizer, "player", "Tournament.entriesCount")


# ---- 11. live leaderboards: role x field -------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
async def test_leaderboard_matrix_follows_policy(
    role: str, rt: Any, settings: Any, gql: Any, brand: Any, make_player: Any, make_staff: Any
) -> None:
    """Every field of the leaderboard types, for every role: players see entrants by alias only, the staff
    who look at tournaments see who each is, the rest are refused the board."""
    from services.tournaments import live
    from tests.tournaments_live.conftest import Tournaments, gid

    entrant = await make_player()
    tournaments = Tournaments(rt)
    tournament = await tournaments.create(brand.id)
    await tournaments.scored(tournament, [(entrant.uuid, 7, 1)])
    token = None
    if role == "player":
        token = entrant.token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else DENIED

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    board_fields, board_selection = selection_of(settings, "Leaderboard")
    standing_fields, standing_selection = selection_of(settings, "LeaderboardStanding")
    selection = board_selection.replace("top { __typename }", "top { " + standing_selection + " }").replace(
        "me { __typename }", "me { " + standing_selection + " }"
    )
    body = await gql(
        "query($id: ID!) { leaderboard(tournamentId: $id) { " + selection + " } }",
        {"id": gid("Tournament", tournament)},
        token=token,
    )
    await live.publisher_of(rt.redis).close()
    if not allowed("Query.leaderboard"):
        assert body["data"] == {"leaderboard": None}, (role, body)
        assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["leaderboard"], refused)]
        return
    board = body["data"]["leaderboard"]
    check_fields(body, board, ["leaderboard"], "Leaderboard", board_fields, allowed)
    check_fields(body, board["top"][0], ["leaderboard", "top", 0], "LeaderboardStanding", standing_fields, allowed)
    if role == "player":
        check_fields(body, board["me"], ["leaderboard", "me"], "LeaderboardStanding", standing_fields, allowed)
    else:
        assert board["me"] is None


def test_the_leaderboard_policy_differs_between_roles(settings: Any) -> None:
    authorizer = shared_authorizer(settings)
    watching = {r for r in ROLES if allowed_for(authorizer, r, "Subscription.leaderboardChanged")}
    assert watching == {"player", "support", "risk_analyst", "finance", "marketing", "brand_admin", "superadmin"}
    assert {r for r in ROLES if allowed_for(authorizer, r, "LeaderboardStanding.playerId")} == watching - {"player"}
    assert allowed_for(authorizer, "player", "LeaderboardStanding.alias")


def test_the_crm_experiment_and_lobby_policy(settings: Any) -> None:
    """A/B tests: marketing and brand admins (and superadmins); lobby layouts: those and content managers. The
    results and layouts are staff reads only; no player or anonymous viewer reaches them."""
    authorizer = Authorizer(schema_coordinates(build_schema(settings)))
    testers = {r for r in ROLES if allowed_for(authorizer, r, "Mutation.startExperiment")}
    assert testers == {"marketing", "brand_admin", "superadmin"}
    assert {r for r in ROLES if allowed_for(authorizer, r, "ExperimentVariantResult.ngrDifference")} == testers
    arrangers = {r for r in ROLES if allowed_for(authorizer, r, "Mutation.createLobbyLayout")}
    assert arrangers == {"marketing", "brand_admin", "superadmin", "content_manager"}
    assert {r for r in ROLES if allowed_for(authorizer, r, "LobbyLayout.featuredGameIds")} == arrangers
