"""Reading money movements (services/wallet_reads.py): a filtered history fills its pages, and the
ledger transactions of a page of payments, with their postings, load in a fixed number of queries."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import recorded_statements

HISTORY = """
query($id: ID!, $currency: String, $first: Int, $after: String) {
  player(id: $id) { transactions(filter: {currency: $currency}, first: $first, after: $after) {
    edges { node { kind changes { account amount { amount currency } } } }
    pageInfo { hasNextPage endCursor } } } }"""
PAYMENTS = """
query($first: Int) { payments(first: $first) { edges { node { id
  ledgerTransactions { kind changes { account amount { amount } } postings { account { purpose } amount { amount } } }
} } } }"""
WITHDRAW = """mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { status } errors { code message } } }"""


async def adjust(rt: Any, player_id: uuid.UUID, amount: int, currency: str = "EUR") -> None:
    from services import wallet

    async with rt.database.transaction() as db:
        await wallet.adjust(
            db,
            player_id=player_id,
            currency=currency,
            amount=amount,
            adjustment_id=uuid.uuid4(),
            actor=wallet.Actor("system"),
            reason="test funding",
        )


async def test_a_history_filtered_by_currency_fills_every_page(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """The currency is a condition of the query, not a filter over a page already cut: three SEK
    movements between EUR ones come back as one page of three."""
    player = await make_player()
    for n in range(6):
        await adjust(rt, player.uuid, 1_00 + n, "SEK" if n % 2 else "EUR")
    support = await make_staff("support")
    body = await gql(HISTORY, {"id": player.id, "currency": "sek", "first": 2}, token=support.token)
    history = body["data"]["player"]["transactions"]
    assert [e["node"]["changes"] for e in history["edges"]] == [
        [{"account": "cash", "amount": {"amount": "1.05", "currency": "SEK"}}],
        [{"account": "cash", "amount": {"amount": "1.03", "currency": "SEK"}}],
    ]
    assert history["pageInfo"]["hasNextPage"] is True
    rest = await gql(
        HISTORY,
        {"id": player.id, "currency": "SEK", "first": 2, "after": history["pageInfo"]["endCursor"]},
        token=support.token,
    )
    page = rest["data"]["player"]["transactions"]
    assert [e["node"]["changes"][0]["amount"]["amount"] for e in page["edges"]] == ["1.01"]
    assert page["pageInfo"]["hasNextPage"] is False


async def test_payments_load_their_ledger_transactions_and_postings_in_a_fixed_number_of_queries(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    finance = await make_staff("finance")

    async def withdrawals(times: int) -> None:
        for _ in range(times):  # each from another player, held and waiting for approval
            player = await make_player()
            await adjust(rt, player.uuid, 150_00)
            ask = {"amount": "150.00", "currency": "EUR", "method": "BANK_TRANSFER", "idempotencyKey": uuid.uuid4().hex}
            body = await gql(WITHDRAW, {"input": ask}, token=player.token)
            assert body["data"]["requestWithdrawal"]["payment"]["status"] == "REQUESTED", body

    async def statements(size: int) -> int:
        await gql(PAYMENTS, {"first": size}, token=finance.token)  # caches warmed
        with recorded_statements(rt) as seen:
            body = await gql(PAYMENTS, {"first": size}, token=finance.token)
        assert "errors" not in body, body
        edges = body["data"]["payments"]["edges"]
        assert len(edges) == size
        for edge in edges:  # the hold, both sides of it, as finance sees it
            [hold] = edge["node"]["ledgerTransactions"]
            assert hold["kind"] == "withdrawal_hold"
            assert sorted(c["account"] for c in hold["changes"]) == ["cash", "withdrawal_pending"]
            assert sorted(p["amount"]["amount"] for p in hold["postings"]) == ["-150.00", "150.00"]
        return len(seen)

    await withdrawals(1)
    one = await statements(1)
    await withdrawals(9)
    assert await statements(10) == one
