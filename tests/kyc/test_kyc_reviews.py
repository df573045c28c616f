"""Officers' decisions through GraphQL: restriction pending review, four eyes for high-risk players,
rejection and requests for more, each audited; the review queue in a constant number of statements."""

from __future__ import annotations

from typing import Any

from tests.cashier.conftest import DemoPsp, assert_ledger_ok, balances
from tests.conftest import recorded_statements
from tests.kyc.conftest import (
    APPROVE,
    HIGH_RISK,
    PROVIDER_CHECK,
    QUEUE,
    REJECT,
    REQUEST_MORE,
    RESTRICT,
    audit_actions,
    decide,
    deposit,
    events_of,
    my_kyc,
    withdraw,
)
from tests.rg.conftest import SOME_GAME


async def test_a_restricted_account_is_refused_deposits_with_kyc_required_and_its_withdrawal_waits_held(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(balance="100.00 EUR")
    officer = await make_staff("kyc_officer")
    restricted = await decide(gql, officer, RESTRICT % "kycRestrict", player, reason="unusual pattern, pending review")
    assert restricted["errors"] == []
    assert restricted["kyc"] == {"status": "RESTRICTED", "restricted": True}

    refused = await deposit(gql, psp, player, "10.00")
    [error] = refused["errors"]
    assert (error["code"], error["kyc"]["trigger"]) == ("KYC_REQUIRED", "restricted")
    assert "contact support" in error["kyc"]["nextStep"]
    assert await psp.transactions() == []

    launch = await gql(
        "mutation($input: LaunchGameInput!) { launchGame(input: $input) {"
        " launchUrl errors { code kyc { trigger } } } }",
        {"input": {"gameId": SOME_GAME, "mode": "REAL"}},
        token=player.token,
    )
    assert launch["data"]["launchGame"] == {
        "launchUrl": None,
        "errors": [{"code": "KYC_REQUIRED", "kyc": {"trigger": "restricted"}}],
    }

    waiting = await withdraw(gql, player, "30.00")
    assert waiting["payment"]["status"] == "WAITING_FOR_KYC"
    assert await balances(rt, player.uuid) == (7000, 3000)
    again = await decide(gql, officer, RESTRICT % "kycRestrict", player, reason="twice")
    assert [e["code"] for e in again["errors"]] == ["INVALID_STATE"]

    lifted = await decide(gql, officer, RESTRICT % "kycLiftRestriction", player, reason="reviewed: fine")
    assert lifted["kyc"] == {"status": "VERIFIED", "restricted": False}
    body = await gql(
        "query($id: ID!) { node(id: $id) { ... on Payment { status } } }",
        {"id": waiting["payment"]["id"]},
        token=player.token,
    )
    assert body["data"]["node"]["status"] == "PAID", body
    assert await balances(rt, player.uuid) == (7000, 0)
    assert await audit_actions(rt, player.uuid) == ["kyc.restrict", "kyc.lift_restriction"]
    assert [e["restricted"] for e in await events_of(rt, player.uuid, "kyc.restricted")] == [True, False]
    await assert_ledger_ok(rt)


async def test_a_high_risk_players_level_takes_two_different_officers(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, documents_and_screening_clear: None
) -> None:
    player = await make_player()
    first, second = await make_staff("kyc_officer"), await make_staff("kyc_officer")
    marked = await decide(gql, first, HIGH_RISK, player, highRisk=True, reason="PEP relative")
    assert marked["kyc"] == {"highRisk": True}
    await decide(gql, first, PROVIDER_CHECK, player, provider="demo-idv", passed=True)

    one = await decide(gql, first, APPROVE, player, level="identity_verified", reason="documents fine")
    assert one["errors"] == []
    assert one["awaitingSecondApproval"] is True
    assert one["kyc"]["level"] == "registered"
    same = await decide(gql, first, APPROVE, player, level="identity_verified", reason="again")
    assert [e["code"] for e in same["errors"]] == ["APPROVAL_REQUIRED"]
    two = await decide(gql, second, APPROVE, player, level="identity_verified", reason="agreed")
    assert two["errors"] == []
    assert two["awaitingSecondApproval"] is False
    assert two["kyc"]["level"] == "identity_verified"
    decisions = [e["decision"] for e in await events_of(rt, player.uuid, "kyc.review_decided")]
    assert decisions == ["first_approval", "approved"]
    assert await audit_actions(rt, player.uuid) == [
        "kyc.set_high_risk",
        "kyc.provider_check",
        "kyc.level_first_approval",
        "kyc.level_approve",
    ]


async def test_an_officer_cannot_approve_a_level_whose_requirements_are_not_met(
    gql: Any, make_player: Any, make_staff: Any
) -> None:
    """Without the documents and screening modules (not merged here), their requirements are never met."""
    player = await make_player()
    officer = await make_staff("kyc_officer")
    await decide(gql, officer, PROVIDER_CHECK, player, provider="demo-idv", passed=True)
    refused = await decide(gql, officer, APPROVE, player, level="identity_verified", reason="looks fine")
    [error] = refused["errors"]
    assert error["code"] == "INVALID_STATE"
    assert "document:identity" in error["message"]
    assert "screening_clear" in error["message"]
    skipping = await decide(gql, officer, APPROVE, player, level="address_verified", reason="skip")
    assert [e["code"] for e in skipping["errors"]] == ["INVALID_STATE"]
    unknown = await decide(gql, officer, APPROVE, player, level="platinum", reason="?")
    assert [(e["code"], e["field"]) for e in unknown["errors"]] == [("INVALID_INPUT", "level")]


async def test_rejecting_or_asking_for_more_tells_the_player_and_keeps_the_level(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    officer = await make_staff("kyc_officer")
    asked = await decide(gql, officer, REQUEST_MORE, player, level="identity_verified", what="A clearer photo, please.")
    assert asked["errors"] == []
    assert (await my_kyc(gql, player))["requested"] is None  # nothing is required of them yet: nothing shown
    rejected = await decide(gql, officer, REJECT, player, level="identity_verified", reason="document expired")
    assert rejected["errors"] == []
    assert rejected["kyc"]["level"] == "registered"
    no_reason = await decide(gql, officer, REJECT, player, level="identity_verified", reason="  ")
    assert [(e["code"], e["field"]) for e in no_reason["errors"]] == [("INVALID_INPUT", "reason")]
    assert await audit_actions(rt, player.uuid) == ["kyc.level_request_more", "kyc.level_reject"]


async def test_support_may_not_decide_and_a_player_may_not_either(gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    support = await make_staff("support")
    for token in (support.token, player.token):
        body = await gql(
            APPROVE, {"input": {"playerId": player.id, "level": "identity_verified", "reason": "x"}}, token=token
        )
        assert body["data"] is None or body["data"].get("kycApproveLevel") is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_the_review_queue_reads_in_a_constant_number_of_statements(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    officer = await make_staff("kyc_officer")

    async def restricted_players(count: int) -> None:
        for _ in range(count):
            player = await make_player()
            await decide(gql, officer, RESTRICT % "kycRestrict", player, reason="review")

    async def read() -> tuple[list[dict[str, Any]], int]:
        with recorded_statements(rt) as statements:
            body = await gql(QUEUE, {"status": "RESTRICTED"}, token=officer.token)
        assert "errors" not in body, body
        return [e["node"] for e in body["data"]["kycReviewQueue"]["edges"]], len(statements)

    await restricted_players(2)
    two, few = await read()
    await restricted_players(4)
    six, many = await read()
    assert (len(two), len(six)) == (2, 6)
    assert many == few, (few, many)
    assert all(n["status"] == "RESTRICTED" and n["player"]["email"] for n in six)
