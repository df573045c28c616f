"""Staff GraphQL of journeys: definitions validated with the failing field named, versions (an active
journey is not edited in place; activating a new version supersedes the live one, whose runs finish), the
run log in a fixed number of statements, brand scoping, and who may do what."""

from __future__ import annotations

from typing import Any

from tests.conftest import error_codes, recorded_statements
from tests.crm_journeys.conftest import CREATE, NEW_VERSION, SEND, UPDATE, Journeys, welcome

LIST = """
query($status: JourneyStatus) { journeys(status: $status, first: 50) {
  edges { node { id name version status triggerKind definition } } } }"""
RUNS = """
query($id: ID!) { journey(id: $id) { name
  runs(first: 50) { edges { node { id status reason playerId steps { step kind outcome reason messageId } } } } } }"""
PLAYER_RUNS = """
query($player: ID!) { playerJourneyRuns(playerId: $player, first: 20) {
  edges { node { status reason triggerKey steps { kind outcome reason } } } } }"""


def errors(body: dict[str, Any], name: str) -> list[tuple[str, str | None]]:
    return [(e["code"], e["field"]) for e in body["data"][name]["errors"]]


async def test_definitions_are_validated_and_versions_replace_each_other(journeys: Journeys) -> None:
    gql, token = journeys.gql, journeys.token
    bad = {"trigger": {"kind": "big_win"}, "steps": [SEND]}
    body = await gql(CREATE, {"input": {"name": "Big", "definition": bad}}, token=token)
    assert errors(body, "createJourney") == [("INVALID_INPUT", "definition.trigger.big_win")]
    no_wait = welcome({"kind": "wait", "minutes": 0})
    body = await gql(CREATE, {"input": {"name": "Bad", "definition": no_wait}}, token=token)
    assert errors(body, "createJourney") == [("INVALID_INPUT", "definition.steps.0.wait.minutes")]
    ghost = welcome({"kind": "offer", "campaign_id": "00000000-0000-0000-0000-000000000000"})
    body = await gql(CREATE, {"input": {"name": "Ghost", "definition": ghost}}, token=token)
    assert errors(body, "createJourney") == [("NOT_FOUND", "definition")]

    first = await journeys.create(welcome(SEND), activate=False)
    changed = await gql(UPDATE, {"input": {"journeyId": first, "name": "Welcome aboard"}}, token=token)
    assert changed["data"]["updateJourney"]["journey"]["name"] == "Welcome aboard"
    assert (await journeys.status(first, "ACTIVE"))["errors"] == []
    refused = await gql(UPDATE, {"input": {"journeyId": first, "definition": welcome(SEND, SEND)}}, token=token)
    assert errors(refused, "updateJourney") == [("INVALID_STATE", "journeyId")]
    assert [e["code"] for e in (await journeys.status(first, "DRAFT"))["errors"]] == ["INVALID_STATE"]

    second = (await gql(NEW_VERSION, {"input": {"journeyId": first}}, token=token))["data"]["newJourneyVersion"]
    assert (second["journey"]["version"], second["journey"]["status"]) == (2, "DRAFT")
    edited = await gql(
        UPDATE, {"input": {"journeyId": second["journey"]["id"], "definition": welcome(SEND, SEND)}}, token=token
    )
    assert edited["data"]["updateJourney"]["errors"] == []
    activated = await journeys.status(second["journey"]["id"], "ACTIVE")
    assert activated["errors"] == []
    listed = await gql(LIST, {}, token=token)
    assert "errors" not in listed, listed
    versions = [(n["node"]["version"], n["node"]["status"]) for n in listed["data"]["journeys"]["edges"]]
    assert sorted(versions) == [(1, "ARCHIVED"), (2, "ACTIVE")]
    assert (await journeys.status(second["journey"]["id"], "PAUSED"))["journey"]["status"] == "PAUSED"
    assert (await journeys.status(second["journey"]["id"], "ARCHIVED"))["journey"]["status"] == "ARCHIVED"


async def test_the_run_log_reads_in_fixed_statements_and_support_reads_a_players_runs(
    journeys: Journeys, reachable: Any, make_staff: Any, rt: Any
) -> None:
    welcome_id = await journeys.create(welcome(SEND, {"kind": "wait", "minutes": 5}))
    await journeys.create(welcome({"kind": "tag", "tag": "new"}), name="Tagger")
    players = [await reachable() for _ in range(3)]
    await journeys.decide()
    await journeys.step()

    def count(query: str, variables: dict[str, Any]) -> Any:
        async def run() -> tuple[int, dict[str, Any]]:
            with recorded_statements(rt) as statements:
                body = await journeys.gql(query, variables, token=journeys.token)
            return len(statements), body

        return run()

    few, body = await count(RUNS, {"id": welcome_id})
    runs = body["data"]["journey"]["runs"]["edges"]
    assert [len(r["node"]["steps"]) for r in runs] == [2, 2, 2]
    more = [await reachable() for _ in range(3)]
    await journeys.create(welcome({"kind": "tag", "tag": "newer"}), name="Another")
    await journeys.decide()
    await journeys.step()
    many, body = await count(RUNS, {"id": welcome_id})
    assert len(body["data"]["journey"]["runs"]["edges"]) == 6
    assert many == few
    listed_few, _ = await count(LIST, {})
    await journeys.create(welcome(SEND), name="Third", activate=False)
    listed_many, body = await count(LIST, {})
    assert len(body["data"]["journeys"]["edges"]) == 4
    assert listed_many == listed_few

    support = await make_staff("support")
    seen = await journeys.gql(PLAYER_RUNS, {"player": players[0].id}, token=support.token)
    runs = [e["node"] for e in seen["data"]["playerJourneyRuns"]["edges"]]
    assert sorted((r["status"], r["steps"][0]["kind"]) for r in runs) == [("ACTIVE", "send"), ("COMPLETED", "tag")]
    assert error_codes(await journeys.gql(LIST, {}, token=support.token)) == ["FORBIDDEN"]
    denied = await journeys.gql(CREATE, {"input": {"name": "x", "definition": welcome(SEND)}}, token=support.token)
    assert error_codes(denied) == ["FORBIDDEN"]
    assert error_codes(await journeys.gql(PLAYER_RUNS, {"player": more[0].id}, token=more[0].token)) == ["FORBIDDEN"]


async def test_staff_of_another_brand_see_none_of_the_journeys(
    journeys: Journeys, make_staff: Any, other_brand: Any
) -> None:
    journey_id = await journeys.create(welcome(SEND))
    stranger = await make_staff(("marketing", "northstar"))
    listed = await journeys.gql(LIST, {}, token=stranger.token)
    assert listed["data"]["journeys"]["edges"] == []
    changed = await journeys.gql(UPDATE, {"input": {"journeyId": journey_id, "name": "Mine"}}, token=stranger.token)
    assert errors(changed, "updateJourney") == [("NOT_FOUND", "journeyId")]
