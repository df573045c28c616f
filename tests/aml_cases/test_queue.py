"""The case queue: filters, overdue, brand scope, its statements, and who reads AML records at all."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import clock
from services.audit import AuditTopic, topic_of
from tests.aml_cases.conftest import ASSIGN, NOTE, OPEN, RESTRICT, Desk
from tests.aml_cases.test_case_flow import gid
from tests.conftest import recorded_statements

QUEUE = """query($filter: AmlCaseFilter, $first: Int) {
  amlCases(filter: $filter, first: $first) { edges { node {
    id state overdue restricted caseType player { id email } assignee { id displayName }
    notes { body } evidence { refId } history { action }
  } } } }"""


async def open_cases(desk: Desk, token: str, make_player: Any, n: int) -> list[str]:
    ids = []
    for i in range(n):
        player = await make_player()
        ids.append((await desk.ok(OPEN, token, playerId=player.id, summary=f"case {i}"))["case"]["id"])
    return ids


async def test_the_queue_costs_the_same_statements_whatever_the_page_size(
    rt: Any, gql: Any, desk: Desk, make_player: Any, kyc: Any
) -> None:
    ids = await open_cases(desk, kyc.token, make_player, 6)
    for case_id in ids:
        await desk.ok(ASSIGN, kyc.token, caseId=case_id, assigneeId=gid("StaffUser", kyc.id))
        await desk.ok(NOTE, kyc.token, caseId=case_id, body="seen")
    await desk.ok(RESTRICT, kyc.token, caseId=ids[0], restricted=True, reason="hold")
    await gql(QUEUE, {"first": 1}, token=kyc.token)  # warm the role set's decisions

    async def statements(size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(QUEUE, {"first": size}, token=kyc.token)
        assert not body.get("errors"), body
        assert len(body["data"]["amlCases"]["edges"]) == size
        return len(seen)

    small, large = await statements(1), await statements(6)
    assert small == large, (small, large)
    body = await gql(QUEUE, {"first": 6}, token=kyc.token)
    nodes = [e["node"] for e in body["data"]["amlCases"]["edges"]]
    assert [n["id"] for n in nodes] == list(reversed(ids))  # newest first
    assert [n["restricted"] for n in nodes] == [False] * 5 + [True]
    assert all(n["notes"] == [{"body": "seen"}] and n["assignee"]["id"] == gid("StaffUser", kyc.id) for n in nodes)
    assert nodes[0]["history"] == [
        {"action": "case_opened"},
        {"action": "case_assigned"},
        {"action": "case_state_changed"},
        {"action": "case_note_added"},
    ]


async def test_overdue_cases_show_in_the_queue_and_filter(
    gql: Any, desk: Desk, make_player: Any, kyc: Any, make_staff: Any, other_brand: Any
) -> None:
    [sanctions] = [
        (await desk.ok(OPEN, kyc.token, playerId=(await make_player()).id, summary="hit", caseType="sanctions"))[
            "case"
        ]["id"]
    ]
    [manual] = await open_cases(desk, kyc.token, make_player, 1)
    clock.advance(timedelta(days=2))  # a sanctions case is reviewed within a day, a manual one within 30
    kyc = await make_staff("kyc_officer")  # (a token of two days ago has expired)
    body = await gql(QUEUE, {"filter": {"overdue": True}}, token=kyc.token)
    assert [(e["node"]["id"], e["node"]["overdue"]) for e in body["data"]["amlCases"]["edges"]] == [(sanctions, True)]
    body = await gql(QUEUE, {"filter": {"overdue": False, "states": ["OPEN"]}}, token=kyc.token)
    assert [e["node"]["id"] for e in body["data"]["amlCases"]["edges"]] == [manual]
    # Another brand's desk sees none of them.
    north = await make_staff(("kyc_officer", "northstar"))
    body = await gql(QUEUE, {}, token=north.token, brand="northstar")
    assert body["data"]["amlCases"]["edges"] == []


async def test_aml_audit_records_stay_with_the_aml_desk(
    gql: Any, desk: Desk, make_player: Any, kyc: Any, make_staff: Any
) -> None:
    player = await make_player()
    await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Suspicion")
    trail = "query($id: ID!) { player(id: $id) { auditTrail(first: 20) { edges { node { action } } } } }"
    support = await make_staff("support")
    risk = await make_staff("risk_analyst")

    def actions(body: dict[str, Any]) -> list[str]:
        return [e["node"]["action"] for e in body["data"]["player"]["auditTrail"]["edges"]]

    log = "{ auditLog(first: 50) { edges { node { action } } } }"
    assert "aml.case_opened" in [
        e["node"]["action"] for e in (await gql(log, token=risk.token))["data"]["auditLog"]["edges"]
    ]
    body = await gql(trail, {"id": player.id}, token=support.token)
    assert "errors" not in body or not body["errors"], body
    assert not any(a.startswith("aml.") for a in actions(body))  # support never learns of a case
    assert topic_of("aml.case_opened") == AuditTopic.AML_CASES  # hidden from roles without the AML fields
