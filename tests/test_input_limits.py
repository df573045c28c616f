"""Every text input has a documented maximum, checked before the database: an over-long value is refused
as bad input naming its field (in the mutation's payload, or as BAD_USER_INPUT), never INTERNAL, never
stored. A walk over EVERY String/ID/JSON argument and input field of the built schema proves it for
each one, so a new input cannot forget it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLSchema,
    Undefined,
    get_named_type,
)
from sqlalchemy import func, select
from websockets.asyncio.client import connect

from core.settings import Settings
from schema.input_limits import DEFAULT_MAX_LENGTH, maximum_of
from schema.root import build_schema
from tests.conftest import PASSWORD, error_codes
from tests.crm_journeys.conftest import CREATE as CREATE_JOURNEY
from tests.crm_journeys.conftest import SEND, welcome
from tests.jackpots_live.conftest import created
from tests.test_subscriptions import receive, ws_url

TEXT = ("String", "ID")
# How to reach an object type's fields from the root, for the walk (PID: a player the viewer reads).
ROUTES = {
    "Query": "query({vars}) {{ {field} }}",
    "Mutation": "mutation({vars}) {{ {field} }}",
    "Player": 'query({vars}) {{ player(id: "PID") {{ {field} }} }}',
    "ResponsibleGambling": 'query({vars}) {{ player(id: "PID") {{ responsibleGambling {{ {field} }} }} }}',
    "Subscription": "subscription({vars}) {{ {field} }}",
    "JackpotLevel": 'query({vars}) {{ jackpots(brand: "royal") {{ edges {{ node {{ levels {{ {field} }} }} }} }} }}',
    "AffiliatePortal": "query({vars}) {{ affiliatePortal {{ {field} }} }}",
    "Segment": "query({vars}) {{ segments(first: 1) {{ edges {{ node {{ {field} }} }} }} }}",
    "Journey": "query({vars}) {{ journeys(first: 1) {{ edges {{ node {{ {field} }} }} }} }}",
    "ClosedLoop": 'query({vars}) {{ player(id: "PID") {{ closedLoop {{ {field} }} }} }}',
}


@dataclass(frozen=True)
class Case:
    """One text leaf: the field whose argument holds it, the path to it, its maximum."""

    type_name: str
    field: str
    argument: str
    path: tuple[str, ...]  # input field names below the argument
    maximum: int
    json: bool

    @property
    def reported(self) -> str:
        """How a refusal names it: below `input` for a mutation's input, else from the argument."""
        parts = self.path if self.argument == "input" else (self.argument, *self.path)
        return ".".join(parts)

    def __str__(self) -> str:
        return f"{self.type_name}.{self.field}({self.argument}{''.join('.' + p for p in self.path)})"


def unwrap(type_: GraphQLInputType) -> GraphQLNamedType:
    return get_named_type(type_)


def leaves(
    type_: GraphQLInputType, element: GraphQLArgument | GraphQLInputField, path: tuple[str, ...], seen: frozenset[str]
) -> Iterator[tuple[tuple[str, ...], int, bool]]:
    named = unwrap(type_)
    if isinstance(named, GraphQLScalarType) and named.name in TEXT:
        yield path, maximum_of(element), False
    elif isinstance(named, GraphQLScalarType) and named.name == "JSON":
        yield path, maximum_of(element), True
    elif isinstance(named, GraphQLInputObjectType) and named.name not in seen:
        for name, field in named.fields.items():
            yield from leaves(field.type, field, (*path, name), seen | {named.name})


_BUILT: list[tuple[Settings, GraphQLSchema]] = []


def graphql_schema(settings: Settings) -> GraphQLSchema:
    """Built once per settings object (kept alive here, so it is never another's): every case
    reads its fields from it instead of building the whole schema again."""
    for built_for, schema in _BUILT:
        if built_for is settings:
            return schema
    _BUILT.append((settings, build_schema(settings)._schema))
    return _BUILT[-1][1]


def every_text_input(settings: Settings) -> list[Case]:
    schema = graphql_schema(settings)
    cases = []
    for type_name, graphql_type in schema.type_map.items():
        if type_name.startswith("__") or not isinstance(graphql_type, GraphQLObjectType):
            continue
        for field_name, field in graphql_type.fields.items():
            for argument_name, argument in field.args.items():
                for path, maximum, is_json in leaves(argument.type, argument, (), frozenset()):
                    cases.append(Case(type_name, field_name, argument_name, path, maximum, is_json))
    return cases


def dummy(type_: GraphQLInputType) -> Any:
    """A value of this type that GraphQL accepts (whatever the resolver makes of it)."""
    if isinstance(type_, GraphQLNonNull):
        return dummy(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [dummy(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {
            name: dummy(field.type)
            for name, field in type_.fields.items()
            if isinstance(field.type, GraphQLNonNull) and field.default_value is Undefined
        }
    scalars = {"Int": 1, "Float": 1.0, "Boolean": False, "JSON": {}, "Date": "2024-01-01"}
    return scalars.get(type_.name, "2024-01-01T00:00:00+00:00" if type_.name == "DateTime" else "x")


def with_value(type_: GraphQLInputType, path: tuple[str, ...], leaf: Any) -> Any:
    """A value of this type holding `leaf` at `path` (inside one-item lists where the type has lists)."""
    if isinstance(type_, GraphQLNonNull):
        return with_value(type_.of_type, path, leaf)
    if isinstance(type_, GraphQLList):
        return [with_value(type_.of_type, path, leaf)]
    if not path:
        return leaf
    assert isinstance(type_, GraphQLInputObjectType)
    value = dummy(type_)
    value[path[0]] = with_value(type_.fields[path[0]].type, path[1:], leaf)
    return value


def request_for(settings: Settings, case: Case, length: int, player_id: str) -> tuple[str, dict[str, Any]]:
    schema = graphql_schema(settings)
    field = schema.type_map[case.type_name].fields[case.field]  # type: ignore[union-attr]
    leaf: Any = {"x": "a" * (length - 9)} if case.json else "a" * length  # {"x": "…"} is 9 more
    variables: dict[str, Any] = {}
    definitions, arguments = [], []
    for index, (name, argument) in enumerate(field.args.items()):
        if name == case.argument:
            value = with_value(argument.type, case.path, leaf)
        elif isinstance(argument.type, GraphQLNonNull):
            value = dummy(argument.type)
        else:
            continue
        variables[f"v{index}"] = value
        definitions.append(f"$v{index}: {argument.type}")
        arguments.append(f"{name}: $v{index}")
    returned = get_named_type(field.type)
    selection = ""
    if isinstance(returned, GraphQLObjectType):
        selection = "{ __typename errors { code field message } }" if "errors" in returned.fields else "{ __typename }"
    elif not isinstance(returned, GraphQLScalarType | GraphQLEnumType):
        selection = "{ __typename }"
    call = f"{case.field}({', '.join(arguments)}) {selection}"
    route = ROUTES[case.type_name].replace("PID", player_id)
    return route.format(vars=", ".join(definitions), field=call), variables


def refusals(body: dict[str, Any], case: Case) -> list[tuple[str | None, str | None, str]]:
    """(code, field, message) of every refusal in the answer: payload errors and request errors."""
    found = [
        (e.get("extensions", {}).get("code"), e.get("extensions", {}).get("field"), e.get("message", ""))
        for e in body.get("errors") or []
    ]
    payload = (body.get("data") or {}).get(case.field) if case.type_name == "Mutation" else None
    if isinstance(payload, dict):
        found += [(e["code"], e["field"], e["message"]) for e in payload.get("errors") or []]
    return found


def test_the_walk_covers_the_inputs_the_issue_named(settings: Settings) -> None:
    cases = {str(c): c.maximum for c in every_text_input(settings)}
    assert cases["Mutation.updateProfile(input.firstName)"] == 100
    assert cases["Mutation.updateProfile(input.phone)"] == 32
    assert cases["Mutation.registerPlayer(input.lastName)"] == 100
    assert cases["Mutation.createStaffUser(input.displayName)"] == 120
    assert cases["Mutation.requestAdjustment(input.idempotencyKey)"] == 200
    assert cases["Mutation.setPlayerStatus(input.reason)"] == 500
    assert cases["Query.brand(code)"] == DEFAULT_MAX_LENGTH
    assert len(cases) > 100
    routed = {c.type_name for c in every_text_input(settings)}
    assert routed <= set(ROUTES), f"add a route to reach {routed - set(ROUTES)}"


async def test_every_text_input_refuses_an_over_long_value_by_name_and_never_internal(
    settings: Settings,
    rt: Any,
    gql: Any,
    brand: Any,
    make_player: Any,
    make_staff: Any,
) -> None:
    from tests.affiliates_api.conftest import insert_partner, insert_portal_user, sign_in

    player = await make_player()
    admin = await make_staff(("superadmin", None))  # may use every field: only the length can refuse
    await created(gql, admin.token)  # a jackpot's level, for the arguments of its history lists
    segment = await gql(  # a segment, for the arguments of its member list
        'mutation { createSegment(input: {brand: "royal", name: "walk", kind: STATIC}) { errors { code } } }',
        token=admin.token,
    )
    assert segment["data"]["createSegment"]["errors"] == [], segment
    journey = {"name": "Walk", "definition": welcome(SEND), "brandCode": "royal"}  # for the arguments of its runs
    assert (await gql(CREATE_JOURNEY, {"input": journey}, token=admin.token))["data"]["createJourney"]["errors"] == []
    # The partner's own portal is null for anyone else: its arguments are walked as a partner.
    await insert_portal_user(rt, await insert_partner(rt, "walker", [brand.id]), "walker@partner.test")
    partner_token = (await sign_in(gql, "walker@partner.test"))["accessToken"]
    failures = []
    # Two requests a case: past the per-subject rate limit a minute once the schema grew (issue 20), so a
    # fresh superadmin (its own limit) takes over every 250 cases.
    walked = 0
    for case in every_text_input(settings):
        if case.type_name == "Subscription":
            continue  # over graphql-transport-ws, below
        walked += 1
        if walked % 250 == 0:
            admin = await make_staff(("superadmin", None))
        token = partner_token if case.type_name == "AffiliatePortal" else admin.token
        query, variables = request_for(settings, case, case.maximum + 1, player.id)
        body = await gql(query, variables, token=token)
        expected = ("INVALID_INPUT" if case.type_name == "Mutation" else "BAD_USER_INPUT", case.reported)
        if expected not in [(code, field) for code, field, _ in refusals(body, case)] or "INTERNAL" in error_codes(
            body
        ):
            failures.append((str(case), json.dumps(body)[:300]))
            continue
        # At its maximum the value passes the check (whatever the resolver then makes of the dummies).
        query, variables = request_for(settings, case, case.maximum, player.id)
        body = await gql(query, variables, token=token)
        if "INTERNAL" in error_codes(body) or any("takes at most" in message for *_, message in refusals(body, case)):
            failures.append((f"{case} at its maximum", json.dumps(body)[:300]))
    assert failures == [], "\n".join(f"{name}: {body}" for name, body in failures)


async def test_subscription_arguments_are_checked_when_subscribing(
    live_server: str, settings: Settings, make_player: Any
) -> None:
    player = await make_player()
    cases = [c for c in every_text_input(settings) if c.type_name == "Subscription"]
    assert cases, "balanceChanged(playerId) at least"
    async with connect(ws_url(live_server), subprotocols=["graphql-transport-ws"]) as socket:  # type: ignore[list-item]
        await socket.send(
            json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {player.token}"}})
        )
        assert (await receive(socket))["type"] == "connection_ack"
        for number, case in enumerate(cases):
            query, variables = request_for(settings, case, case.maximum + 1, player.id)
            payload = {"query": query, "variables": variables}
            await socket.send(json.dumps({"id": str(number), "type": "subscribe", "payload": payload}))
            message = await receive(socket)
            while message["type"] == "complete":  # the previous case's operation ending after its refusal
                message = await receive(socket)
            assert message["id"] == str(number), (str(case), message)
            errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
            refused = [(e["extensions"]["code"], e["extensions"].get("field")) for e in errors]
            assert refused == [("BAD_USER_INPUT", case.reported)], (str(case), message)


# ---- the cases the issue named, through their real callers ---------------------------------------

UPDATE_PROFILE = """mutation($input: UpdateProfileInput!) { updateProfile(input: $input) {
  player { firstName phone } errors { code field message } } }"""
REGISTER = """mutation($input: RegisterPlayerInput!) { registerPlayer(input: $input) {
  player { lastName } errors { code field message } } }"""
CREATE_STAFF = """mutation($input: CreateStaffUserInput!) { createStaffUser(input: $input) {
  staff { displayName } errors { code field message } } }"""
REQUEST_ADJUSTMENT = """mutation($input: RequestAdjustmentInput!) { requestAdjustment(input: $input) {
  adjustment { status } errors { code field message } } }"""
SET_STATUS = """mutation($input: SetPlayerStatusInput!) { setPlayerStatus(input: $input) {
  player { status } errors { code field message } } }"""


def refused_for(payload: dict[str, Any], field: str, maximum: int) -> None:
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_INPUT", field)], payload
    assert f"at most {maximum} characters" in payload["errors"][0]["message"]


async def test_a_profile_name_or_phone_longer_than_its_column_is_refused(gql: Any, make_player: Any) -> None:
    player = await make_player()
    body = await gql(UPDATE_PROFILE, {"input": {"firstName": "A" * 101}}, token=player.token)
    refused_for(body["data"]["updateProfile"], "firstName", 100)
    body = await gql(UPDATE_PROFILE, {"input": {"phone": "+3" + "5" * 31}}, token=player.token)
    refused_for(body["data"]["updateProfile"], "phone", 32)
    body = await gql(UPDATE_PROFILE, {"input": {"firstName": "A" * 100, "phone": "+356 9912 3456"}}, token=player.token)
    assert body["data"]["updateProfile"] == {
        "player": {"firstName": "A" * 100, "phone": "+356 9912 3456"},
        "errors": [],
    }, body


async def test_an_anonymous_registration_with_a_long_name_is_refused(gql: Any, brand: Any) -> None:
    def registration(last_name: str) -> dict[str, Any]:
        return {
            "input": {
                "brand": "royal",
                "email": f"{uuid.uuid4().hex[:8]}@example.com",
                "password": PASSWORD,
                "dateOfBirth": "1990-01-01",
                "country": "MT",
                "currency": "EUR",
                "lastName": last_name,
            }
        }

    body = await gql(REGISTER, registration("L" * 101))
    refused_for(body["data"]["registerPlayer"], "lastName", 100)
    body = await gql(REGISTER, registration("L" * 100))
    assert body["data"]["registerPlayer"]["errors"] == [], body
    assert body["data"]["registerPlayer"]["player"]["lastName"] == "L" * 100


async def test_a_staff_display_name_longer_than_its_column_is_refused(gql: Any, make_staff: Any) -> None:
    admin = await make_staff("brand_admin")

    def staff_user(name: str) -> dict[str, Any]:
        roles = [{"role": "SUPPORT", "brand": "royal"}]
        return {
            "input": {
                "email": f"{uuid.uuid4().hex[:8]}@croupier.dev",
                "displayName": name,
                "password": PASSWORD,
                "roles": roles,
            }
        }

    body = await gql(CREATE_STAFF, staff_user("N" * 121), token=admin.token)
    refused_for(body["data"]["createStaffUser"], "displayName", 120)
    body = await gql(CREATE_STAFF, staff_user("N" * 120), token=admin.token)
    assert body["data"]["createStaffUser"]["errors"] == [], body
    # Nobody logged in: still told to log in first, not about the length.
    body = await gql(CREATE_STAFF, staff_user("N" * 121))
    assert error_codes(body) == ["UNAUTHENTICATED"], body


async def test_an_adjustment_idempotency_key_longer_than_its_column_is_refused(
    gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    finance = await make_staff("finance")

    def adjustment(key: str) -> dict[str, Any]:
        return {
            "input": {
                "playerId": player.id,
                "amount": "5.00",
                "currency": "EUR",
                "direction": "CREDIT",
                "reason": "goodwill",
                "idempotencyKey": key,
            }
        }

    body = await gql(REQUEST_ADJUSTMENT, adjustment("k" * 201), token=finance.token)
    refused_for(body["data"]["requestAdjustment"], "idempotencyKey", 200)
    body = await gql(REQUEST_ADJUSTMENT, adjustment("k" * 200), token=finance.token)
    assert body["data"]["requestAdjustment"] == {"adjustment": {"status": "APPLIED"}, "errors": []}, body


async def test_a_five_megabyte_reason_is_refused_and_nothing_is_stored_or_audited(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    from models.audit import AuditRecord
    from models.players import Player

    player = await make_player()
    support = await make_staff("support")
    async with rt.database.session() as db:
        audited = await db.scalar(select(func.count()).select_from(AuditRecord))
    ask = {"input": {"playerId": player.id, "status": "BLOCKED", "reason": "r" * 5_000_000}}
    body = await gql(SET_STATUS, ask, token=support.token)
    refused_for(body["data"]["setPlayerStatus"], "reason", 500)
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(AuditRecord)) == audited
        stored = await db.scalar(select(Player.status).where(Player.id == player.uuid))
    assert stored == "active"
