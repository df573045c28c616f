"""Stored balances (`ledger_verify_balances`) that no longer describe the newest checkpoint are never read:
those a run wrote with a checkpoint that is gone since (the checkpoint row deleted, or the table restored
from before it) make the next incremental run run in full, which rewrites them; the rows of accounts no
longer tracked or no longer there are removed by every full run."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from services import ledger_verify
from tests.ledger.test_ledger import deposit
from tests.ledger.test_ledger import run_ledger_verify as run_verify
from tests.ledger.test_verify_balances import as_intruder, cash_account, disagreeing, stored


@pytest.mark.tampers
async def test_balances_of_a_removed_checkpoint_make_the_next_run_a_full_one(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    await deposit(rt, player.uuid, 1_00)
    moved = await ledger_verify.verify_books(rt.database, full=False)
    assert moved.mode == "incremental"
    assert moved.checkpoint_written
    account = await cash_account(rt, player)
    assert (await stored(rt))[account][0] == 11_00  # at the incremental run's checkpoint

    # That checkpoint abandoned: the newest is the full run's again, but the row says 11.00, written after it.
    await as_intruder(
        rt, "DELETE FROM ledger_verify_checkpoints WHERE id = (SELECT max(id) FROM ledger_verify_checkpoints)"
    )
    await deposit(rt, player.uuid, 2_00)
    result = await ledger_verify.verify_books(rt.database, full=False)
    assert result.ok, result.discrepancies  # read as the full run's balance, the 11.00 would break the chain
    assert result.mode == "full"
    assert "written by a run after checkpoint" in result.note
    assert result.checkpoint_written
    assert await disagreeing(rt) == []

    await deposit(rt, player.uuid, 3_00)
    again = run_verify("--incremental")
    assert again.returncode == 0, again.stdout + again.stderr
    assert "incremental from posting" in again.stdout
    assert await disagreeing(rt) == []


@pytest.mark.tampers
async def test_a_full_run_removes_the_rows_of_accounts_not_tracked_or_gone(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    async with rt.database.session() as db:
        untracked = str(
            (await db.execute(text("SELECT id FROM ledger_accounts WHERE balance IS NULL LIMIT 1"))).scalar_one()
        )
    gone = str(uuid.uuid4())
    for account in (untracked, gone):
        await as_intruder(
            rt,
            "INSERT INTO ledger_verify_balances (account_id, balance, checkpoint_id) VALUES (:a, 7, 1)",
            a=account,
        )
    assert {untracked, gone} <= set(await stored(rt))

    full = run_verify()
    assert full.returncode == 0, full.stdout + full.stderr
    rows = await stored(rt)
    assert untracked not in rows
    assert gone not in rows
    assert await cash_account(rt, player) in rows
    assert await disagreeing(rt) == []
