"""A player's AML records on the player 360 (Player.amlCases, .amlAlerts, .screeningAlerts): the player's
own cases only, for the desks that read them, at a cost that does not grow with the page."""

from __future__ import annotations

from typing import Any

import pytest

from tests.aml_cases.conftest import OPEN, Desk
from tests.conftest import recorded_statements
from tests.test_authz import ROLES, errors_at, role_set, shared_authorizer, staff_holding

PLAYER_AML = """query($id: ID!, $first: Int) { player(id: $id) {
  amlCases(first: $first) { edges { node { id state summary player { id } assignee { id } history { action } } } }
  amlAlerts { edges { node { id } } }
  screeningAlerts { edges { node { id } } } } }"""
RECORDS = ("amlCases", "amlAlerts", "screeningAlerts")


async def test_the_player_360_lists_the_players_own_cases_newest_first(
    gql: Any, desk: Desk, make_player: Any, kyc: Any
) -> None:
    player, other = await make_player(), await make_player()
    first = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="first"))["case"]["id"]
    await desk.ok(OPEN, kyc.token, playerId=other.id, summary="someone else's")
    second = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="second"))["case"]["id"]
    body = await gql(PLAYER_AML, {"id": player.id, "first": 10}, token=kyc.token)
    assert not body.get("errors"), body
    nodes = [e["node"] for e in body["data"]["player"]["amlCases"]["edges"]]
    assert [n["id"] for n in nodes] == [second, first]
    assert all(n["player"]["id"] == player.id for n in nodes)
    assert body["data"]["player"]["amlAlerts"]["edges"] == []
    assert body["data"]["player"]["screeningAlerts"]["edges"] == []


async def test_the_players_cases_cost_the_same_statements_whatever_the_page_size(
    rt: Any, gql: Any, desk: Desk, make_player: Any, kyc: Any
) -> None:
    player = await make_player()
    for i in range(6):
        await desk.ok(OPEN, kyc.token, playerId=player.id, summary=f"case {i}")
    await gql(PLAYER_AML, {"id": player.id, "first": 1}, token=kyc.token)  # warm the role set's decisions

    async def statements(size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(PLAYER_AML, {"id": player.id, "first": size}, token=kyc.token)
        assert not body.get("errors"), body
        assert len(body["data"]["player"]["amlCases"]["edges"]) == size
        return len(seen)

    small, large = await statements(1), await statements(6)
    assert small == large, (small, large)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_who_reads_a_players_aml_records_follows_policy(
    role: str, settings: Any, gql: Any, desk: Desk, make_player: Any, make_staff: Any, mlro: Any
) -> None:
    player = await make_player()
    await desk.ok(OPEN, mlro.token, playerId=player.id, summary="matrix")
    token = player.token if role == "player" else (await staff_holding(make_staff, role)).token
    body = await gql(PLAYER_AML, {"id": player.id, "first": 5}, token=token)
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    data = (body.get("data") or {}).get("player")
    if data is None:  # no player lookup for this role at all
        assert role in ("player", "content_manager", "affiliate_manager"), body
        return
    for field in RECORDS:
        allowed = any(authorizer.enforce(r, brand_code, f"Player.{field}") for r in roles)
        assert errors_at(body, ["player", field]) == ([] if allowed else ["FORBIDDEN"]), (role, field)
        assert (data[field] is not None) == allowed, (role, field)
    if role in ("kyc_officer", "risk_analyst", "mlro", "brand_admin", "superadmin"):
        assert [e["node"]["summary"] for e in data["amlCases"]["edges"]] == ["matrix"]


def test_the_aml_records_go_to_the_aml_desk_and_the_mlro_only(settings: Any) -> None:
    authorizer = shared_authorizer(settings)

    def reads(role: str, field: str) -> bool:
        roles, brand_code = role_set(role)
        return any(authorizer.enforce(r, brand_code, f"Player.{field}") for r in roles)

    for role in ("player", "support", "finance", "marketing", "content_manager", "dpo", "affiliate_manager"):
        assert not any(reads(role, f) for f in RECORDS), role
    assert all(reads(role, "amlCases") for role in ("kyc_officer", "risk_analyst", "mlro", "brand_admin"))
    assert all(reads(role, f) for role in ("kyc_officer", "risk_analyst") for f in RECORDS)
