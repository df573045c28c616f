"""The full run: every check over every row, on several connections sharing one exported snapshot; when
clean, the checkpoint and every tracked account's balance at it, written in that same snapshot."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger_verify import checkpoints
from services.ledger_verify.passes import FULL_RUN, Pass, in_check_order, read
from services.ledger_verify.results import Discrepancy, Verification
from services.ledger_verify.settle import Settled

if TYPE_CHECKING:
    from core.db import Database

# The full run's memory per sort or hash (per connection and per parallel worker; a hash may take twice
# that, hash_mem_multiplier): at 10,000,000 postings the per-transaction hash and the per-account sort
# still write a little to temporary files (~150 and ~300 MB), against several GB at the default 4MB.
FULL_WORK_MEM = "512MB"


async def run_full(database: Database, settled: Settled, limit: int, connections: int, started: float) -> Verification:
    """Every check over every row, on `connections` connections sharing the first one's snapshot (taken
    after settling, so it holds every posting up to `settled`); a clean run records its checkpoint."""
    async with database.engine.connect() as first:
        await first.execution_options(isolation_level="REPEATABLE READ")
        await first.execute(text(f"SET LOCAL work_mem = '{FULL_WORK_MEM}'"))
        snapshot = (await first.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
        queue: asyncio.Queue[Pass] = asyncio.Queue()
        for one in FULL_RUN:
            queue.put_nowait(one)
        found: list[Discrepancy] = []

        async def worker(conn: AsyncConnection) -> None:
            while not queue.empty():
                found.extend(await read(conn, queue.get_nowait(), limit))

        async def helper() -> None:
            async with database.engine.connect() as conn:
                await conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
                await conn.execute(text(f"SET TRANSACTION SNAPSHOT '{snapshot}'"))
                await conn.execute(text(f"SET LOCAL work_mem = '{FULL_WORK_MEM}'"))
                await worker(conn)
                await conn.rollback()

        await asyncio.gather(worker(first), *(helper() for _ in range(connections - 1)))
        counts = (
            await first.execute(
                text("SELECT (SELECT count(*) FROM ledger_transactions), (SELECT count(*) FROM ledger_postings)")
            )
        ).one()
        result = Verification(int(counts[0]), int(counts[1]), in_check_order(found), mode="full")
        if not result.ok:
            await first.rollback()
            return replace(result, seconds=time.perf_counter() - started)
        result = replace(result, seconds=time.perf_counter() - started)
        checkpoint = await checkpoints.record(first, result, settled)
        for statement in checkpoints.FULL_BALANCES:
            await first.execute(text(statement), {"checkpoint": checkpoint, "to_posting_id": settled.posting_id})
        await first.commit()
    return replace(result, checkpoint_written=True, to_posting_id=settled.posting_id)
