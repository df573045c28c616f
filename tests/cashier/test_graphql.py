"""The cashier through GraphQL: player mutations, the staff queue and detail, errors, permissions."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cashier.conftest import DECLINED_CARD, THREE_DS_CARD, DemoPsp, assert_ledger_ok
from tests.conftest import error_codes, recorded_statements

DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) {
    payment { id kind status amount { amount currency } method psp redirectUrl failureCode }
    errors { code field message }
  }
}"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) {
    payment { id status amount { amount currency } awaitingSecondApproval }
    errors { code field message }
  }
}"""
APPROVE = """
mutation($input: ApproveWithdrawalInput!) {
  approveWithdrawal(input: $input) {
    payment { id status approvedBy firstApprovedBy } awaitingSecondApproval errors { code field message }
  }
}"""
REJECT = """
mutation($input: RejectWithdrawalInput!) {
  rejectWithdrawal(input: $input) { payment { id status decisionReason } errors { code field message } }
}"""
QUEUE = """
{ payments(filter: {kind: WITHDRAWAL, status: REQUESTED}) {
    edges { node { id status amount { amount currency } playerId } } } }"""
DETAIL = """
query($id: ID!) { payment(id: $id) {
  id status psp attempts { seq psp operation outcome pspReference request response error } } }"""


async def gql_deposit(gql: Any, player: Any, **input: Any) -> dict[str, Any]:
    body = await gql(DEPOSIT, {"input": {"currency": "EUR", "method": "CARD", **input}}, token=player.token)
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["deposit"]
    return payload


async def test_player_deposits_and_sees_their_payments(gql: Any, rt: Any, psp: DemoPsp, make_player: Any) -> None:
    player = await make_player()
    done = await gql_deposit(gql, player, amount="30.00", pspToken=await psp.tokenise())
    assert done["errors"] == []
    assert done["payment"]["status"] == "SUCCEEDED"
    assert done["payment"]["amount"] == {"amount": "30.00", "currency": "EUR"}

    pending = await gql_deposit(gql, player, amount="12.00", pspToken=await psp.tokenise(THREE_DS_CARD))
    assert pending["payment"]["status"] == "PENDING"
    assert "/3ds/" in pending["payment"]["redirectUrl"]

    mine = await gql("{ me { payments { edges { node { id status } } } } }", token=player.token)
    assert [e["node"]["status"] for e in mine["data"]["me"]["payments"]["edges"]] == ["PENDING", "SUCCEEDED"]
    # The PSP's answers are for staff.
    detail = await gql(DETAIL, {"id": done["payment"]["id"]}, token=player.token)
    assert "FORBIDDEN" in error_codes(detail)
    await assert_ledger_ok(rt)


async def test_declined_deposit_returns_the_payment_and_the_error(gql: Any, psp: DemoPsp, make_player: Any) -> None:
    player = await make_player()
    declined = await gql_deposit(gql, player, amount="30.00", pspToken=await psp.tokenise(DECLINED_CARD))
    assert declined["payment"]["status"] == "FAILED"
    assert [e["code"] for e in declined["errors"]] == ["PAYMENT_DECLINED"]


@pytest.mark.parametrize(
    ("input", "code", "field"),
    [
        ({"amount": "10.001"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "-5"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "0"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "1e3"}, "INVALID_AMOUNT", "amount"),
        ({"amount": "10.00", "currency": "XXX"}, "UNKNOWN_CURRENCY", "currency"),
        ({"amount": "1000", "currency": "JPY"}, "CURRENCY_NOT_ALLOWED", "currency"),
        ({"amount": "10.00", "pspToken": "4111 1111 1111 1111"}, "INVALID_INPUT", "pspToken"),
        ({"amount": "10.00", "pspToken": None}, "INVALID_INPUT", "pspToken"),
    ],
)
async def test_bad_deposit_input_gets_structured_errors(
    gql: Any, psp: DemoPsp, make_player: Any, input: dict[str, Any], code: str, field: str
) -> None:
    player = await make_player()
    sent = {"pspToken": await psp.tokenise(), **input}
    payload = await gql_deposit(gql, player, **sent)
    assert payload["payment"] is None
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [(code, field)]
    assert await psp.transactions() == []


async def test_anonymous_and_staff_cannot_deposit(gql: Any, make_staff: Any) -> None:
    variables = {"input": {"amount": "1.00", "currency": "EUR", "method": "CARD", "pspToken": "tok_abcdef"}}
    anonymous = await gql(DEPOSIT, variables)
    assert error_codes(anonymous) in (["FORBIDDEN"], ["UNAUTHENTICATED"])
    finance = await make_staff("finance")
    staff = await gql(DEPOSIT, variables, token=finance.token)
    assert error_codes(staff) == ["FORBIDDEN"]


async def test_finance_works_the_withdrawal_queue_with_four_eyes(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(balance="3000.00 EUR")
    small = await gql(
        WITHDRAW, {"input": {"amount": "20.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
    )
    assert small["data"]["requestWithdrawal"]["payment"]["status"] == "PAID"
    big = await gql(
        WITHDRAW, {"input": {"amount": "2500.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
    )
    payment_id = big["data"]["requestWithdrawal"]["payment"]["id"]
    assert big["data"]["requestWithdrawal"]["payment"]["status"] == "REQUESTED"

    first, second, support = await make_staff("finance"), await make_staff("finance"), await make_staff("support")
    queue = await gql(QUEUE, token=first.token)
    assert [e["node"]["id"] for e in queue["data"]["payments"]["edges"]] == [payment_id]
    assert queue["data"]["payments"]["edges"][0]["node"]["playerId"] == player.id

    denied = await gql(APPROVE, {"input": {"paymentId": payment_id}}, token=support.token)
    assert error_codes(denied) == ["FORBIDDEN"]
    one = await gql(APPROVE, {"input": {"paymentId": payment_id, "reason": "docs ok"}}, token=first.token)
    assert one["data"]["approveWithdrawal"]["awaitingSecondApproval"] is True
    again = await gql(APPROVE, {"input": {"paymentId": payment_id}}, token=first.token)
    assert [e["code"] for e in again["data"]["approveWithdrawal"]["errors"]] == ["APPROVAL_REQUIRED"]
    two = await gql(APPROVE, {"input": {"paymentId": payment_id}}, token=second.token)
    assert two["data"]["approveWithdrawal"]["payment"]["status"] == "PAID"
    assert (
        two["data"]["approveWithdrawal"]["payment"]["approvedBy"]
        != two["data"]["approveWithdrawal"]["payment"]["firstApprovedBy"]
    )

    detail = await gql(DETAIL, {"id": payment_id}, token=support.token)  # support reads the detail
    [attempt] = detail["data"]["payment"]["attempts"]
    assert (attempt["psp"], attempt["operation"], attempt["outcome"]) == ("bankwire", "payout", "SUCCEEDED")
    assert attempt["response"]["answer"]["result"] == "ok"  # the PSP's own answer, kept
    await assert_ledger_ok(rt)


async def test_reject_through_graphql_needs_a_reason_and_voids(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(balance="500.00 EUR")
    body = await gql(
        WITHDRAW, {"input": {"amount": "400.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
    )
    payment_id = body["data"]["requestWithdrawal"]["payment"]["id"]
    finance = await make_staff("finance")
    blank = await gql(REJECT, {"input": {"paymentId": payment_id, "reason": ""}}, token=finance.token)
    assert [e["field"] for e in blank["data"]["rejectWithdrawal"]["errors"]] == ["reason"]
    done = await gql(REJECT, {"input": {"paymentId": payment_id, "reason": "source of funds"}}, token=finance.token)
    assert done["data"]["rejectWithdrawal"]["payment"]["status"] == "REJECTED"
    wrong_type = await gql(REJECT, {"input": {"paymentId": player.id, "reason": "x"}}, token=finance.token)
    assert error_codes(wrong_type) == ["BAD_USER_INPUT"]
    await assert_ledger_ok(rt)


async def test_withdrawing_more_than_the_balance_is_refused(gql: Any, rt: Any, psp: DemoPsp, make_player: Any) -> None:
    player = await make_player(balance="10.00 EUR")
    body = await gql(
        WITHDRAW, {"input": {"amount": "10.01", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
    )
    assert [e["code"] for e in body["data"]["requestWithdrawal"]["errors"]] == ["INSUFFICIENT_FUNDS"]
    await assert_ledger_ok(rt)


async def test_players_cannot_see_each_others_payments(gql: Any, psp: DemoPsp, make_player: Any) -> None:
    alice, bob = await make_player(), await make_player()
    done = await gql_deposit(gql, alice, amount="5.00", pspToken=await psp.tokenise())
    payment_id = done["payment"]["id"]
    by_id = await gql("query($id: ID!) { payment(id: $id) { id } }", {"id": payment_id}, token=bob.token)
    assert by_id["data"]["payment"] is None or "FORBIDDEN" in error_codes(by_id)
    as_node = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": payment_id}, token=bob.token)
    assert as_node["data"]["node"] is None
    own = await gql(
        "query($id: ID!) { node(id: $id) { ... on Payment { status } } }", {"id": payment_id}, token=alice.token
    )
    assert own["data"]["node"] == {"status": "SUCCEEDED"}


async def test_payment_list_with_attempts_needs_the_same_queries_for_any_page_size(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    finance = await make_staff("finance")
    query = "{ payments(first: 20) { edges { node { id status attempts { psp outcome } } } } }"

    async def queries_for_list() -> int:
        with recorded_statements(rt) as statements:
            body = await gql(query, token=finance.token)
        assert "errors" not in body, body
        return len([s for s in statements if "payment" in s.lower()])

    await gql_deposit(gql, player, amount="1.00", pspToken=await psp.tokenise())
    one = await queries_for_list()
    for _ in range(4):
        await gql_deposit(gql, player, amount="1.00", pspToken=await psp.tokenise())
    assert await queries_for_list() == one == 2  # the page, then one batch of attempts


async def test_every_cent_of_a_payment_is_traceable_to_its_postings(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    """From a payment to the ledger transactions that moved its money, posting by posting; the player
    sees their own side only."""
    player = await make_player()
    done = await gql_deposit(gql, player, amount="80.00", pspToken=await psp.tokenise())
    finance = await make_staff("finance")
    trace = """query($id: ID!) { payment(id: $id) { ledgerTransactions { kind
        changes { account amount { amount } balanceAfter { amount } }
        postings { account { ownerType purpose } amount { amount currency } balanceAfter { amount } } } } }"""
    body = await gql(trace, {"id": done["payment"]["id"]}, token=finance.token)
    [transaction] = body["data"]["payment"]["ledgerTransactions"]
    assert transaction["kind"] == "deposit"
    assert transaction["changes"] == [
        {"account": "cash", "amount": {"amount": "80.00"}, "balanceAfter": {"amount": "80.00"}}
    ]
    postings = transaction["postings"]
    assert sorted((p["account"]["ownerType"], p["account"]["purpose"], p["amount"]["amount"]) for p in postings) == [
        ("player", "cash", "80.00"),
        ("psp", "psp_clearing", "-80.00"),
    ]
    own = await gql(
        """{ me { payments { edges { node { ledgerTransactions { kind postings { amount { amount } } }
        } } } } }""",
        token=player.token,
    )
    [edge] = own["data"]["me"]["payments"]["edges"]
    assert edge["node"]["ledgerTransactions"] == [{"kind": "deposit", "postings": None}]
    assert set(error_codes(own)) == {"FORBIDDEN"}
