"""The screening review surface: the queue and an alert's detail, the decide mutation (audited, coded
errors), the role x field matrix, and the queue's statement count."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest

from tests.conftest import recorded_statements
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

QUEUE = """
query($filter: ScreeningAlertFilter) {
  screeningAlerts(filter: $filter, first: 20) {
    edges { node {
      id score state listVersion
      entity { id caption names birthDates countries topics }
      why { listedName playerName comparedAs nameScore birthDate country tokens { listed player similarity } }
      player { id email }
    } }
  }
}"""
DECIDE = """
mutation($input: DecideScreeningAlertInput!) {
  decideScreeningAlert(input: $input) {
    alert { id state decisionReason decidedBy decidedAt }
    errors { code field message }
  }
}"""


async def sanctioned(make_player: Any, screening: Any, **names: str) -> Any:
    player = await make_player(firstName="Dmitriy", lastName="Sarychev", born=date(1968, 4, 12), **names)
    await screening.drain()
    return player


async def test_the_queue_shows_the_match_with_the_entity_and_why(
    gql: Any, make_player: Any, make_staff: Any, screening: Any
) -> None:
    player = await sanctioned(make_player, screening)
    officer = await make_staff("kyc_officer")
    body = await gql(QUEUE, {"filter": {"state": "OPEN"}}, token=officer.token)
    [edge] = body["data"]["screeningAlerts"]["edges"]
    alert = edge["node"]
    assert alert["state"] == "OPEN"
    assert alert["player"] == {"id": player.id, "email": player.email}
    assert alert["entity"]["names"] == ["Дмитрий Олегович Сарычев"]
    assert alert["entity"]["topics"] == ["sanction"]
    assert alert["why"]["playerName"] == "Dmitriy Sarychev"
    assert alert["why"]["comparedAs"] == "latin"
    assert alert["why"]["birthDate"] == "same_day"
    assert {(t["listed"], t["player"]) for t in alert["why"]["tokens"]} == {
        ("dmitrii", "dmitriy"),
        ("sarychev", "sarychev"),
    }

    detail = await gql(
        "query($id: ID!) { screeningAlert(id: $id) { id entity { caption } } }",
        {"id": alert["id"]},
        token=officer.token,
    )
    assert detail.get("data")
    assert detail["data"]["screeningAlert"] == {
        "id": alert["id"],
        "entity": {"caption": "Дмитрий Олегович Сарычев"},
    }
    node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": alert["id"]}, token=officer.token)
    assert node["data"]["node"] == {"id": alert["id"]}

    for bad, code in (
        ({"state": "CONFIRMED"}, None),
        ({"minScore": 2.0}, "BAD_USER_INPUT"),
        ({"topic": "role.pep"}, None),
    ):
        found = await gql(QUEUE, {"filter": bad}, token=officer.token)
        if code is None:
            assert found["data"]["screeningAlerts"]["edges"] == [], bad
        else:
            assert [e["extensions"]["code"] for e in found["errors"]] == [code]


async def test_a_decision_is_audited_emitted_and_final(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, screening: Any
) -> None:
    await sanctioned(make_player, screening)
    analyst = await make_staff("risk_analyst")
    [edge] = (await gql(QUEUE, {}, token=analyst.token))["data"]["screeningAlerts"]["edges"]
    alert_id = edge["node"]["id"]

    empty = await gql(
        DECIDE, {"input": {"alertId": alert_id, "decision": "CONFIRMED", "reason": "  "}}, token=analyst.token
    )
    assert [(e["code"], e["field"]) for e in empty["data"]["decideScreeningAlert"]["errors"]] == [
        ("INVALID_INPUT", "reason")
    ]
    wrong = await gql(
        DECIDE, {"input": {"alertId": "not-an-id", "decision": "CONFIRMED", "reason": "x"}}, token=analyst.token
    )
    assert [e["extensions"]["code"] for e in wrong["errors"]] == ["BAD_USER_INPUT"]

    body = await gql(
        DECIDE,
        {"input": {"alertId": alert_id, "decision": "CONFIRMED", "reason": "same passport"}},
        token=analyst.token,
    )
    payload = body["data"]["decideScreeningAlert"]
    assert payload["errors"] == []
    assert payload["alert"]["state"] == "CONFIRMED"
    assert payload["alert"]["decisionReason"] == "same passport"
    again = await gql(
        DECIDE, {"input": {"alertId": alert_id, "decision": "FALSE_POSITIVE", "reason": "no"}}, token=analyst.token
    )
    assert [e["code"] for e in again["data"]["decideScreeningAlert"]["errors"]] == ["INVALID_STATE"]

    audit = await screening.conn.fetch(
        "SELECT action, reason, after FROM audit_log WHERE action = 'aml.screening_alert_decided'"
    )
    assert [(r["action"], r["reason"], json.loads(r["after"])["state"]) for r in audit] == [
        ("aml.screening_alert_decided", "same passport", "confirmed")
    ]
    events = await screening.conn.fetch("SELECT payload FROM outbox_events WHERE topic = 'aml.screening_alert_decided'")
    assert [json.loads(r["payload"])["decision"] for r in events] == ["confirmed"]
    # The confirmed match is now an AML case for the investigators (services/aml/cases.py), opened once.
    cases = await screening.conn.fetch("SELECT source, source_id, case_type, state FROM aml_cases")
    assert [(c["source"], c["case_type"], c["state"]) for c in cases] == [("screening", "sanctions", "open")]
    # Confirmed stays confirmed: a rescreen raises nothing new for the pair.
    await screening.conn.execute("DELETE FROM aml_player_screenings")
    from services.aml.rescreen import rescreen
    from services.aml.screening import current_index

    assert (await rescreen(screening.conn, current_index(rt.settings))).raised == 0


@pytest.mark.parametrize("role", ROLES)
async def test_screening_field_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_player: Any, make_staff: Any, screening: Any
) -> None:
    player = await sanctioned(make_player, screening)
    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)

    def may(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    token = None
    if role == "player":
        token = player.token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    body = await gql(
        "{ screeningAlerts { edges { node { id score entity { caption } why { listedName } } } } }", token=token
    )
    if may("Query.screeningAlerts"):
        [edge] = body["data"]["screeningAlerts"]["edges"]
        assert edge["node"]["entity"]["caption"] == "Дмитрий Олегович Сарычев", role
    else:
        assert body["data"]["screeningAlerts"] is None, role
        assert [e["extensions"]["code"] for e in body["errors"]] in (["FORBIDDEN"], ["UNAUTHENTICATED"]), role
    alert_id = (await screening.alerts(player.uuid))[0]["id"]
    from schema.base import to_global_id

    gid = str(to_global_id("ScreeningAlert", alert_id))
    decided = await gql(
        DECIDE, {"input": {"alertId": gid, "decision": "FALSE_POSITIVE", "reason": "checked"}}, token=token
    )
    if may("Mutation.decideScreeningAlert"):
        assert decided["data"]["decideScreeningAlert"]["errors"] == [], role
    else:
        assert decided["data"] is None or decided["data"]["decideScreeningAlert"] is None, role
        assert (await screening.alerts(player.uuid))[0]["state"] == "open", role
    assert may("Query.screeningAlerts") == (role in ("kyc_officer", "risk_analyst", "brand_admin", "superadmin"))


async def test_the_queue_costs_the_same_statements_for_one_alert_or_many(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, screening: Any
) -> None:
    officer = await make_staff("kyc_officer")
    await sanctioned(make_player, screening)
    with recorded_statements(rt) as one:
        body = await gql(QUEUE, {}, token=officer.token)
    assert len(body["data"]["screeningAlerts"]["edges"]) == 1
    for n in range(4):
        await sanctioned(make_player, screening, email=f"again{n}@example.com")
    with recorded_statements(rt) as five:
        body = await gql(QUEUE, {}, token=officer.token)
    assert len(body["data"]["screeningAlerts"]["edges"]) == 5
    assert len(five) == len(one), (one, five)
