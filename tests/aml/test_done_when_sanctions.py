"""Issue 16's "done when", its sanctions part, through GraphQL: a player whose name matches the sample
sanctions list (in another script) is caught at registration, an officer confirms the match, which opens a
sanctions case and freezes the account (no deposit moves money), and the MLRO closes the case with a SAR
filed whose goAML draft the FIU's schema accepts; ledger verify is clean throughout."""

from __future__ import annotations

from typing import Any

from services.aml import goaml_schema
from tests.aml.test_screening_api import DECIDE, QUEUE, sanctioned
from tests.aml_cases.conftest import CLOSE, EXPORT, STATE, Desk, desk, kyc, mlro  # noqa: F401  (fixtures)
from tests.cashier.conftest import DemoPsp, assert_ledger_ok, psp  # noqa: F401  (fixture)
from tests.kyc.conftest import deposit

PLAYER_CASES = """query($id: ID!) { player(id: $id) {
  amlCases(first: 5) { edges { node { id state caseType restricted summary } } } } }"""


async def test_a_sanctioned_name_is_caught_at_registration_and_handled_in_a_case(
    rt: Any,
    gql: Any,
    desk: Desk,  # noqa: F811  (the imported fixture)
    psp: DemoPsp,  # noqa: F811
    make_player: Any,
    screening: Any,
    kyc: Any,  # noqa: F811
    mlro: Any,  # noqa: F811
) -> None:
    # Registration (the sample list holds only "Дмитрий Олегович Сарычев", born 1968-04-12).
    player = await sanctioned(make_player, screening)
    assert (await deposit(gql, psp, player, "20.00"))["payment"]["status"] == "SUCCEEDED"  # before the review

    # The KYC officer's screening queue shows the match; they confirm it.
    queue = await gql(QUEUE, {"filter": {"state": "OPEN"}}, token=kyc.token)
    [edge] = queue["data"]["screeningAlerts"]["edges"]
    assert edge["node"]["player"]["id"] == player.id
    decided = await gql(
        DECIDE,
        {"input": {"alertId": edge["node"]["id"], "decision": "CONFIRMED", "reason": "same person: date of birth"}},
        token=kyc.token,
    )
    assert decided["data"]["decideScreeningAlert"]["errors"] == [], decided

    # A sanctions case is open about the player, and the account is frozen.
    cases = await gql(PLAYER_CASES, {"id": player.id}, token=mlro.token)
    [case] = [e["node"] for e in cases["data"]["player"]["amlCases"]["edges"]]
    assert (case["state"], case["caseType"], case["restricted"]) == ("OPEN", "sanctions", True), case
    refused = await deposit(gql, psp, player, "20.00")
    assert refused["payment"] is None
    assert [e["code"] for e in refused["errors"]] == ["AML_RESTRICTED"]
    await assert_ledger_ok(rt)

    # Investigated, escalated, and the MLRO files a SAR; the draft validates against the FIU's schema.
    await desk.ok(STATE, kyc.token, caseId=case["id"], state="ESCALATED")
    closed = await desk.ok(CLOSE, mlro.token, caseId=case["id"], outcome="SAR_FILED", reason="Reported to the FIU")
    assert (closed["case"]["state"], closed["case"]["outcome"]) == ("CLOSED", "SAR_FILED")
    sar = (await desk.ok(EXPORT, mlro.token, caseId=case["id"]))["sar"]
    assert goaml_schema.problems(sar["xml"].encode()) == []
    assert "<first_name>Dmitriy</first_name>" in sar["xml"]
    await assert_ledger_ok(rt)
