"""The permission decision taken once per (document, roles): which coordinates a document can resolve
(schema/field_plan.py), and that a request is answered exactly as the per-field check would answer it
— aliases, fragments spread twice, inline fragments and abstract types included — with the decision
cached across requests."""

from __future__ import annotations

from typing import Any

import pytest
from graphql import parse

from schema.field_plan import DecisionCache, coordinates
from schema.root import CroupierSchema, build_schema


@pytest.fixture(scope="module")
def schema(settings: Any) -> CroupierSchema:
    return build_schema(settings)


def planned(schema: CroupierSchema, query: str, operation: str | None = None) -> set[str]:
    return set(coordinates(schema._schema, parse(query), operation))


def test_coordinates_are_field_names_never_aliases(schema: CroupierSchema) -> None:
    assert planned(schema, "{ code: brands { name: code, brands: name } }") == {
        "Query.brands",
        "Brand.code",
        "Brand.name",
    }


def test_coordinates_follow_fragments_spread_twice_and_inline_fragments(schema: CroupierSchema) -> None:
    query = """
    query($id: ID!) {
      player(id: $id) { ...Contact  again: email ...Contact ... on Player { dob: dateOfBirth } }
      me { ...Contact ... { firstName } }
    }
    fragment Contact on Player { email phone }"""
    assert planned(schema, query) == {
        "Query.player",
        "Query.me",
        "Player.email",
        "Player.phone",
        "Player.dateOfBirth",
        "Player.firstName",
    }


def test_a_field_on_an_interface_counts_for_every_type_behind_it(schema: CroupierSchema) -> None:
    node_types = {t.name for t in schema._schema.get_possible_types(schema._schema.type_map["Node"])}  # type: ignore[arg-type]
    assert {"Player", "Game", "Brand"} <= node_types
    found = planned(schema, 'query { node(id: "x") { id ... on Game { title } ...P } } fragment P on Player { email }')
    assert found == {"Query.node", *(f"{t}.id" for t in node_types), "Game.title", "Player.email"}


def test_only_the_operation_to_run_counts_and_introspection_never(schema: CroupierSchema) -> None:
    query = "query A { brands { code __typename } } query B { me { email } } "
    assert planned(schema, query, "A") == {"Query.brands", "Brand.code"}
    assert planned(schema, query, "B") == {"Query.me", "Player.email"}
    assert planned(schema, query, "C") == set()
    assert planned(schema, "{ __schema { types { name } } __typename }") == set()


def test_the_decision_cache_is_bounded_and_counts() -> None:
    cache = DecisionCache(maxsize=2)
    assert cache.get("a") is None
    assert cache.misses == 1
    cache.put("a", frozenset({"x"}))
    cache.put("b", frozenset())
    assert cache.get("a") == frozenset({"x"})
    assert cache.hits == 1
    cache.put("c", frozenset())  # "b" was used least recently
    assert cache.get("b") is None
    assert cache.get("a") is not None
    assert cache.get("c") is not None


# ---- through the API ----------------------------------------------------------------------------

IN_A_FRAGMENT_SPREAD_TWICE = """
query($id: ID!) { player(id: $id) { ...Contact again: email ...Contact } }
fragment Contact on Player { email dob: dateOfBirth }"""
IN_AN_INLINE_FRAGMENT = """
query($id: ID!) { player(id: $id) { email ... on Player { born: dateOfBirth } ... { again: email } } }"""
THROUGH_AN_INTERFACE = """
query($id: ID!) { node(id: $id) { id ...Birth } }
fragment Birth on Player { email birth: dateOfBirth }"""


@pytest.mark.parametrize(
    ("query", "expected", "forbidden"),
    [
        (IN_A_FRAGMENT_SPREAD_TWICE, {"email": "EMAIL", "dob": None, "again": "EMAIL"}, ["dob"]),
        (IN_AN_INLINE_FRAGMENT, {"email": "EMAIL", "born": None, "again": "EMAIL"}, ["born"]),
        (THROUGH_AN_INTERFACE, {"id": "ID", "email": "EMAIL", "birth": None}, ["birth"]),
    ],
    ids=["fragment-spread-twice", "inline-fragment", "interface"],
)
async def test_a_denied_field_behind_aliases_and_fragments_is_forbidden_at_its_path(
    gql: Any, make_player: Any, make_staff: Any, query: str, expected: dict[str, Any], forbidden: list[str]
) -> None:
    target = await make_player()
    support = await make_staff("support")  # may read a player's email, not their date of birth
    body = await gql(query, {"id": target.id}, token=support.token)
    root = "node" if "node(" in query else "player"
    values = {"EMAIL": target.email, "ID": target.id}
    assert body["data"][root] == {k: values.get(v, v) for k, v in expected.items()}
    found = [(e["path"], e["extensions"]["code"]) for e in body["errors"]]
    assert found == [([root, name], "FORBIDDEN") for name in forbidden]


async def test_the_decision_is_taken_once_per_document_and_roles(
    app: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    schema: CroupierSchema = app.state.schema
    target = await make_player()
    support = await make_staff("support")
    query = "query($id: ID!) { player(id: $id) { id email } }  # decision-cache test"
    plans, decisions = schema.field_plans, schema.field_decisions
    plan_misses, decision_misses = plans.misses, decisions.misses
    for _ in range(3):
        body = await gql(query, {"id": target.id}, token=support.token)
        assert body["data"]["player"]["email"] == target.email
    assert (plans.misses, decisions.misses) == (plan_misses + 1, decision_misses + 1)
    # Another role set: a new decision on the same document plan.
    other = await make_staff("kyc_officer")
    await gql(query, {"id": target.id}, token=other.token)
    assert (plans.misses, decisions.misses) == (plan_misses + 1, decision_misses + 2)


async def test_a_request_whose_every_field_is_allowed_runs_without_the_per_field_hook(
    gql: Any, make_player: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from schema.extensions import FieldPermissions

    calls: list[str] = []
    original = FieldPermissions.resolve

    def counting(self: Any, _next: Any, root: Any, info: Any, *args: Any, **kwargs: Any) -> Any:
        calls.append(f"{info.parent_type.name}.{info.field_name}")
        return original(self, _next, root, info, *args, **kwargs)

    monkeypatch.setattr(FieldPermissions, "resolve", counting)
    player = await make_player()
    allowed = await gql("{ me { email firstName } }", token=player.token)
    assert allowed["data"]["me"]["email"] == player.email
    assert calls == []
    denied = await gql("{ me { email } staffUsers(first: 1) { edges { node { id } } } }", token=player.token)
    assert denied["data"]["me"] == {"email": player.email}
    assert [e["extensions"]["code"] for e in denied["errors"]] == ["FORBIDDEN"]
    assert "Query.staffUsers" in calls
    assert "Player.email" in calls
