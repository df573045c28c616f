"""Manual adjustments through GraphQL: reason, four eyes above the threshold, audit, ledger."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from sqlalchemy import select

from models.audit import AuditRecord
from services import ledger
from tests.conftest import error_codes

REQUEST = """
mutation($input: RequestAdjustmentInput!) { requestAdjustment(input: $input) {
  adjustment { id status amount { amount currency } reason transactionId requestedBy approvedBy }
  errors { code field message } } }"""
DECIDE = """
mutation($input: DecideAdjustmentInput!) { decideAdjustment(input: $input) {
  adjustment { id status approvedBy transactionId } errors { code field message } } }"""
CASH = "query($id: ID!) { player(id: $id) { wallet { cash { amount } } } }"


def request_input(
    player: Any, amount: str, *, direction: str = "CREDIT", reason: str = "goodwill", key: str | None = None
) -> dict[str, Any]:
    return {
        "input": {
            "playerId": player.id,
            "amount": amount,
            "currency": "EUR",
            "direction": direction,
            "reason": reason,
            "idempotencyKey": key or uuid.uuid4().hex,
        }
    }


async def cash(gql: Any, token: str, player: Any) -> str:
    body = await gql(CASH, {"id": player.id}, token=token)
    return body["data"]["player"]["wallet"][0]["cash"]["amount"]


async def assert_ledger_clean(rt: Any) -> None:
    async with rt.database.session() as db:
        result = await ledger.verify(db)
    assert result.ok, result.discrepancies


async def test_a_small_adjustment_applies_at_once_and_is_audited(gql, rt, make_player, make_staff) -> None:
    player = await make_player()
    finance = await make_staff("finance")
    body = await gql(REQUEST, request_input(player, "25.00", reason="compensation for outage"), token=finance.token)
    adjustment = body["data"]["requestAdjustment"]["adjustment"]
    assert body["data"]["requestAdjustment"]["errors"] == []
    assert (adjustment["status"], adjustment["amount"]) == ("APPLIED", {"amount": "25.00", "currency": "EUR"})
    assert adjustment["transactionId"]
    assert await cash(gql, finance.token, player) == "25.00"
    async with rt.database.session() as db:
        record = await db.scalar(select(AuditRecord).where(AuditRecord.action == "adjustment.requested"))
    assert record is not None
    assert (record.actor_id, record.reason, record.after["amount"]) == (finance.id, "compensation for outage", "25.00")
    await assert_ledger_clean(rt)


async def test_a_large_adjustment_needs_a_second_approver(gql, rt, make_player, make_staff) -> None:
    player = await make_player()
    first = await make_staff("finance")
    second = await make_staff("finance")
    body = await gql(REQUEST, request_input(player, "750.00"), token=first.token)
    adjustment = body["data"]["requestAdjustment"]["adjustment"]
    assert adjustment["status"] == "PENDING_APPROVAL"
    assert adjustment["transactionId"] is None
    assert await cash(gql, first.token, player) == "0.00"

    own = await gql(DECIDE, {"input": {"adjustmentId": adjustment["id"], "approve": True}}, token=first.token)
    assert [e["code"] for e in own["data"]["decideAdjustment"]["errors"]] == ["NOT_ALLOWED"]
    approved = await gql(
        DECIDE, {"input": {"adjustmentId": adjustment["id"], "approve": True, "reason": "ok"}}, token=second.token
    )
    decided = approved["data"]["decideAdjustment"]["adjustment"]
    assert decided["status"] == "APPLIED"
    assert decided["transactionId"]
    assert await cash(gql, first.token, player) == "750.00"
    again = await gql(DECIDE, {"input": {"adjustmentId": adjustment["id"], "approve": True}}, token=second.token)
    assert [e["code"] for e in again["data"]["decideAdjustment"]["errors"]] == ["INVALID_STATE"]
    queue = await gql("{ adjustments(status: PENDING_APPROVAL) { edges { node { id } } } }", token=first.token)
    assert queue["data"]["adjustments"]["edges"] == []
    await assert_ledger_clean(rt)


async def test_a_rejected_adjustment_moves_nothing(gql, rt, make_player, make_staff) -> None:
    player = await make_player()
    first, second = await make_staff("finance"), await make_staff("brand_admin")
    body = await gql(REQUEST, request_input(player, "900.00"), token=first.token)
    adjustment_id = body["data"]["requestAdjustment"]["adjustment"]["id"]
    queue = await gql("{ adjustments(status: PENDING_APPROVAL) { edges { node { id } } } }", token=second.token)
    assert [e["node"]["id"] for e in queue["data"]["adjustments"]["edges"]] == [adjustment_id]
    rejected = await gql(
        DECIDE, {"input": {"adjustmentId": adjustment_id, "approve": False, "reason": "no"}}, token=second.token
    )
    assert rejected["data"]["decideAdjustment"]["adjustment"]["status"] == "REJECTED"
    assert await cash(gql, first.token, player) == "0.00"


async def test_a_debit_beyond_the_balance_is_refused_and_recorded(gql, rt, make_player, make_staff) -> None:
    player = await make_player()
    finance = await make_staff("finance")
    await gql(REQUEST, request_input(player, "10.00"), token=finance.token)
    body = await gql(REQUEST, request_input(player, "10.01", direction="DEBIT"), token=finance.token)
    payload = body["data"]["requestAdjustment"]
    assert [e["code"] for e in payload["errors"]] == ["INSUFFICIENT_FUNDS"]
    assert await cash(gql, finance.token, player) == "10.00"
    queue = await gql("{ adjustments { edges { node { status amount { amount } } } } }", token=finance.token)
    assert next(e["node"] for e in queue["data"]["adjustments"]["edges"]) == {
        "status": "REFUSED",
        "amount": {"amount": "-10.01"},
    }
    await assert_ledger_clean(rt)


async def test_a_retried_request_applies_once_even_when_retries_race(gql, rt, make_player, make_staff) -> None:
    player = await make_player()
    finance = await make_staff("finance")
    payload = request_input(player, "40.00", key="retry-key-1")
    bodies = await asyncio.gather(*(gql(REQUEST, payload, token=finance.token) for _ in range(8)))
    assert all(b["data"]["requestAdjustment"]["errors"] == [] for b in bodies)  # every retry gets the result
    assert len({b["data"]["requestAdjustment"]["adjustment"]["id"] for b in bodies}) == 1
    assert await cash(gql, finance.token, player) == "40.00"
    other = await gql(REQUEST, request_input(player, "41.00", key="retry-key-1"), token=finance.token)
    assert [e["code"] for e in other["data"]["requestAdjustment"]["errors"]] == ["IDEMPOTENCY_CONFLICT"]
    await assert_ledger_clean(rt)


async def test_bad_input_is_refused_with_the_field(gql, make_player, make_staff) -> None:
    player = await make_player()
    finance = await make_staff("finance")
    for amount, currency, reason, code, field in (
        ("1.234", "EUR", "x", "INVALID_AMOUNT", "amount"),
        ("-5", "EUR", "x", "INVALID_AMOUNT", "amount"),
        ("5", "XYZ", "x", "UNKNOWN_CURRENCY", "currency"),
        ("5", "EUR", "  ", "INVALID_INPUT", "reason"),
    ):
        body = await gql(
            REQUEST,
            {"input": {**request_input(player, amount, reason=reason)["input"], "currency": currency}},
            token=finance.token,
        )
        assert [(e["code"], e["field"]) for e in body["data"]["requestAdjustment"]["errors"]] == [(code, field)]
    assert await cash(gql, finance.token, player) == "0.00"


async def test_only_money_roles_may_adjust(gql, make_player, make_staff) -> None:
    player = await make_player()
    for role in ("support", "marketing", "kyc_officer"):
        staff = await make_staff(role)
        body = await gql(REQUEST, request_input(player, "5.00"), token=staff.token)
        assert error_codes(body) == ["FORBIDDEN"], role
    body = await gql(REQUEST, request_input(player, "5.00"), token=player.token)
    assert error_codes(body) == ["FORBIDDEN"]
