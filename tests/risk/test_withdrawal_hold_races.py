"""A hold on withdrawals imposed while a withdrawal is decided (issue 17's first gap): the risk desk's (or a
rule's) `hold_withdrawals` and the withdrawal's decision take turns on the player's withdrawals
(services/risk/actions.py `take_turn`). Either the decision sees the hold, or the hold, committed
after the approval, catches the withdrawal at its payout step (services/cashier/payout_checks.py).

The interleaving is forced with real connections: the test holds the audit chain's advisory lock, so the
desk's imposition stops after inserting its hold, uncommitted, and the withdrawal runs against it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from sqlalchemy import update

from models.payments import Payment
from services import cashier
from services.audit import _LOCK_KEY
from tests.cashier.conftest import balances
from tests.conftest import DATABASE_URL, fund
from tests.kyc.conftest import payment_status
from tests.risk.desk import IMPOSE
from tests.risk.inline_support import WITHDRAW, desk_fixture, payment_uuid  # noqa: F401  (fixture)


async def _advisory_waiters(conn: asyncpg.Connection) -> int:
    found: int = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return found


async def _until(predicate: Any, seconds: float = 5.0) -> bool:
    for _ in range(int(seconds / 0.02)):
        if await predicate():
            return True
        await asyncio.sleep(0.02)
    return False


@asynccontextmanager
async def _audit_chain_held() -> AsyncIterator[asyncpg.Connection]:
    """Another transaction holds the audit chain's lock: whoever audits waits (after its other writes)."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        tx = conn.transaction()
        await tx.start()
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _LOCK_KEY)
        try:
            yield conn
        finally:
            await tx.rollback()
    finally:
        await conn.close()


async def _impose_hold(gql: Any, desk: str, player: Any) -> dict[str, Any]:
    given = {"playerId": player.id, "kind": "HOLD_WITHDRAWALS", "reason": "test: racing the withdrawal"}
    body = await gql(IMPOSE, {"input": given}, token=desk)
    payload: dict[str, Any] = body["data"]["imposeRiskAction"]
    assert payload["errors"] == [], payload
    return payload


async def test_a_hold_being_imposed_is_seen_by_a_withdrawal_requested_meanwhile(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    async with _audit_chain_held() as watcher:
        imposing = asyncio.create_task(_impose_hold(gql, desk, player))
        assert await _until(lambda: _advisory_waiters(watcher))  # the hold is inserted, waiting to commit
        withdrawing = asyncio.create_task(
            gql(WITHDRAW, {"input": {"amount": "10.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
        )
        # Before the fix the withdrawal (below the threshold) was approved and paid here, the hold unseen; now it
        # waits for the hold's commit (its risk turn).

        async def settled() -> bool:
            return withdrawing.done() or await _advisory_waiters_at_least(watcher, 2)

        assert await _until(settled)
        assert not withdrawing.done()
    await asyncio.wait_for(imposing, 10)
    body = await asyncio.wait_for(withdrawing, 10)
    payment = body["data"]["requestWithdrawal"]["payment"]
    assert payment["status"] == "REQUESTED", body  # held, never approved
    assert await balances(rt, player.uuid) == (4000, 1000)  # the money stays held
    assert [t for t in await psp.transactions() if t.get("kind") == "payout"] == []


async def _advisory_waiters_at_least(conn: asyncpg.Connection, count: int) -> bool:
    return await _advisory_waiters(conn) >= count


async def test_a_hold_committed_after_the_approval_catches_the_withdrawal_at_its_payout(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "500.00 EUR")
    body = await gql(WITHDRAW, {"input": {"amount": "300.00", "currency": "EUR", "method": "CARD"}}, token=player.token)
    payment_id = payment_uuid(body["data"]["requestWithdrawal"]["payment"]["id"])
    # Approved, and the approver's process died before sending it (reconcile's case: tests/cashier/test_regressions.py).
    async with rt.database.transaction() as db:
        await db.execute(update(Payment).where(Payment.id == payment_id).values(status="approved"))
    async with _audit_chain_held() as watcher:
        imposing = asyncio.create_task(_impose_hold(gql, desk, player))
        assert await _until(lambda: _advisory_waiters(watcher))
        paying = asyncio.create_task(cashier.process_withdrawal(rt, payment_id))

        async def settled() -> bool:
            return paying.done() or await _advisory_waiters_at_least(watcher, 2)

        assert await _until(settled)
    await asyncio.wait_for(imposing, 10)
    await asyncio.wait_for(paying, 10)
    # Before the fix: sent and paid, the hold committed a moment before. Now: held back, its money still held.
    assert await payment_status(rt, payment_id) == "requested"
    assert [t for t in await psp.transactions() if t.get("kind") == "payout"] == []
    assert await balances(rt, player.uuid) == (20000, 30000)
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
    assert found is not None
    assert (found.failure_code, found.approved_by) == ("RISK_HOLD", None)
