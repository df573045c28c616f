"""`croupier ledger verify --incremental`: from the last clean run's checkpoint, only the new postings and
what they touch are checked; what is broken there is found; a transaction that commits after the
checkpoint's position was read is not skipped; a run that finds something does not move the checkpoint."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from services import ledger_verify, wallet
from services.wallet import Actor
from tests.ledger.test_ledger import deposit
from tests.ledger.test_ledger import run_ledger_verify as run_verify

SYSTEM = Actor("system")
FORGE = """INSERT INTO ledger_postings (transaction_id, account_id, currency, amount, created_at)
           SELECT transaction_id, account_id, currency, 5, now() FROM ledger_postings WHERE transaction_id = :tx
           LIMIT 1"""


async def checkpoints(rt: Any) -> list[tuple[str, int]]:
    async with rt.database.session() as db:
        rows = (await db.execute(text("SELECT mode, posting_id FROM ledger_verify_checkpoints ORDER BY id"))).all()
    return [(row.mode, row.posting_id) for row in rows]


async def highest_posting(rt: Any) -> int:
    async with rt.database.session() as db:
        return int((await db.execute(text("SELECT max(id) FROM ledger_postings"))).scalar_one())


async def forge(rt: Any, transaction_id: uuid.UUID) -> None:
    """A posting added to a committed transaction by raw SQL past the triggers, as an intruder would."""
    async with rt.database.transaction() as db:
        await db.execute(text("SET LOCAL session_replication_role = replica"))
        await db.execute(text(FORGE), {"tx": transaction_id})


async def test_a_clean_full_run_writes_the_checkpoint_an_incremental_run_starts_from(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    await deposit(rt, player.uuid, 1_00)
    full = run_verify()
    assert full.returncode == 0, full.stdout + full.stderr
    assert "full: checked" in full.stdout
    assert await checkpoints(rt) == [("full", await highest_posting(rt))]

    quiet = run_verify("--incremental")  # nothing new: nothing to check, and the checkpoint stays
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert " 0 postings in " in quiet.stdout  # (the transactions of the last CLOCK_MARGIN are re-read)
    assert [posting for _, posting in await checkpoints(rt)] == [await highest_posting(rt)] * 2


async def test_incremental_after_a_clean_full_run_checks_only_the_new_rows(rt, make_player) -> None:
    players = [await make_player(balance="50.00 EUR") for _ in range(3)]
    for player in players:
        for _ in range(5):
            await deposit(rt, player.uuid, 1_00)
    assert run_verify().returncode == 0
    before = await highest_posting(rt)
    assert before >= 36  # 3 players x (funding + 5 deposits) x 2 postings, all checked by the full run

    new = [await deposit(rt, player.uuid, 2_00) for player in players[:2]]

    result = await ledger_verify.verify_books(rt.database, full=False)
    assert result.ok, result.discrepancies
    assert result.mode == "incremental"
    assert result.from_posting_id == before
    assert result.postings == 4  # the two new deposits' postings, not the ledger's
    assert len(new) <= result.transactions  # and those stamped within CLOCK_MARGIN of the checkpoint
    assert result.to_posting_id == await highest_posting(rt)


@pytest.mark.tampers
async def test_incremental_finds_a_broken_new_posting_and_keeps_its_checkpoint(rt, make_player) -> None:
    player = await make_player(balance="10.00 EUR")
    assert run_verify().returncode == 0
    checkpoint = await checkpoints(rt)

    broken = await deposit(rt, player.uuid, 3_00)
    await forge(rt, broken.transaction_id)

    found = run_verify("--incremental")
    assert found.returncode == 1, found.stdout + found.stderr
    assert f"transaction does not balance: {broken.transaction_id}" in found.stdout
    assert "account balance differs from the sum of its postings" in found.stdout
    assert await checkpoints(rt) == checkpoint  # not advanced past what is broken

    await deposit(rt, player.uuid, 1_00)  # later clean postings do not bury it
    again = run_verify("--incremental")
    assert again.returncode == 1
    assert f"transaction does not balance: {broken.transaction_id}" in again.stdout
    assert await checkpoints(rt) == checkpoint


@pytest.mark.tampers
async def test_a_transaction_that_commits_late_is_not_skipped(rt, make_player) -> None:
    """Transaction A draws its posting ids, then B draws larger ones and commits first; a verify that read
    only what was visible would move its checkpoint past B, over A's ids, and never read A's postings."""
    early, late = await make_player(), await make_player()
    for player in (early, late):  # their accounts (and the PSP's) exist before A and B race
        await deposit(rt, player.uuid, 1_00)
    assert run_verify().returncode == 0

    a_open = asyncio.Event()
    a_may_commit = asyncio.Event()
    a_transaction: list[uuid.UUID] = []

    async def transaction_a() -> None:
        async with rt.database.transaction() as db:
            await db.execute(text("SET LOCAL session_replication_role = replica"))  # so it can commit broken
            result = await wallet.credit_deposit(
                db, player_id=early.uuid, currency="EUR", amount=2_00, psp="demo", payment_id=uuid.uuid4(), actor=SYSTEM
            )
            await db.execute(text(FORGE), {"tx": result.transaction_id})
            a_transaction.append(result.transaction_id)
            a_open.set()
            await a_may_commit.wait()

    a = asyncio.create_task(transaction_a())
    await asyncio.wait_for(a_open.wait(), 10)
    b = await asyncio.wait_for(deposit(rt, late.uuid, 1_00), 10)  # larger posting ids, committed while A is open

    verify = asyncio.create_task(ledger_verify.verify_books(rt.database, full=False))
    await asyncio.sleep(0.3)  # the verify has read the highest visible posting id (B's) by now
    a_may_commit.set()
    await asyncio.wait_for(a, 10)
    result = await asyncio.wait_for(verify, 30)

    assert max(await posting_ids(rt, a_transaction[0])) < min(await posting_ids(rt, b.transaction_id))
    assert ("transaction does not balance", str(a_transaction[0])) in {
        (d.check, d.subject) for d in result.discrepancies
    }
    assert not result.checkpoint_written
    later = run_verify("--incremental")
    assert f"transaction does not balance: {a_transaction[0]}" in later.stdout


async def posting_ids(rt: Any, transaction_id: uuid.UUID) -> list[int]:
    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT id FROM ledger_postings WHERE transaction_id = :t"), {"t": transaction_id})
        return [int(row.id) for row in rows]


async def test_incremental_with_no_checkpoint_runs_in_full(rt, make_player) -> None:
    await make_player(balance="10.00 EUR")
    first = run_verify("--incremental")
    assert first.returncode == 0, first.stdout + first.stderr
    assert "full: checked" in first.stdout
    assert await checkpoints(rt) == [("full", await highest_posting(rt))]


async def break_the_books(rt: Any, players: list[Any]) -> None:
    """A new deposit for each of four players, each then broken another way, as an intruder would."""
    results = [await deposit(rt, player.uuid, 1_00) for player in players]
    await forge(rt, results[0].transaction_id)  # unbalanced; a running balance broken
    async with rt.database.transaction() as db:
        await db.execute(text("SET LOCAL session_replication_role = replica"))
        await db.execute(  # a balance edited
            text("UPDATE ledger_accounts SET balance = balance + 7 WHERE owner_id = :p AND purpose = 'cash'"),
            {"p": str(players[1].uuid)},
        )
        await db.execute(  # a committed transaction left with one posting (and unbalanced)
            text(
                "DELETE FROM ledger_postings WHERE id = (SELECT max(id) FROM ledger_postings WHERE transaction_id = :t)"
            ),
            {"t": results[2].transaction_id},
        )
        await db.execute(  # a refused transaction that has postings
            text("UPDATE ledger_transactions SET status = 'refused' WHERE id = :t"), {"t": results[3].transaction_id}
        )
        await db.execute(  # a committed transaction with no postings at all
            text(
                "INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, actor_type, "
                "created_at) VALUES (gen_random_uuid(), 'empty', 'x', 'adjustment', 'committed', 'system', now())"
            )
        )


EVERY_WAY = {
    "transaction does not balance",
    "account balance differs from the sum of its postings",
    "posting's balance_after breaks the running balance",
    "refused transaction has postings",
    "committed transaction has fewer than two postings",
}


@pytest.mark.tampers
async def test_the_full_runs_passes_find_what_each_checks_own_query_finds(rt, make_player) -> None:
    """The full run reads the postings once per transaction and once per account for several checks at
    once; on books broken in every way those checks cover, it reports what the checks' own queries do."""
    await break_the_books(rt, [await make_player(balance="10.00 EUR") for _ in range(4)])
    async with rt.database.session() as db:
        passes = {(d.check, d.subject, d.detail) for d in (await ledger_verify.verify(db)).discrepancies}
        own = set()
        for check in ledger_verify.CHECKS:
            rows = (await db.execute(text(check.full))).all()
            own |= {(check.name, str(subject), str(detail)) for subject, detail in rows}
    assert passes == own
    assert {check for check, _, _ in own} >= EVERY_WAY


@pytest.mark.tampers
async def test_incremental_finds_in_new_rows_what_the_full_run_finds(rt, make_player) -> None:
    players = [await make_player(balance="10.00 EUR") for _ in range(4)]
    assert run_verify().returncode == 0
    await break_the_books(rt, players)
    incremental = await ledger_verify.verify_books(rt.database, full=False)
    full = await ledger_verify.verify_books(rt.database, full=True)
    assert incremental.mode == "incremental"
    assert {(d.check, d.subject) for d in incremental.discrepancies} == {
        (d.check, d.subject) for d in full.discrepancies
    }
    assert {d.check for d in incremental.discrepancies} >= EVERY_WAY
