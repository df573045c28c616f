"""Settling: the highest posting id below which nothing can still commit, the position a clean run records.

Posting ids come from a sequence (cache 1) in allocation order, not commit order: a transaction can hold
id 100 uncommitted while id 101 is already visible. So a run first reads the highest visible posting id
and, in the same statement, the transactions of this database then in progress (pg_stat_activity's
`backend_xid` per session, and pg_prepared_xacts), then waits until each of those has ended. Every posting
at or below that id is then final: it was visible, or it belonged to a transaction in progress (the ledger
writes the transaction row before its postings, so the writer had its transaction id before it drew a
posting id), or to one that ended before the run's checking snapshot is taken; a transaction that starts
later draws larger ids.

Not the snapshot's own list of transactions in progress (pg_snapshot_xip): it leaves out every transaction
at or above its xmax, which is one past the newest *completed* transaction, so the newest writer of all is
not in it (a writer that drew a smaller posting id than one an older transaction then drew and committed).
PostgreSQL shows every session's database, pid and `backend_xid` to every role (only the query, state and
client are hidden without pg_read_all_stats): the verifying role needs no privilege to see other roles'
writers (tests/ledger/test_verify_roles.py).
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


# Each transaction in progress as "pid:xid" (pid 0 for a prepared one), read with the position in one
# statement; a transaction has ended when its pair is gone (its session has no xid or another one).
_POSITION = """
    SELECT coalesce((SELECT max(id) FROM ledger_postings), 0) AS posting_id, now() AS at,
           ARRAY(SELECT pid || ':' || backend_xid FROM pg_stat_activity
                 WHERE datname = current_database() AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()
                 UNION ALL
                 SELECT '0:' || transaction FROM pg_prepared_xacts WHERE database = current_database()) AS running"""
_STILL_RUNNING = """
    SELECT pid || ':' || backend_xid FROM pg_stat_activity
    WHERE datname = current_database() AND pid || ':' || backend_xid = ANY(CAST(:running AS text[]))
    UNION ALL
    SELECT '0:' || transaction FROM pg_prepared_xacts
    WHERE database = current_database() AND '0:' || transaction = ANY(CAST(:running AS text[]))"""


@dataclass(frozen=True)
class Settled:
    posting_id: int  # every posting at or below it is final
    settled_at: datetime  # the database's clock when that was read


async def settle(database: Database, wait_seconds: float) -> Settled:
    """The highest posting id below which nothing can still commit (the module's docstring says why)."""
    async with database.engine.connect() as conn:
        row = (await conn.execute(text(_POSITION))).one()
        await conn.rollback()
        running: list[str] = list(row.running)
        deadline = time.monotonic() + wait_seconds
        while running:
            still = set((await conn.execute(text(_STILL_RUNNING), {"running": running})).scalars())
            await conn.rollback()
            running = [one for one in running if one in still]
            if not running:
                break
            if time.monotonic() > deadline:
                named = ", ".join(f"{xid} (pid {pid})" for pid, _, xid in (one.partition(":") for one in running))
                raise TimeoutError(
                    f"transactions {named} were still running after {wait_seconds:.0f} s: "
                    "the ledger cannot be settled for a checkpoint (pg_stat_activity names them)"
                )
            await asyncio.sleep(0.01)
    return Settled(int(row.posting_id), row.at)
