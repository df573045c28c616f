"""Settling: the highest posting id below which nothing can still commit, the position a clean run records.

Posting ids come from a sequence (cache 1) in allocation order, not commit order: a transaction can hold
id 100 uncommitted while id 101 is already visible. So a run first reads the highest visible posting id
and the ids of the transactions in progress in the same snapshot, then waits until each of those has
committed or rolled back. Every posting at or below that id is then final: it was visible, or it belonged
to a transaction in progress (the ledger writes the transaction row before its postings, so the writer had
its transaction id before it drew a posting id), and a transaction that starts later draws larger ids.
Only this database's transactions are waited for (the snapshot lists the whole cluster's): a transaction
in progress shows in pg_stat_activity (or pg_prepared_xacts) with its id until it ends, and one that ended
in between has committed or rolled back already. The role running the verify must see the ledger
writers' sessions there (the same role, or pg_read_all_stats).
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text

if TYPE_CHECKING:
    from core.db import Database

# How long a run waits for the transactions in progress at its start to finish.
SETTLE_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class Settled:
    posting_id: int  # every posting at or below it is final
    settled_at: datetime  # the database's clock when that was read


async def settle(database: Database, wait_seconds: float) -> Settled:
    """The highest posting id below which nothing can still commit (the module's docstring says why)."""
    async with database.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT coalesce((SELECT max(id) FROM ledger_postings), 0) AS posting_id, now() AS at, "
                    "ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x "
                    # this database's only: another database's long transaction holds no posting id here
                    "WHERE xid(x) IN (SELECT backend_xid FROM pg_stat_activity WHERE datname = current_database() "
                    "UNION ALL SELECT transaction FROM pg_prepared_xacts WHERE database = current_database())"
                    ") AS running"
                )
            )
        ).one()
        await conn.rollback()
        running: list[str] = list(row.running)
        deadline = time.monotonic() + wait_seconds
        while running:
            statuses = (
                await conn.execute(
                    text("SELECT x, pg_xact_status(CAST(x AS xid8)) FROM unnest(CAST(:xs AS text[])) AS x"),
                    {"xs": running},
                )
            ).all()
            await conn.rollback()
            running = [xid for xid, status in statuses if status == "in progress"]
            if not running:
                break
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"transactions {', '.join(running)} were still running after {wait_seconds:.0f} s: "
                    "the ledger cannot be settled for a checkpoint (pg_stat_activity names them)"
                )
            await asyncio.sleep(0.01)
    return Settled(int(row.posting_id), row.at)
