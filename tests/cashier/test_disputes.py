"""Disputes through GraphQL: the done-when path (a chargeback through the demo PSP leaves the books balanced with
the debt visible), the queue and its statements, staff steps, the role x field matrix, a tampered dispute."""

from __future__ import annotations

import os
from typing import Any

import pytest
from graphql import GraphQLEnumType, GraphQLScalarType, get_named_type
from sqlalchemy import text

from schema.base import to_global_id
from tests import cli_process
from tests.cashier.conftest import DemoPsp, deliver, notice
from tests.conftest import TEST_ENV, assert_reports_match_the_ledger, fund, recorded_statements
from tests.test_authz import ROLES, built_schema, errors_at, role_set, shared_authorizer, staff_holding

WALLET = "{ me { wallet { currency cash { amount } debt { amount } } } }"
QUEUE = """query($filter: DisputeFilter, $first: Int) {
  disputes(filter: $filter, first: $first) { edges { node {
    id state psp chargebackId reasonCode amount { amount currency } cashDebited { amount } debtBooked { amount }
    paymentId note player { id email }
  } } } }"""
ONE = "query($id: ID!) { dispute(id: $id) { id state note evidence } }"
SUBMIT = """mutation($input: SubmitDisputeEvidenceInput!) {
  submitDisputeEvidence(input: $input) { dispute { id state note } errors { code field message } } }"""
LOSE = """mutation($input: CloseDisputeLostInput!) {
  closeDisputeLost(input: $input) { dispute { id state note decidedAt } errors { code field message } } }"""


async def charged_back(rt: Any, psp: DemoPsp, client: Any, make_player: Any, card_deposit: Any, spent: int = 0) -> Any:
    """A player whose 100.00 deposit was charged back after they had spent `spent` of it."""
    player = await make_player()
    payment = await card_deposit(player, "100.00")
    if spent:
        await fund(rt, player, -spent)
    answer = await deliver(client, await notice(psp, payment, rt, "chargeback", reason="fraud"))
    assert answer.json()["result"] == "applied", answer.text
    return player


def run_cli(*args: str) -> Any:
    return cli_process.run(*args, env={**os.environ, **TEST_ENV}, timeout=120)


async def test_a_chargeback_through_the_demo_psp_leaves_the_books_balanced_with_the_debt_visible(
    rt: Any, held: DemoPsp, client: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any, card_deposit: Any
) -> None:
    player = await charged_back(rt, held, client, make_player, card_deposit, spent=8000)

    wallet = (await gql(WALLET, token=player.token))["data"]["me"]["wallet"]
    assert wallet == [{"currency": "EUR", "cash": {"amount": "0.00"}, "debt": {"amount": "80.00"}}]
    risk = await make_staff("risk_analyst")
    [edge] = (await gql(QUEUE, token=risk.token))["data"]["disputes"]["edges"]
    assert edge["node"]["state"] == "OPEN"
    assert (edge["node"]["cashDebited"], edge["node"]["debtBooked"]) == ({"amount": "20.00"}, {"amount": "80.00"})
    assert edge["node"]["player"]["id"] == player.id

    books = run_cli("ledger", "verify")
    assert books.returncode == 0, books.stdout + books.stderr
    await assert_reports_match_the_ledger(rt)  # the reports consumer applies the events, and agrees
    async with rt.database.session() as db:
        row = (await db.execute(text("SELECT deposits, chargebacks, chargeback_count FROM report_cashier_days"))).one()
    assert tuple(row) == (10000, 10000, 1)


async def test_staff_submit_the_evidence_then_close_a_dispute_lost_and_the_debt_stands(
    rt: Any, held: DemoPsp, client: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any, card_deposit: Any
) -> None:
    player = await charged_back(rt, held, client, make_player, card_deposit, spent=10000)
    finance = await make_staff("finance")
    [edge] = (await gql(QUEUE, token=finance.token))["data"]["disputes"]["edges"]
    dispute_id = edge["node"]["id"]

    lost_too_early = await gql(LOSE, {"input": {"disputeId": dispute_id, "reason": " "}}, token=finance.token)
    assert lost_too_early["data"]["closeDisputeLost"]["errors"][0]["field"] == "reason"
    submitted = await gql(SUBMIT, {"input": {"disputeId": dispute_id, "note": "3DS log and IP"}}, token=finance.token)
    assert submitted["data"]["submitDisputeEvidence"]["dispute"]["state"] == "EVIDENCE_SUBMITTED"
    again = await gql(SUBMIT, {"input": {"disputeId": dispute_id, "note": "again"}}, token=finance.token)
    assert again["data"]["submitDisputeEvidence"]["errors"][0]["code"] == "INVALID_STATE"
    lost = await gql(LOSE, {"input": {"disputeId": dispute_id, "reason": "issuer sided"}}, token=finance.token)
    assert lost["data"]["closeDisputeLost"]["dispute"]["state"] == "LOST"

    wallet = (await gql(WALLET, token=player.token))["data"]["me"]["wallet"]
    assert wallet[0]["debt"] == {"amount": "100.00"}
    filtered = await gql(QUEUE, {"filter": {"states": ["OPEN", "EVIDENCE_SUBMITTED"]}}, token=finance.token)
    assert filtered["data"]["disputes"]["edges"] == []


async def test_a_reversal_after_staff_closed_it_lost_still_wins_it(
    rt: Any, held: DemoPsp, client: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any, card_deposit: Any
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "30.00")
    await deliver(client, await notice(held, payment, rt, "chargeback", id="cb_late_win"))
    risk = await make_staff("risk_analyst")
    [edge] = (await gql(QUEUE, token=risk.token))["data"]["disputes"]["edges"]
    await gql(LOSE, {"input": {"disputeId": edge["node"]["id"], "reason": "gave up"}}, token=risk.token)

    await deliver(client, await notice(held, payment, rt, "chargeback_reversed", id="cb_late_win"))

    body = await gql(ONE, {"id": edge["node"]["id"]}, token=risk.token)
    assert body["data"]["dispute"]["state"] == "WON"
    assert (await gql(WALLET, token=player.token))["data"]["me"]["wallet"][0]["cash"] == {"amount": "30.00"}


async def test_the_queue_costs_the_same_statements_whatever_the_page_size(
    rt: Any, held: DemoPsp, client: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any, card_deposit: Any
) -> None:
    for _ in range(4):
        await charged_back(rt, held, client, make_player, card_deposit)
    risk = await make_staff("risk_analyst")
    await gql(QUEUE, {"first": 1}, token=risk.token)  # warm the role set's decisions

    async def statements(size: int) -> int:
        with recorded_statements(rt) as seen:
            body = await gql(QUEUE, {"first": size}, token=risk.token)
        assert not body.get("errors"), body
        assert len(body["data"]["disputes"]["edges"]) == size
        return len(seen)

    assert await statements(1) == await statements(4)


async def test_staff_of_another_brand_see_no_dispute(
    rt: Any,
    held: DemoPsp,
    client: Any,
    gql: Any,
    make_player: Any,
    make_staff: Any,
    brand: Any,
    other_brand: Any,
    card_deposit: Any,
) -> None:
    await charged_back(rt, held, client, make_player, card_deposit)
    elsewhere = await make_staff(("finance", other_brand.code))
    body = await gql(QUEUE, token=elsewhere.token, brand=other_brand.code)
    assert body["data"]["disputes"]["edges"] == []


def dispute_leaf_fields(settings: Any) -> list[str]:
    dispute_type = built_schema(settings)._schema.type_map["Dispute"]
    return [
        name
        for name, field in dispute_type.fields.items()
        if isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
    ]


@pytest.mark.parametrize("role", ROLES)
async def test_dispute_field_matrix_follows_policy(
    role: str,
    settings: Any,
    rt: Any,
    held: DemoPsp,
    client: Any,
    gql: Any,
    make_player: Any,
    make_staff: Any,
    brand: Any,
    card_deposit: Any,
) -> None:
    fields = dispute_leaf_fields(settings)
    assert {"id", "state", "evidence", "chargebackId", "paymentId"} <= set(fields)
    player = await charged_back(rt, held, client, make_player, card_deposit)
    async with rt.database.session() as db:
        row = (await db.execute(text("SELECT id FROM disputes"))).scalar_one()
    dispute_id = str(to_global_id("Dispute", row))
    token = None
    if role == "player":
        token = player.token
    elif role != "anonymous":
        token = (await staff_holding(make_staff, role)).token
    body = await gql(
        "query($id: ID!) { dispute(id: $id) { " + " ".join(fields) + " } }", {"id": dispute_id}, token=token
    )

    authorizer = shared_authorizer(settings)
    roles, brand_code = role_set(role)
    if not any(authorizer.enforce(r, brand_code, "Query.dispute") for r in roles):
        assert body["data"] == {"dispute": None}
        assert errors_at(body, ["dispute"]) == ["UNAUTHENTICATED" if role == "anonymous" else "FORBIDDEN"]
        return
    data = body["data"]["dispute"]
    assert data is not None, body
    for field in fields:
        allowed = any(authorizer.enforce(r, brand_code, f"Dispute.{field}") for r in roles)
        assert errors_at(body, ["dispute", field]) == ([] if allowed else ["FORBIDDEN"]), (role, field)
        nullable = field in ("note", "decidedAt")  # none yet: an open dispute
        assert (data[field] is not None) == allowed or nullable, (role, field)


def test_the_dispute_desk_is_finance_and_risk_and_finance_sees_no_evidence(settings: Any) -> None:
    authorizer = shared_authorizer(settings)

    def granted(role: str, coordinate: str) -> bool:
        roles, brand_code = role_set(role)
        return any(authorizer.enforce(r, brand_code, coordinate) for r in roles)

    assert {r for r in ROLES if granted(r, "Dispute.state")} == {"finance", "risk_analyst", "brand_admin", "superadmin"}
    assert {r for r in ROLES if granted(r, "Mutation.closeDisputeLost")} == {
        "finance",
        "risk_analyst",
        "brand_admin",
        "superadmin",
    }
    assert {r for r in ROLES if granted(r, "Dispute.evidence")} == {"risk_analyst", "brand_admin", "superadmin"}
    assert granted("player", "WalletBalance.debt")


@pytest.mark.tampers
async def test_ledger_verify_finds_a_dispute_that_differs_from_its_chargeback(
    rt: Any, held: DemoPsp, client: Any, make_player: Any, brand: Any, card_deposit: Any
) -> None:
    await charged_back(rt, held, client, make_player, card_deposit, spent=5000)
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE disputes SET debt_booked = debt_booked - 1, cash_debited = cash_debited + 1"))

    found = run_cli("ledger", "verify")

    assert found.returncode == 1
    assert "dispute differs from its ledger transactions" in found.stdout
