"""The risk desk acts on a player (GraphQL): it reads the score with its reasons and the restrictions in
force, imposes a restriction, lifts one (held withdrawals then go on), reviews the flags. Each step is
audited with the staff member and announced; brand scope holds."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from strawberry import relay

from core.clock import clock
from services.risk import actions
from tests.conftest import fund, recorded_statements
from tests.kyc.conftest import payment_status
from tests.risk.desk import (
    IMPOSE,
    LIFT,
    PLAYER_RISK,
    REGISTRATION_RULES,
    REVIEW,
    audit_trail,
    events,
    hit,
    quiet,
)

WITHDRAW = """mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status } errors { code message } } }"""


async def _risk(gql: Any, token: str, player_id: str) -> dict[str, Any]:
    body = await gql(PLAYER_RISK, {"id": player_id}, token=token)
    assert "errors" not in body, body
    risk: dict[str, Any] = body["data"]["player"]["risk"]
    return risk


async def test_the_score_its_reasons_and_the_restrictions_a_rule_imposed(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    assert (await _risk(gql, analyst.token, player.id))["score"] == {"value": 0, "reasons": []}
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback in 365 days", chargebacks=1)
    await hit(rt, player.uuid, "deposits-per-player", "6 deposits in 10 minutes", count=6)
    await hit(rt, player.uuid, "deposits-per-player", "7 deposits in 10 minutes", count=7)
    risk = await _risk(gql, analyst.token, player.id)
    assert risk["score"]["value"] == 55
    [chargebacks, burst] = risk["score"]["reasons"]
    assert (chargebacks["ruleCode"], chargebacks["points"], chargebacks["hits"]) == ("chargeback-history", 40, 1)
    assert (burst["ruleCode"], burst["points"], burst["hits"]) == ("deposits-per-player", 15, 2)
    assert (burst["reason"], burst["details"]) == ("7 deposits in 10 minutes", {"count": 7})
    assert burst["firstHitAt"] <= burst["lastHitAt"] < burst["expiresAt"]
    assert [(r["kind"], r["ruleCode"], r["imposedBy"]) for r in risk["restrictions"]] == [
        ("BLOCK_BONUSES", "chargeback-history", None),
        ("ROUTE_3DS", "chargeback-history", None),
    ]
    assert {(f["source"], f["ruleCode"], f["status"]) for f in risk["flags"]} == {
        ("rule", "chargeback-history", "open"),
        ("rule", "deposits-per-player", "open"),
    }


async def test_staff_impose_a_restriction_once_with_a_reason_and_an_expiry(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    expires = (clock.now() + timedelta(days=7)).isoformat()
    given = {"playerId": player.id, "kind": "REQUIRE_KYC_LEVEL", "level": "identity_verified", "reason": "odd docs"}
    body = await gql(IMPOSE, {"input": {**given, "expiresAt": expires}}, token=analyst.token)
    payload = body["data"]["imposeRiskAction"]
    assert payload["errors"] == [], payload
    restriction = payload["restriction"]
    assert (restriction["kind"], restriction["level"], restriction["ruleCode"]) == (
        "REQUIRE_KYC_LEVEL",
        "identity_verified",
        None,
    )
    async with rt.database.session() as db:
        from services.risk.store import OnSession

        in_force = await actions.in_force(OnSession(db), player.uuid)
    assert in_force.kyc_level == "identity_verified"
    [shown] = (await _risk(gql, analyst.token, player.id))["restrictions"]
    assert shown["imposedBy"] == str(analyst.id)
    assert shown["expiresAt"] is not None

    again = await gql(IMPOSE, {"input": given}, token=analyst.token)
    assert [(e["code"], e["field"]) for e in again["data"]["imposeRiskAction"]["errors"]] == [("INVALID_STATE", "kind")]
    for bad, field in (
        ({"kind": "FLAG_REVIEW"}, "kind"),
        ({"kind": "HOLD_DEPOSIT"}, "kind"),
        ({"kind": "REQUIRE_KYC_LEVEL", "level": None}, "level"),
        ({"kind": "REQUIRE_KYC_LEVEL", "level": "platinum"}, "actions"),
        ({"kind": "ROUTE_PSPS"}, "psps"),
        ({"kind": "BLOCK_BONUSES", "reason": " "}, "reason"),
        ({"kind": "BLOCK_BONUSES", "expiresAt": (clock.now() - timedelta(hours=1)).isoformat()}, "expiresAt"),
    ):
        body = await gql(IMPOSE, {"input": {**given, "level": None, **bad}}, token=analyst.token)
        payload = body["data"]["imposeRiskAction"]
        assert payload["restriction"] is None, bad
        assert [e["field"] for e in payload["errors"]] == [field], (bad, payload)

    [record] = await audit_trail(rt, "risk.action_")
    assert (record.action, record.actor_type, record.actor_id, record.reason) == (
        "risk.action_imposed",
        "staff",
        analyst.id,
        "odd docs",
    )
    assert record.after["kind"] == "require_kyc_level"
    assert record.after["level"] == "identity_verified"
    [announced] = await events(rt, "risk.action_imposed")
    assert (announced["subject"], announced["staff_id"], announced["rule_code"]) == (
        actions.subject(player.uuid),
        str(analyst.id),
        None,
    )


async def test_lifting_a_hold_lets_the_kept_withdrawal_go_on(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, monkeypatch: Any
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    analyst = await make_staff("risk_analyst")
    hold = {"playerId": player.id, "kind": "HOLD_WITHDRAWALS", "reason": "cycling deposits"}
    held = (await gql(IMPOSE, {"input": hold}, token=analyst.token))["data"]["imposeRiskAction"]["restriction"]
    block = {"playerId": player.id, "kind": "BLOCK_ACCOUNT", "reason": "ring"}
    blocked = (await gql(IMPOSE, {"input": block}, token=analyst.token))["data"]["imposeRiskAction"]["restriction"]
    # The withdrawal waits (the risk hold keeps it from automatic approval; on its own the threshold does too).
    threshold = rt.settings.withdrawal_auto_approve_below
    monkeypatch.setattr(rt.settings, "withdrawal_auto_approve_below", {})
    body = await gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    payment_id = uuid.UUID(relay.GlobalID.from_id(body["data"]["requestWithdrawal"]["payment"]["id"]).node_id)
    assert await payment_status(rt, payment_id) == "requested"
    monkeypatch.setattr(rt.settings, "withdrawal_auto_approve_below", threshold)

    # Lifting the hold while the account block still holds withdrawals lets nothing go.
    refused = await gql(LIFT, {"input": {"actionId": held["id"], "reason": " "}}, token=analyst.token)
    assert [e["field"] for e in refused["data"]["liftRiskAction"]["errors"]] == ["reason"]
    first = (await gql(LIFT, {"input": {"actionId": held["id"], "reason": "explained"}}, token=analyst.token))["data"][
        "liftRiskAction"
    ]
    assert first["errors"] == [], first
    assert first["restriction"]["liftedAt"] is not None
    assert first["releasedWithdrawals"] == 0
    assert await payment_status(rt, payment_id) == "requested"
    # Lifting the block too: nothing holds it, it is approved and sent as a new request would be.
    second = (await gql(LIFT, {"input": {"actionId": blocked["id"], "reason": "cleared"}}, token=analyst.token))[
        "data"
    ]["liftRiskAction"]
    assert second["releasedWithdrawals"] == 1
    assert await payment_status(rt, payment_id) == "paid"
    assert (await _risk(gql, analyst.token, player.id))["restrictions"] == []

    twice = await gql(LIFT, {"input": {"actionId": held["id"], "reason": "again"}}, token=analyst.token)
    assert [e["code"] for e in twice["data"]["liftRiskAction"]["errors"]] == ["INVALID_STATE"]
    unknown = await gql(LIFT, {"input": {"actionId": str(uuid.uuid4()), "reason": "x"}}, token=analyst.token)
    assert [e["code"] for e in unknown["data"]["liftRiskAction"]["errors"]] == ["NOT_FOUND"]
    lifted = await events(rt, "risk.action_lifted")
    assert [(e["kind"], e["staff_id"]) for e in lifted] == [
        ("hold_withdrawals", str(analyst.id)),
        ("block_account", str(analyst.id)),
    ]
    trail = [(r.action, r.reason) for r in await audit_trail(rt, "risk.action_lifted")]
    assert trail == [("risk.action_lifted", "explained"), ("risk.action_lifted", "cleared")]


async def test_a_flag_is_reviewed_once_and_a_dismissed_rules_flag_leaves_the_score(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
    await hit(rt, player.uuid, "linked-accounts", "cluster of 4", cluster_size=4)
    flags = {f["ruleCode"]: f for f in (await _risk(gql, analyst.token, player.id))["flags"]}

    no_note = await gql(
        REVIEW,
        {"input": {"flagId": flags["linked-accounts"]["id"], "verdict": "DISMISSED", "note": ""}},
        token=analyst.token,
    )
    assert [e["field"] for e in no_note["data"]["reviewRiskFlag"]["errors"]] == ["note"]
    dismissed = await gql(
        REVIEW,
        {"input": {"flagId": flags["linked-accounts"]["id"], "verdict": "DISMISSED", "note": "family members"}},
        token=analyst.token,
    )
    assert dismissed["data"]["reviewRiskFlag"]["flag"]["status"] == "dismissed"
    confirmed = await gql(
        REVIEW,
        {"input": {"flagId": flags["chargeback-history"]["id"], "verdict": "CONFIRMED", "note": "fraud"}},
        token=analyst.token,
    )
    assert confirmed["data"]["reviewRiskFlag"]["flag"]["reviewNote"] == "fraud"
    risk = await _risk(gql, analyst.token, player.id)
    assert (risk["score"]["value"], [r["ruleCode"] for r in risk["score"]["reasons"]]) == (40, ["chargeback-history"])
    assert len(risk["restrictions"]) == 2  # reviewing lifts nothing

    again = await gql(
        REVIEW,
        {"input": {"flagId": flags["chargeback-history"]["id"], "verdict": "DISMISSED", "note": "x"}},
        token=analyst.token,
    )
    assert [e["code"] for e in again["data"]["reviewRiskFlag"]["errors"]] == ["INVALID_STATE"]
    reviewed = await events(rt, "risk.flag_reviewed")
    assert [(e["rule_code"], e["status"]) for e in reviewed] == [
        ("linked-accounts", "dismissed"),
        ("chargeback-history", "confirmed"),
    ]
    trail = await audit_trail(rt, "risk.flag_reviewed")
    assert [(r.reason, r.after["score_withdrawn"]) for r in trail] == [("family members", 15), ("fraud", 0)]


async def test_brand_staff_act_only_on_their_brands_players(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    player = await make_player()
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
    royal = await make_staff("risk_analyst")
    restriction = (await _risk(gql, royal.token, player.id))["restrictions"][0]
    flag = (await _risk(gql, royal.token, player.id))["flags"][0]
    northstar = await make_staff(("risk_analyst", "northstar"))
    imposed = await gql(
        IMPOSE, {"input": {"playerId": player.id, "kind": "BLOCK_ACCOUNT", "reason": "x"}}, token=northstar.token
    )
    assert [e["code"] for e in imposed["data"]["imposeRiskAction"]["errors"]] == ["NOT_FOUND"]
    lifted = await gql(LIFT, {"input": {"actionId": restriction["id"], "reason": "x"}}, token=northstar.token)
    assert [e["code"] for e in lifted["data"]["liftRiskAction"]["errors"]] == ["NOT_FOUND"]
    reviewed = await gql(
        REVIEW, {"input": {"flagId": flag["id"], "verdict": "DISMISSED", "note": "x"}}, token=northstar.token
    )
    assert [e["code"] for e in reviewed["data"]["reviewRiskFlag"]["errors"]] == ["NOT_FOUND"]
    assert await audit_trail(rt, "risk.action_lifted") == []


SCORES = """{ players(first: 50) { edges { node { id
  risk { score { value reasons { ruleCode } } restrictions { kind } flags { ruleCode } } } } } }"""


async def test_the_scores_of_a_list_of_players_read_in_constant_statements(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    analyst = await make_staff("risk_analyst")
    await quiet(rt, *REGISTRATION_RULES)  # five registrations from the test client's address
    counts = []
    made = 0
    for size in (1, 5):
        while made < size:
            player = await make_player()
            await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
            made += 1
        with recorded_statements(rt) as statements:
            body = await gql(SCORES, token=analyst.token)
        nodes = [e["node"] for e in body["data"]["players"]["edges"]]
        assert len(nodes) == size, body
        assert all(n["risk"]["score"]["value"] == 40 for n in nodes)
        assert all(len(n["risk"]["restrictions"]) == 2 for n in nodes)
        assert all([f["ruleCode"] for f in n["risk"]["flags"]] == ["chargeback-history"] for n in nodes)
        counts.append(len(statements))
    assert counts[0] == counts[1], counts
