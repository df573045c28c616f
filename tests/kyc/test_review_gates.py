"""Review of issue 16's KYC gates: a withdrawal that reaches finance before a KYC hold, and what a player reads
of a risk signal another module raised."""

from __future__ import annotations

from typing import Any

from tests.cashier.conftest import DemoPsp, assert_ledger_ok, balances
from tests.kyc.conftest import HIGH_RISK, PLAYER_KYC, RESTRICT, decide, my_kyc, payment_status, withdraw
from tests.kyc.test_kyc_flow import payment_uuid

APPROVE_WITHDRAWAL = """mutation($input: ApproveWithdrawalInput!) {
  approveWithdrawal(input: $input) { payment { status } errors { code field kyc { trigger } } } }"""
CLAIM = """mutation($input: ClaimBonusInput!) {
  claimBonus(input: $input) { bonus { id } errors { code kyc { trigger } } } }"""


async def test_review_finance_cannot_pay_out_a_withdrawal_the_kyc_desk_restricted_after_it_was_requested(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    """A withdrawal in finance's queue when the KYC desk restricts the account (or a risk signal asks for a
    level with the withdrawal gate) stays held until the restriction is lifted, as one requested after it."""
    player = await make_player(balance="500.00 EUR")
    requested = await withdraw(gql, player, "150.00")  # above automatic approval: in finance's queue
    assert requested["payment"]["status"] == "REQUESTED", requested
    officer, finance = await make_staff("kyc_officer"), await make_staff("finance")
    await decide(gql, officer, RESTRICT % "kycRestrict", player, reason="documents look forged")

    body = await gql(APPROVE_WITHDRAWAL, {"input": {"paymentId": requested["payment"]["id"]}}, token=finance.token)

    payload = body["data"]["approveWithdrawal"]
    assert [(e["code"], e["kyc"]["trigger"]) for e in payload["errors"]] == [("KYC_REQUIRED", "restricted")], body
    withdrawal = payment_uuid(requested)
    assert await payment_status(rt, withdrawal) == "requested"
    assert await balances(rt, player.uuid) == (35000, 15000)  # still held, nothing paid
    await decide(gql, officer, RESTRICT % "kycLiftRestriction", player, reason="originals seen")
    body = await gql(APPROVE_WITHDRAWAL, {"input": {"paymentId": requested["payment"]["id"]}}, token=finance.token)
    assert body["data"]["approveWithdrawal"]["errors"] == [], body
    assert await payment_status(rt, withdrawal) == "paid"
    await assert_ledger_ok(rt)


async def test_review_a_player_reads_that_a_review_is_required_but_not_the_aml_signal_behind_it(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """Tipping off: a risk signal's code (`aml.structuring`) names the suspicion; the player's own KYC view
    says a review is required, while the KYC desk reads the signal."""
    from services.kyc.actions import require_level

    player = await make_player(balance="100.00 EUR")
    async with rt.database.transaction() as db:
        await require_level(db, player.uuid, "source_of_funds", "aml.structuring")

    mine = await my_kyc(gql, player)
    assert (mine["requiredLevel"], mine["reason"]) == ("source_of_funds", {"trigger": "risk_signal"})
    assert "aml" not in str(mine)
    officer = await make_staff("kyc_officer")
    body = await gql(PLAYER_KYC, {"id": player.id}, token=officer.token)
    assert body["data"]["player"]["kyc"]["reason"] == {"trigger": "risk_signal", "signal": "aml.structuring"}


async def test_review_a_kyc_restricted_account_claims_no_bonus(gql: Any, make_player: Any, make_staff: Any) -> None:
    """Restricted pending review (bonus abuse is a common reason): no offer is claimed, as no deposit is made."""
    player = await make_player()
    officer = await make_staff("kyc_officer")
    await decide(gql, officer, RESTRICT % "kycRestrict", player, reason="several accounts, one card")

    body = await gql(CLAIM, {"input": {"code": "NOSUCH"}}, token=player.token)

    [error] = body["data"]["claimBonus"]["errors"]
    assert (error["code"], error["kyc"]["trigger"]) == ("KYC_REQUIRED", "restricted"), body
    await decide(gql, officer, RESTRICT % "kycLiftRestriction", player, reason="one person, one account")
    body = await gql(CLAIM, {"input": {"code": "NOSUCH"}}, token=player.token)
    assert [e["code"] for e in body["data"]["claimBonus"]["errors"]] == ["BONUS_CODE_INVALID"], body


async def test_review_a_player_is_not_told_that_staff_marked_them_high_risk(
    gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    officer = await make_staff("kyc_officer")
    await decide(gql, officer, HIGH_RISK, player, highRisk=True, reason="PEP relative")

    body = await gql("{ me { kyc { level highRisk } } }", token=player.token)

    assert body["data"]["me"]["kyc"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["me", "kyc", "highRisk"], "FORBIDDEN")]
    assert (await my_kyc(gql, player))["level"] == "registered"  # the rest of their verification they read
    staff = await gql(PLAYER_KYC, {"id": player.id}, token=officer.token)
    assert staff["data"]["player"]["kyc"]["highRisk"] is True
