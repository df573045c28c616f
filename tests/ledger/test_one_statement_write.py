"""The ledger writes a committed transaction in one statement (services/ledger.py `_WRITE_COMMITTED`): the
transaction row, its postings, the balances and the outbox events, each step writing only if the transaction
row went in. A key used before — also by a racing transaction the statement waited for — writes nothing, so a
caller that catches the conflict and commits leaves no posting, no balance change and no event behind."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from services import ledger, wallet
from services.wallet import Actor

SYSTEM = Actor("system")


async def _credit(db: Any, player_id: uuid.UUID, amount: int, payment: uuid.UUID) -> ledger.Result:
    return await wallet.credit_deposit(
        db, player_id=player_id, currency="EUR", amount=amount, psp="demo", payment_id=payment, actor=SYSTEM
    )


async def _traces(rt: Any, player_id: uuid.UUID) -> tuple[int, int, int]:
    """The player's cash, postings on their accounts and ledger events about them."""
    async with rt.database.session() as db:
        row = (
            await db.execute(
                text("""
                SELECT (SELECT coalesce(sum(balance), 0) FROM ledger_accounts
                         WHERE owner_type = 'player' AND owner_id = :p AND purpose = 'cash') AS cash,
                       (SELECT count(*) FROM ledger_postings lp JOIN ledger_accounts a ON a.id = lp.account_id
                         WHERE a.owner_type = 'player' AND a.owner_id = :p) AS postings,
                       (SELECT count(*) FROM outbox_events
                         WHERE key = 'player:' || :p AND topic LIKE 'ledger.%') AS events"""),
                {"p": str(player_id)},
            )
        ).one()
    return int(row.cash), int(row.postings), int(row.events)


async def test_a_key_used_before_writes_nothing_even_when_the_caller_commits(rt: Any, make_player: Any) -> None:
    first, other = await make_player(), await make_player()
    payment = uuid.uuid4()
    async with rt.database.transaction() as db:
        await _credit(db, first.uuid, 10_00, payment)
    async with rt.database.transaction() as db:
        with pytest.raises(ledger.IdempotencyConflict):
            await _credit(db, other.uuid, 25_00, payment)  # caught: the transaction commits
    assert await _traces(rt, first.uuid) == (10_00, 1, 1)
    assert await _traces(rt, other.uuid) == (0, 0, 0)


async def test_a_key_taken_by_a_racing_transaction_writes_nothing_once_it_commits(rt: Any, make_player: Any) -> None:
    """The second statement waits on the unique key held by the first (uncommitted) transaction, on another
    player's accounts so no row lock orders them; when the first commits, the second's transaction row is
    skipped (ON CONFLICT DO NOTHING) and with it the postings, the balance update and the events."""
    first, other = await make_player(), await make_player()
    payment = uuid.uuid4()
    written, release = asyncio.Event(), asyncio.Event()

    async def holder() -> ledger.Result:
        async with rt.database.transaction() as db:
            result = await _credit(db, first.uuid, 10_00, payment)
            written.set()
            await release.wait()
        return result

    async def racer() -> str:
        await written.wait()
        async with rt.database.transaction() as db:
            try:
                await _credit(db, other.uuid, 25_00, payment)
            except ledger.IdempotencyConflict:
                return "conflict"
        return "written"

    held = asyncio.create_task(holder())
    raced = asyncio.create_task(racer())
    await written.wait()
    await asyncio.sleep(0.5)
    assert not raced.done()  # waiting on the first transaction's key
    release.set()
    assert (await held).committed
    assert await raced == "conflict"
    assert await _traces(rt, first.uuid) == (10_00, 1, 1)
    assert await _traces(rt, other.uuid) == (0, 0, 0)
