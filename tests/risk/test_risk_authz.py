"""Who reads `Player.risk` and manages the lists: the role x field matrix against the policy. The risk desk
(risk analysts, brand admins through them, superadmins) reads linked accounts and manages the lists;
support, KYC officers, the MLRO, finance, marketing, content managers and players read none of it (support
talks to players: it must not be able to tell one which accounts are linked, nor by what)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import error_codes
from tests.risk.conftest import ADD_ENTRY, Signals, registered
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

RISK_DESK = {"risk_analyst", "brand_admin", "superadmin"}
SELECTION = (
    "risk { clusterSize flags { source } linkedPlayers { sharedSignals { kind value firstSeen } player { id } } }"
)
ENTRIES = "{ riskListEntries(first: 10) { edges { node { id list kind value reason addedAt } } } }"


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_risk_field_matrix_follows_policy(
    role: str, settings: Any, gql: Any, make_staff: Any, signals: Signals
) -> None:
    target = await registered(gql, "target@example.com", device="device-matrix-1")
    await registered(gql, "twin@example.com", device="device-matrix-1")
    await signals.drain()
    authorizer = shared_authorizer(settings)
    roles, brand = role_set(role)

    def may(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand, coordinate) for r in roles)

    assert may("Player.risk") == (role in RISK_DESK), role
    for coordinate in (
        "PlayerRisk.clusterSize",
        "PlayerRisk.flags",
        "RiskFlag.outcome",
        "PlayerRisk.linkedPlayers",
        "LinkedPlayer.sharedSignals",
    ):
        assert may(coordinate) == may("Player.risk"), (role, coordinate)
    assert may("Mutation.addRiskListEntry") == may("Query.riskListEntries") == (role in RISK_DESK), role

    if role == "player":
        token = target.token
        body = await gql("{ me { " + SELECTION + " } }", token=token)
        data = body["data"]["me"]
    else:
        token = (
            await make_staff(("superadmin", None)) if role == "superadmin" else await staff_holding(make_staff, role)
        ).token
        body = await gql("query($id: ID!) { player(id: $id) { " + SELECTION + " } }", {"id": target.id}, token=token)
        data = body["data"]["player"]
    if data is None:  # a role that does not look players up
        assert not may("Query.player"), body
    elif may("Player.risk"):
        assert "errors" not in body, body
        assert data["risk"]["clusterSize"] == 2
        [linked] = data["risk"]["linkedPlayers"]
        assert [s["kind"] for s in linked["sharedSignals"]] == ["device"]
    else:
        assert data["risk"] is None
        assert [e["path"] for e in body["errors"]] == [[*(["me"] if role == "player" else ["player"]), "risk"]]
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}

    listed = await gql(ENTRIES, token=token)
    added = await gql(
        ADD_ENTRY, {"input": {"list": "WATCH", "kind": "COUNTRY", "value": "SE", "reason": "r"}}, token=token
    )
    if role in RISK_DESK:
        assert listed["data"]["riskListEntries"]["edges"] == []
        assert added["data"]["addRiskListEntry"]["errors"] == [], added
    else:
        assert listed["data"]["riskListEntries"] is None
        assert [e["extensions"]["code"] for e in listed["errors"]] == ["FORBIDDEN"]
        assert added["data"] is None
        assert [e["extensions"]["code"] for e in added["errors"]] == ["FORBIDDEN"]


async def test_brand_scoped_staff_see_only_their_brands_linked_accounts(
    gql: Any, make_staff: Any, make_player: Any, other_brand: Any, signals: Signals
) -> None:
    from tests.conftest import PASSWORD, REGISTER
    from tests.risk.conftest import request_headers

    home = await registered(gql, "home@example.com", device="device-two-brands")
    body = await gql(
        REGISTER,
        {
            "input": {
                "brand": "northstar",
                "email": "away@example.com",
                "password": PASSWORD,
                "dateOfBirth": "1990-01-01",
                "country": "SE",
                "currency": "SEK",
            }
        },
        headers=request_headers("device-two-brands"),
    )
    assert body["data"]["registerPlayer"]["errors"] == []
    await signals.drain()
    query = "query($id: ID!) { player(id: $id) { " + SELECTION + " } }"
    royal_analyst = await make_staff("risk_analyst")
    scoped = await gql(query, {"id": home.id}, token=royal_analyst.token)
    risk = scoped["data"]["player"]["risk"]
    assert (risk["clusterSize"], risk["linkedPlayers"]) == (1, [])
    admin = await make_staff(("superadmin", None))
    everything = await gql(query, {"id": home.id}, token=admin.token)
    assert everything["data"]["player"]["risk"]["clusterSize"] == 2


DESK_COORDINATES = (
    "PlayerRisk.score",
    "PlayerRisk.restrictions",
    "RiskScore.value",
    "RiskScore.reasons",
    "RiskScoreReason.points",
    "RiskScoreReason.details",
    "RiskRestriction.kind",
    "RiskRestriction.reason",
    "Query.riskRules",
    "RiskRule.params",
    "RiskRuleAction.kind",
    "Query.riskQueue",
    "RiskQueueEntry.score",
    "RiskQueueEntryConnection.edges",
    "RiskQueueEntryEdge.node",
    "RiskFlag.player",
    "RiskFlag.reviewNote",
    "Mutation.createRiskRule",
    "Mutation.updateRiskRule",
    "Mutation.imposeRiskAction",
    "Mutation.liftRiskAction",
    "Mutation.reviewRiskFlag",
)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
async def test_the_desks_score_rules_queue_and_actions_follow_policy(
    role: str, rt: Any, settings: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    from tests.risk.desk import IMPOSE, PLAYER_RISK, QUEUE, RULES, UPDATE_RULE, hit

    target = await make_player()
    await hit(rt, target.uuid, "chargeback-history", "1 chargeback")
    authorizer = shared_authorizer(settings)
    roles, brand = role_set(role)

    def may(coordinate: str) -> bool:
        return any(authorizer.enforce(r, brand, coordinate) for r in roles)

    for coordinate in DESK_COORDINATES:
        assert may(coordinate) == (role in RISK_DESK), (role, coordinate)

    if role == "player":
        token = target.token
    else:
        token = (
            await make_staff(("superadmin", None)) if role == "superadmin" else await staff_holding(make_staff, role)
        ).token
    rules = await gql(RULES, token=token)
    queue = await gql(QUEUE, token=token)
    update = await gql(
        UPDATE_RULE, {"input": {"code": "linked-accounts", "points": 16, "reason": "matrix"}}, token=token
    )
    impose = await gql(
        IMPOSE, {"input": {"playerId": target.id, "kind": "BLOCK_ACCOUNT", "reason": "matrix"}}, token=token
    )
    if role in RISK_DESK:
        assert len(rules["data"]["riskRules"]) == len(rules_defaults())
        [entry] = queue["data"]["riskQueue"]["edges"]
        assert entry["node"]["score"] == 40
        expected = ["NOT_ALLOWED"] if role != "superadmin" else []  # every brand's rule: every brand's staff
        assert [e["code"] for e in update["data"]["updateRiskRule"]["errors"]] == expected, update
        assert impose["data"]["imposeRiskAction"]["errors"] == [], impose
        risk = (await gql(PLAYER_RISK, {"id": target.id}, token=token))["data"]["player"]["risk"]
        assert risk["score"]["value"] == 40
        assert {r["kind"] for r in risk["restrictions"]} == {"BLOCK_BONUSES", "ROUTE_3DS", "BLOCK_ACCOUNT"}
    else:
        for body, field in ((rules, "riskRules"), (queue, "riskQueue")):
            assert body["data"][field] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        for body in (update, impose):
            assert body["data"] is None
            assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]
        if role == "player":
            body = await gql("{ me { risk { score { value } } } }", token=token)
            assert body["data"]["me"]["risk"] is None
            assert error_codes(body) == ["FORBIDDEN"]
        from services.risk import actions
        from services.risk.store import OnSession

        async with rt.database.session() as db:
            assert not (await actions.in_force(OnSession(db), target.uuid)).blocked


def rules_defaults() -> list[Any]:
    from services.risk import rules

    return rules.defaults()
