"""A case restricts the account: deposits, real-money play and bonus claims are refused with AML_RESTRICTED,
withdrawals wait for finance and for the lift; lifting restores everything."""

from __future__ import annotations

import uuid
from typing import Any

from strawberry import relay

from tests.aml_cases.conftest import CLOSE, OPEN, RESTRICT, Desk
from tests.conftest import fund

DEPOSIT = """mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status } errors { code message } } }"""
WITHDRAW = """mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status } errors { code message } } }"""
APPROVE = """mutation($input: ApproveWithdrawalInput!) {
  approveWithdrawal(input: $input) { payment { status } errors { code } } }"""
CLAIM = "mutation($input: ClaimBonusInput!) { claimBonus(input: $input) { bonus { id } errors { code } } }"
LAUNCH = "mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code } } }"


async def first_error(gql: Any, query: str, token: str, **input: Any) -> str | None:
    body = await gql(query, {"input": input}, token=token)
    assert not body.get("errors"), body
    errors = next(iter(body["data"].values()))["errors"]
    return errors[0]["code"] if errors else None


async def test_a_restricted_player_is_refused_money_in_and_play_until_the_mlro_lifts_it(
    rt: Any, gql: Any, desk: Desk, psp: Any, make_player: Any, make_staff: Any, kyc: Any, mlro: Any
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Sanctions hit", caseType="sanctions"))[
        "case"
    ]["id"]
    restricted = (await desk.ok(RESTRICT, kyc.token, caseId=case_id, restricted=True, reason="possible match"))["case"]
    assert restricted["restricted"] is True
    assert await desk.refused(RESTRICT, kyc.token, caseId=case_id, restricted=True, reason="again") == "INVALID_STATE"

    deposit = {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}
    assert await first_error(gql, DEPOSIT, player.token, **deposit, idempotencyKey="d-1") == "AML_RESTRICTED"
    assert await first_error(gql, CLAIM, player.token, code="NOSUCH") == "AML_RESTRICTED"
    game = str(relay.GlobalID("Game", str(uuid.uuid4())))
    assert await first_error(gql, LAUNCH, player.token, gameId=game, mode="REAL") == "AML_RESTRICTED"
    # A small withdrawal is not approved automatically, and finance cannot approve it while restricted.
    body = await gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    payment = body["data"]["requestWithdrawal"]["payment"]
    assert payment["status"] == "REQUESTED", body
    finance = await make_staff("finance")
    assert await first_error(gql, APPROVE, finance.token, paymentId=payment["id"]) == "AML_RESTRICTED"

    # Only the MLRO lifts it; then the same requests go through.
    assert await desk.refused(RESTRICT, kyc.token, caseId=case_id, restricted=False, reason="ok") == "NOT_ALLOWED"
    lifted = (await desk.ok(RESTRICT, mlro.token, caseId=case_id, restricted=False, reason="false positive"))["case"]
    assert lifted["restricted"] is False
    assert await first_error(gql, DEPOSIT, player.token, **deposit, idempotencyKey="d-2") is None
    assert await first_error(gql, CLAIM, player.token, code="NOSUCH") == "BONUS_CODE_INVALID"
    assert await first_error(gql, LAUNCH, player.token, gameId=game, mode="REAL") == "GAME_NOT_AVAILABLE"


async def test_closing_without_a_report_lifts_the_restriction(
    rt: Any, gql: Any, desk: Desk, make_player: Any, kyc: Any
) -> None:
    from services.aml.restrictions import aml_restriction

    player = await make_player()
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Odd"))["case"]["id"]
    await desk.ok(RESTRICT, kyc.token, caseId=case_id, restricted=True, reason="review")
    async with rt.database.session() as db:
        assert await aml_restriction(db, player.uuid) is not None
    closed = (await desk.ok(CLOSE, kyc.token, caseId=case_id, outcome="NO_ACTION", reason="explained"))["case"]
    assert (closed["state"], closed["restricted"]) == ("CLOSED", False)
    async with rt.database.session() as db:
        assert await aml_restriction(db, player.uuid) is None


async def test_a_small_withdrawal_requested_while_restricted_is_paid_once_the_mlro_lifts_it(
    rt: Any, gql: Any, desk: Desk, psp: Any, make_player: Any, kyc: Any, mlro: Any
) -> None:
    from tests.kyc.conftest import payment_status

    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Odd"))["case"]["id"]
    await desk.ok(RESTRICT, kyc.token, caseId=case_id, restricted=True, reason="review")
    body = await gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    payment_id = uuid.UUID(relay.GlobalID.from_id(body["data"]["requestWithdrawal"]["payment"]["id"]).node_id)
    assert await payment_status(rt, payment_id) == "requested"  # not approved automatically while restricted

    await desk.ok(RESTRICT, mlro.token, caseId=case_id, restricted=False, reason="false positive")
    assert await payment_status(rt, payment_id) == "paid"  # below the threshold: approved and sent, as if new


async def test_a_withdrawal_held_by_a_closed_case_proceeds_when_the_close_lifts_the_restriction(
    rt: Any, gql: Any, desk: Desk, psp: Any, make_player: Any, kyc: Any
) -> None:
    from tests.kyc.conftest import payment_status

    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    case_id = (await desk.ok(OPEN, kyc.token, playerId=player.id, summary="Odd"))["case"]["id"]
    await desk.ok(RESTRICT, kyc.token, caseId=case_id, restricted=True, reason="review")
    body = await gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    payment_id = uuid.UUID(relay.GlobalID.from_id(body["data"]["requestWithdrawal"]["payment"]["id"]).node_id)
    await desk.ok(CLOSE, kyc.token, caseId=case_id, outcome="NO_ACTION", reason="explained")
    assert await payment_status(rt, payment_id) == "paid"
