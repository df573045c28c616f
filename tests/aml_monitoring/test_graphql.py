"""Monitoring for staff through GraphQL: the alerts queue with its filters, an alert's explanation and
events, decisions, versions and backtests; who may see and do what (role x field); statements per list."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry import relay

from services.aml.monitoring import backtest
from tests.aml_monitoring.conftest import Monitoring
from tests.conftest import error_codes, recorded_statements
from tests.test_authz import ROLES, check_fields, role_set, selection_of, shared_authorizer, staff_holding

QUEUE = """
query($rule: String, $outcome: AmlOutcome, $status: AmlAlertStatus) {
  amlAlerts(rule: $rule, outcome: $outcome, status: $status) { edges { node {
    id playerId version eventId score outcome status decisionReason
    hits { rule kind weight figures eventIds }
    events { id type data }
  } } }
}"""
DECIDE = """
mutation($input: DecideAmlAlertInput!) {
  decideAmlAlert(input: $input) { alert { id status decisionReason } errors { code field message } }
}"""


async def test_risk_works_the_queue_and_decides_an_alert(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, deposit: Any, monitoring: Monitoring
) -> None:
    player, other = await make_player(), await make_player()
    for amount in ("1900.00", "1950.00", "1999.00"):
        await deposit(player, amount)
    await deposit(other, "15000.00")  # a large deposit: another rule
    await monitoring.drain()
    risk, kyc, support = await make_staff("risk_analyst"), await make_staff("kyc_officer"), await make_staff("support")

    body = await gql(QUEUE, {"rule": "structuring"}, token=risk.token)
    [edge] = body["data"]["amlAlerts"]["edges"]
    alert = edge["node"]
    assert alert["playerId"] == player.id
    assert (alert["outcome"], alert["status"], alert["score"]) == ("REVIEW", "OPEN", 60)
    [hit] = alert["hits"]
    assert hit["rule"] == "structuring"
    assert hit["figures"]["deposits"] == 3
    assert [e["id"] for e in alert["events"]] == hit["eventIds"]
    assert {e["type"] for e in alert["events"]} == {"payment.succeeded"}
    assert all(e["data"]["player_id"] == str(player.uuid) for e in alert["events"])
    large = await gql(QUEUE, {"rule": "large_deposit"}, token=risk.token)
    assert [e["node"]["playerId"] for e in large["data"]["amlAlerts"]["edges"]] == [other.id]
    assert len((await gql(QUEUE, {}, token=kyc.token))["data"]["amlAlerts"]["edges"]) == 2
    assert error_codes(await gql(QUEUE, {}, token=support.token)) == ["FORBIDDEN"]

    decide = {"alertId": alert["id"], "decision": "DISMISSED", "reason": "salary, documented"}
    assert error_codes(await gql(DECIDE, {"input": decide}, token=kyc.token)) == ["FORBIDDEN"]
    empty = await gql(DECIDE, {"input": {**decide, "reason": "  "}}, token=risk.token)
    assert [(e["code"], e["field"]) for e in empty["data"]["decideAmlAlert"]["errors"]] == [("INVALID_INPUT", "reason")]
    done = await gql(DECIDE, {"input": decide}, token=risk.token)
    assert done["data"]["decideAmlAlert"]["alert"]["status"] == "DISMISSED"
    again = await gql(DECIDE, {"input": decide}, token=risk.token)
    assert [e["code"] for e in again["data"]["decideAmlAlert"]["errors"]] == ["INVALID_STATE"]
    assert (await gql(QUEUE, {"rule": "structuring"}, token=risk.token))["data"]["amlAlerts"]["edges"] == []
    decided = await gql(QUEUE, {"status": "DISMISSED"}, token=risk.token)
    assert [e["node"]["decisionReason"] for e in decided["data"]["amlAlerts"]["edges"]] == ["salary, documented"]
    assert len(await monitoring.event_id("aml.alert_decided", player_id=str(player.uuid), decision="dismissed")) == 1
    audit = await monitoring.conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'aml.alert_decided'")
    assert audit == 1
    assert await monitoring.conn.fetchval("SELECT count(*) FROM aml_cases") == 0  # a dismissed alert opens none

    # The large deposit, confirmed: an AML case opens from it, once, in the decision's transaction.
    [large_alert] = large["data"]["amlAlerts"]["edges"]
    confirm = {"alertId": large_alert["node"]["id"], "decision": "CONFIRMED", "reason": "no source of funds"}
    assert (await gql(DECIDE, {"input": confirm}, token=risk.token))["data"]["decideAmlAlert"]["errors"] == []
    cases = await monitoring.conn.fetch("SELECT player_id, source, source_id, case_type, state FROM aml_cases")
    assert [(str(c["player_id"]), c["source"], c["case_type"], c["state"]) for c in cases] == [
        (str(other.uuid), "monitoring", "monitoring", "open")
    ]
    assert await gql(DECIDE, {"input": confirm}, token=risk.token)  # decided already: refused, no second case
    assert await monitoring.conn.fetchval("SELECT count(*) FROM aml_cases") == 1


async def _statements(rt: Any, gql: Any, token: str, query: str, variables: dict[str, Any] | None = None) -> int:
    with recorded_statements(rt) as statements:
        body = await gql(query, variables or {}, token=token)
    assert "errors" not in body, body
    return len(statements)


LISTS = {
    "amlAlerts": "{ amlAlerts(status: null) { edges { node { id hits { rule } events { id type } } } } }",
    "amlMonitoringVersions": "{ amlMonitoringVersions { version live rules scenario } }",
    "amlBacktests": "{ amlBacktests { edges { node { id summary } } } }",
    "amlBacktestAlerts": (
        "query($run: ID!) { amlBacktestAlerts(runId: $run) { edges { node { eventId hits { rule } } } } }"
    ),
}


async def test_list_statements_do_not_grow_with_the_rows(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, deposit: Any, monitoring: Monitoring
) -> None:
    risk = await make_staff("risk_analyst")
    counts: list[dict[str, int]] = []
    for _ in range(2):
        for _ in range(len(counts) * 2 + 1):  # one more alert, then three more
            await deposit(await make_player(), "12000.00")
        await monitoring.drain()
        run = await backtest.run(monitoring.conn, version=1)
        counts.append(
            {
                name: await _statements(rt, gql, risk.token, query, {"run": str(run.run_id)} if "$run" in query else {})
                for name, query in LISTS.items()
            }
        )
    assert counts[0] == counts[1], counts
    assert counts[0]["amlAlerts"] <= 3, counts  # the page, its events in one query (and the session's own)


@pytest.mark.parametrize("role", ROLES)
async def test_monitoring_fields_follow_the_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any, deposit: Any, monitoring: Monitoring
) -> None:
    """Every field of the monitoring types and the decision, for every role: allowed answers, the rest is
    FORBIDDEN at its path (new fields are covered as they are added)."""
    await deposit(await make_player(), "12000.00")
    await monitoring.drain()
    run = await backtest.run(monitoring.conn, version=1)
    token = None
    if role == "player":
        token = (await make_player()).token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    refused = "UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"

    def allowed(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    hit_fields, hit_selection = selection_of(settings, "AmlAlertHit")
    event_fields, event_selection = selection_of(settings, "AmlAlertEvent")

    def nested(type_name: str) -> tuple[list[str], str]:
        names, selection = selection_of(settings, type_name)
        selection = selection.replace("hits { __typename }", "hits { " + hit_selection + " }")
        return names, selection.replace("events { __typename }", "events { " + event_selection + " }")

    alert_fields, alert_selection = nested("AmlAlert")
    version_fields, version_selection = selection_of(settings, "AmlMonitoringVersion")
    run_fields, run_selection = selection_of(settings, "AmlBacktestRun")
    found_fields, found_selection = nested("AmlBacktestAlert")
    for root, query, type_name, fields, connection in (
        ("amlAlerts", "{ amlAlerts { edges { node { " + alert_selection + " } } } }", "AmlAlert", alert_fields, True),
        ("amlMonitoringVersions", "{ amlMonitoringVersions { " + version_selection + " } }", "AmlMonitoringVersion",
         version_fields, False),
        ("amlBacktests", "{ amlBacktests { edges { node { " + run_selection + " } } } }", "AmlBacktestRun",
         run_fields, True),
        ("amlBacktestAlerts", '{ amlBacktestAlerts(runId: "' + str(run.run_id) + '") { edges { node { '
         + found_selection + " } } } }", "AmlBacktestAlert", found_fields, True),
    ):  # fmt: skip
        body = await gql(query, token=token)
        if not allowed(f"Query.{root}"):
            assert body["data"] == {root: None}, (role, body)
            assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [([root], refused)]
            continue
        path: list[str | int] = [root, "edges", 0, "node"] if connection else [root, 0]
        node = body["data"][root]["edges"][0]["node"] if connection else body["data"][root][0]
        check_fields(body, node, path, type_name, fields, allowed)
        if node.get("hits"):
            check_fields(body, node["hits"][0], [*path, "hits", 0], "AmlAlertHit", hit_fields, allowed)
        if type_name == "AmlAlert" and node.get("events"):
            check_fields(body, node["events"][0], [*path, "events", 0], "AmlAlertEvent", event_fields, allowed)

    missing = str(relay.GlobalID("AmlAlert", "00000000-0000-0000-0000-000000000000"))
    body = await gql(DECIDE, {"input": {"alertId": missing, "decision": "CONFIRMED", "reason": "x"}}, token=token)
    if allowed("Mutation.decideAmlAlert"):
        assert [e["code"] for e in body["data"]["decideAmlAlert"]["errors"]] == ["NOT_FOUND"], body
    else:
        assert error_codes(body) == [refused], (role, body)
