"""The hot path's statements run prepared on the session's own connection (core/prepared.py): they are seen by
the engine's statement listeners, they take part in the session's transaction, and the ledger's lock of one
account is planned once, not on every execution (the array form was: ~0.15 ms of PostgreSQL's CPU a bet)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from core import prepared
from services import ledger, wallet
from tests.conftest import fund, recorded_statements


async def test_a_prepared_statement_is_seen_and_runs_in_the_sessions_transaction(rt: Any, make_player: Any) -> None:
    player = await make_player()
    await fund(rt, player.uuid, 500)
    async with rt.database.session() as db:
        brand_id = (await wallet._player(db, player.uuid)).brand_id
        cash = (await wallet.player_accounts(db, player.uuid, brand_id, "EUR")).cash
    with recorded_statements(rt) as statements:
        async with rt.database.transaction() as db:
            first = await prepared.rows(db, ledger._LOCK_TRACKED_ONE, {"id": cash})  # begins the transaction
            again = await prepared.rows(db, ledger._LOCK_TRACKED_ONE, {"id": cash})  # on the driver, in it
            pid = (await db.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            async with rt.database.session() as other:  # the lock is held by this transaction
                holds_xid = (
                    await other.execute(
                        text("SELECT count(*) FROM pg_locks WHERE pid = :pid AND locktype = 'transactionid'"),
                        {"pid": pid},
                    )
                ).scalar_one()
    assert [r.balance for r in first] == [r.balance for r in again] == [500]
    assert sum("the ledger's re-lock" in s for s in statements) == 2
    assert holds_xid == 1  # FOR UPDATE inside the transaction: it took a transaction id


async def test_the_ledgers_lock_of_one_account_is_planned_once(rt: Any, make_player: Any) -> None:
    player = await make_player()
    await fund(rt, player.uuid, 500)
    async with rt.database.transaction() as db:
        brand_id = (await wallet._player(db, player.uuid)).brand_id
        cash = (await wallet.player_accounts(db, player.uuid, brand_id, "EUR")).cash
        for _ in range(12):
            await prepared.rows(db, ledger._LOCK_TRACKED_ONE, {"id": cash})
        plans = (
            await db.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%the ledger''s re-lock%' AND statement LIKE '%WHERE id = $1%' "
                    "ORDER BY generic_plans + custom_plans DESC LIMIT 1"  # (the session prepared it too, once)
                )
            )
        ).one()
    assert plans.custom_plans <= 5 < plans.generic_plans + plans.custom_plans


async def test_a_prepared_write_inside_a_savepoint_rolled_back_is_undone_with_it(rt: Any, make_player: Any) -> None:
    """A savepoint is sent with the session's next use of its connection: a prepared statement after
    begin_nested() must ask for it (and so write inside the savepoint), not reuse the connection it had."""
    player = await make_player()
    await fund(rt, player.uuid, 500)
    bump = prepared.Statement("UPDATE players SET first_name = :name WHERE id = :id")
    async with rt.database.transaction() as db:
        await prepared.rows(db, bump, {"name": "Outer", "id": player.uuid})  # the session begins
        await prepared.rows(db, bump, {"name": "Outer", "id": player.uuid})  # on the driver it holds
        try:
            async with db.begin_nested():
                await prepared.rows(db, bump, {"name": "Inner", "id": player.uuid})
                raise RuntimeError("undo the savepoint")
        except RuntimeError:
            pass
    async with rt.database.session() as db:
        name = (await db.execute(text("SELECT first_name FROM players WHERE id = :id"), {"id": player.uuid})).scalar()
    assert name == "Outer"
