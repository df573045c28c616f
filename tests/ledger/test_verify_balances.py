"""The tracked accounts' balances a clean `croupier ledger verify` stores with its checkpoint (migration 0023),
from which an incremental run starts each touched account's running balance: they always agree with the
postings at the newest checkpoint, only a clean run moves them, and an edit of them or of an account's
balance is found."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import text

from services import ledger_verify
from tests.ledger.test_ledger import deposit
from tests.ledger.test_ledger import run_ledger_verify as run_verify

CASH = "SELECT id FROM ledger_accounts WHERE owner_id = :p AND purpose = 'cash'"


async def stored(rt: Any) -> dict[str, tuple[int, int]]:
    async with rt.database.session() as db:
        rows = (await db.execute(text("SELECT account_id, balance, checkpoint_id FROM ledger_verify_balances"))).all()
    return {str(row.account_id): (row.balance, row.checkpoint_id) for row in rows}


async def disagreeing(rt: Any) -> list[tuple[str, int | None, int]]:
    """The tracked accounts whose stored balance is not the sum of their postings up to the newest
    checkpoint's position (computed here from the postings, as the full run would). No row stands for 0:
    an account opened since the last full run without postings up to the checkpoint has none."""
    async with rt.database.session() as db:
        rows = (
            await db.execute(
                text(
                    """WITH c AS (SELECT posting_id FROM ledger_verify_checkpoints ORDER BY id DESC LIMIT 1)
                       SELECT a.id::text, b.balance, coalesce(p.total, 0) AS total
                       FROM ledger_accounts a
                       LEFT JOIN ledger_verify_balances b ON b.account_id = a.id
                       LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings
                                  WHERE id <= (SELECT posting_id FROM c) GROUP BY account_id) p
                              ON p.account_id = a.id
                       WHERE a.balance IS NOT NULL AND coalesce(b.balance, 0) <> coalesce(p.total, 0)"""
                )
            )
        ).all()
    return [(row[0], row[1], int(row[2])) for row in rows]


async def checkpoint_rows(rt: Any) -> list[tuple[int, str, int, bool]]:
    async with rt.database.session() as db:
        rows = (
            await db.execute(text("SELECT id, mode, posting_id, balances FROM ledger_verify_checkpoints ORDER BY id"))
        ).all()
    return [(row.id, row.mode, row.posting_id, row.balances) for row in rows]


async def cash_account(rt: Any, player: Any) -> str:
    async with rt.database.session() as db:
        return str((await db.execute(text(CASH), {"p": str(player.uuid)})).scalar_one())


async def as_intruder(rt: Any, sql: str, **params: Any) -> None:
    """Raw SQL past the triggers, as someone with the database's keys would."""
    async with rt.database.transaction() as db:
        await db.execute(text("SET LOCAL session_replication_role = replica"))
        await db.execute(text(sql), params)


async def test_full_and_incremental_runs_keep_the_stored_balances_at_the_checkpoint(rt, make_player) -> None:
    players = [await make_player(balance="20.00 EUR") for _ in range(3)]
    assert run_verify().returncode == 0
    assert await disagreeing(rt) == []
    first = await stored(rt)
    assert {await cash_account(rt, player) for player in players} <= set(first)

    await deposit(rt, players[0].uuid, 2_00)
    newcomer = await make_player(balance="5.00 EUR")  # an account with no stored balance yet
    incremental = run_verify("--incremental")
    assert incremental.returncode == 0, incremental.stdout + incremental.stderr
    assert "incremental from posting" in incremental.stdout
    assert await disagreeing(rt) == []
    now = await stored(rt)
    newest = (await checkpoint_rows(rt))[-1]
    assert newest[1:] == ("incremental", newest[2], True)
    assert now[await cash_account(rt, players[0])] == (22_00, newest[0])  # moved by this run
    assert now[await cash_account(rt, players[1])] == first[await cash_account(rt, players[1])]  # untouched
    assert now[await cash_account(rt, newcomer)] == (5_00, newest[0])

    quiet = run_verify("--incremental")  # nothing new: a checkpoint at the same place, the balances as they were
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert " 0 postings in " in quiet.stdout
    assert await stored(rt) == now
    assert (await checkpoint_rows(rt))[-1][2] == newest[2]


@pytest.mark.tampers
async def test_an_edited_stored_balance_is_found_and_a_full_run_puts_it_right(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    account = await cash_account(rt, player)
    await as_intruder(rt, "UPDATE ledger_verify_balances SET balance = balance + 7 WHERE account_id = :a", a=account)
    await deposit(rt, player.uuid, 1_00)
    before = await checkpoint_rows(rt)

    found = run_verify("--incremental")
    assert found.returncode == 1, found.stdout + found.stderr
    assert f"account balance differs from the sum of its postings: {account}" in found.stdout
    assert "posting's balance_after breaks the running balance" in found.stdout
    assert await checkpoint_rows(rt) == before  # nothing recorded: the next run starts from the same place

    full = run_verify()  # the ledger itself is sound: the full run reads no stored balance, and re-bases them
    assert full.returncode == 0, full.stdout + full.stderr
    assert await disagreeing(rt) == []
    assert run_verify("--incremental").returncode == 0


@pytest.mark.tampers
async def test_an_inflated_account_balance_is_found_when_the_account_moves_again(rt, make_player) -> None:
    """The balance raised by raw SQL, then a deposit written by the ledger on top of it (its balance_after
    carries the inflated balance, so the new postings agree with each other and with the account): the
    stored balance at the checkpoint is what exposes it."""
    player = await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    account = await cash_account(rt, player)
    await as_intruder(rt, "UPDATE ledger_accounts SET balance = balance + 5 WHERE id = :a", a=account)
    broken = await deposit(rt, player.uuid, 1_00)

    found = await ledger_verify.verify_books(rt.database, full=False)
    assert found.mode == "incremental"
    chain = {(d.check, d.detail) for d in found.discrepancies if d.check.startswith("posting's balance_after")}
    assert chain == {("posting's balance_after breaks the running balance", "balance_after 1105, running 1100")}
    assert not found.checkpoint_written
    async with rt.database.session() as db:
        mine = (
            await db.execute(
                text("SELECT id::text FROM ledger_postings WHERE transaction_id = :t AND account_id = :a"),
                {"t": broken.transaction_id, "a": account},
            )
        ).scalar_one()
    assert mine in {d.subject for d in found.discrepancies}


@pytest.mark.tampers
async def test_a_failed_run_moves_neither_the_checkpoint_nor_a_stored_balance(rt, make_player) -> None:
    players = [await make_player(balance="10.00 EUR") for _ in range(2)]
    assert run_verify().returncode == 0
    checkpoint, balances = await checkpoint_rows(rt), await stored(rt)
    await deposit(rt, players[0].uuid, 1_00)  # clean
    broken = await deposit(rt, players[1].uuid, 1_00)
    await as_intruder(
        rt,
        """INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, created_at)
           SELECT transaction_id, account_id, currency, 5, now() FROM ledger_postings WHERE transaction_id = :t
           LIMIT 1""",
        t=broken.transaction_id,
    )

    for _ in range(2):  # and the second run finds it again, from the same place
        found = run_verify("--incremental")
        assert found.returncode == 1
        assert f"transaction does not balance: {broken.transaction_id}" in found.stdout
        assert await checkpoint_rows(rt) == checkpoint
        assert await stored(rt) == balances


@pytest.mark.tampers
async def test_an_edited_old_posting_is_for_the_full_run(rt, make_player) -> None:
    """What the incremental run does not read: a posting below the checkpoint (its balance_after edited,
    past the triggers). The stored balance, not that posting, is where the account's running balance starts,
    so the incremental run stays clean on the new rows; the full run finds the broken chain."""
    player = await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    account = await cash_account(rt, player)
    await as_intruder(
        rt,
        """UPDATE ledger_postings SET balance_after = balance_after + 1
           WHERE id = (SELECT max(id) FROM ledger_postings WHERE account_id = :a)""",
        a=account,
    )
    await deposit(rt, player.uuid, 1_00)
    assert run_verify("--incremental").returncode == 0
    full = run_verify()
    assert full.returncode == 1
    assert "posting's balance_after breaks the running balance" in full.stdout


async def test_concurrent_writes_and_runs_leave_the_stored_balances_at_the_checkpoint(rt, make_player) -> None:
    """Deposits keep committing while incremental and full runs go on, two at a time: every run is clean,
    the runs take turns (one writer of checkpoints at a time), and afterwards every stored balance is its
    account's sum of postings at the newest checkpoint."""
    players = [await make_player(balance="10.00 EUR") for _ in range(4)]
    assert run_verify().returncode == 0
    writing = True

    async def writer(player: Any) -> int:
        done = 0
        while writing:
            await deposit(rt, player.uuid, 1_00)
            done += 1
            await asyncio.sleep(0)
        return done

    writers = [asyncio.create_task(writer(player)) for player in players]
    runs = []
    for full in (False, False, True, False):
        runs += await asyncio.gather(
            ledger_verify.verify_books(rt.database, full=full),
            ledger_verify.verify_books(rt.database, full=False),
        )
    writing = False
    assert sum(await asyncio.gather(*writers)) > 0
    assert all(run.ok for run in runs), [run.discrepancies for run in runs if not run.ok]
    assert all(run.checkpoint_written for run in runs)
    assert await disagreeing(rt) == []
    final = await ledger_verify.verify_books(rt.database, full=False)
    assert final.ok
    assert final.mode == "incremental"
    assert await disagreeing(rt) == []


async def test_a_checkpoint_without_balances_starts_a_full_run(rt, make_player) -> None:
    """A checkpoint written before migration 0023 has no stored balances to start from."""
    await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE ledger_verify_checkpoints SET balances = false"))
    result = run_verify("--incremental")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "full: checked" in result.stdout
    assert (await checkpoint_rows(rt))[-1][1:] == ("full", (await checkpoint_rows(rt))[-1][2], True)
    assert await disagreeing(rt) == []
