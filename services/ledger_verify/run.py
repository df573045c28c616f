"""The two ways in: `verify` (the books check on a session, writes nothing) and `verify_books` (the
operator's run behind `croupier ledger verify`: settled, in full or from the newest checkpoint, and
checkpointed when clean)."""

from __future__ import annotations

import time
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.ledger_verify import checkpoints
from services.ledger_verify.full import run_full
from services.ledger_verify.incremental import StaleBalances, run_incremental
from services.ledger_verify.passes import FULL_RUN, in_check_order, one_statement
from services.ledger_verify.results import Discrepancy, Verification
from services.ledger_verify.settle import SETTLE_TIMEOUT_SECONDS, settle

if TYPE_CHECKING:
    from core.db import Database


async def verify(db: AsyncSession, *, limit_per_check: int = 100) -> Verification:
    """Recompute every invariant over the whole ledger on this session; report what is off (at most N per
    check). Writes nothing (the books check after every test and the fault suite use it). Two round
    trips: every check in one statement, then the counts."""
    sql, params = one_statement(FULL_RUN, limit_per_check)
    rows = (await db.execute(text(sql), params)).all()
    found = in_check_order([Discrepancy(str(check), str(subject), str(detail)) for check, subject, detail in rows])
    counts = (
        await db.execute(
            text("SELECT (SELECT count(*) FROM ledger_transactions), (SELECT count(*) FROM ledger_postings)")
        )
    ).one()
    return Verification(int(counts[0]), int(counts[1]), found)


async def verify_books(
    database: Database,
    *,
    full: bool = True,
    limit_per_check: int = 100,
    connections: int = 2,
    settle_timeout: float = SETTLE_TIMEOUT_SECONDS,
) -> Verification:
    """`croupier ledger verify`: settle, check (in full, or from the newest checkpoint), and record a new
    checkpoint with the accounts' balances when nothing was found. Incremental runs in full when there is
    no checkpoint yet or the newest one has no balances (written before migration 0023). `seconds`
    counts everything, the checkpoint's writing included."""
    started = time.perf_counter()
    note = ""
    async with checkpoints.exclusive(database):
        settled = await settle(database, settle_timeout)
        if not full:
            async with database.engine.connect() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ")
                # The snapshot is taken here, after settling: it holds every posting up to `settled`, and
                # the stored balances agree with the newest checkpoint in it (one transaction wrote both).
                checkpoint = await checkpoints.newest(conn)
                if checkpoint is not None and checkpoint.balances:
                    try:
                        result = await run_incremental(conn, checkpoint, settled, limit_per_check, started)
                        return replace(result, seconds=time.perf_counter() - started)
                    except StaleBalances as stale:
                        note = f"in full: {stale}"
                await conn.rollback()
        result = await run_full(database, settled, limit_per_check, connections, started)
    return replace(result, seconds=time.perf_counter() - started, note=note)
