"""Review of issue 16's four eyes on a high-risk player's level: one officer must not get round it by lifting
the high-risk mark before approving alone."""

from __future__ import annotations

from typing import Any

from tests.kyc.conftest import APPROVE, HIGH_RISK, PROVIDER_CHECK, decide


async def test_review_an_officer_who_lifts_the_high_risk_mark_does_not_then_approve_the_level_alone(
    gql: Any, make_player: Any, make_staff: Any, documents_and_screening_clear: None
) -> None:
    player = await make_player()
    marker, officer, second = [await make_staff("kyc_officer") for _ in range(3)]
    await decide(gql, marker, HIGH_RISK, player, highRisk=True, reason="PEP relative")
    await decide(gql, officer, PROVIDER_CHECK, player, provider="demo-idv", passed=True)

    lifted = await decide(gql, officer, HIGH_RISK, player, highRisk=False, reason="not a PEP after all")
    assert lifted["kyc"] == {"highRisk": False}
    alone = await decide(gql, officer, APPROVE, player, level="identity_verified", reason="documents fine")

    assert (alone["errors"], alone["awaitingSecondApproval"], alone["kyc"]["level"]) == ([], True, "registered")
    done = await decide(gql, second, APPROVE, player, level="identity_verified", reason="agreed")
    assert (done["errors"], done["awaitingSecondApproval"], done["kyc"]["level"]) == (
        [],
        False,
        "identity_verified",
    )
    # Another officer than the one who lifted the mark approves a player no longer high risk alone.
    other = await make_player()
    await decide(gql, marker, HIGH_RISK, other, highRisk=True, reason="adverse media")
    await decide(gql, marker, HIGH_RISK, other, highRisk=False, reason="a namesake")
    await decide(gql, officer, PROVIDER_CHECK, other, provider="demo-idv", passed=True)
    single = await decide(gql, officer, APPROVE, other, level="identity_verified", reason="documents fine")
    assert (single["errors"], single["awaitingSecondApproval"], single["kyc"]["level"]) == (
        [],
        False,
        "identity_verified",
    )
