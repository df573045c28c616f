"""Checkpoints: where the last clean run got to (`ledger_verify_checkpoints`) and each tracked account's
running balance there (`ledger_verify_balances`, migration 0023).

Only a clean run writes, and it writes both in the transaction whose snapshot it checked, so the newest
checkpoint and the stored balances always describe the same position: every tracked account's row is its
running balance over its postings at or below the newest checkpoint's `posting_id`. A failed run writes
nothing, and a crash leaves the previous checkpoint whole. Runs that write hold `exclusive()` from
reading the checkpoint they start from to their commit: two runs would otherwise each write balances
relative to the checkpoint they started from, and the later commit could move a row back.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger_verify.results import Verification
from services.ledger_verify.settle import Settled

if TYPE_CHECKING:
    from core.db import Database

# pg_advisory_lock key of `croupier ledger verify` runs that may write a checkpoint (an arbitrary constant).
_LOCK = 0x1ED6E7
# How long a run waits for another to finish before it gives up (a full run of 10,000,000 postings takes
# 15-60 s on the benchmark machine).
LOCK_WAIT = "10min"


@dataclass(frozen=True)
class Checkpoint:
    id: int
    posting_id: int  # every posting at or below it was final and checked
    settled_at: datetime
    balances: bool  # written with the accounts' balances (migration 0023); only such a one starts a run


async def newest(conn: AsyncConnection) -> Checkpoint | None:
    row = (
        await conn.execute(
            text("SELECT id, posting_id, settled_at, balances FROM ledger_verify_checkpoints ORDER BY id DESC LIMIT 1")
        )
    ).one_or_none()
    return Checkpoint(int(row.id), int(row.posting_id), row.settled_at, bool(row.balances)) if row else None


async def last_checkpoint(database: Database) -> Checkpoint | None:
    async with database.engine.connect() as conn:
        return await newest(conn)


@asynccontextmanager
async def exclusive(database: Database) -> AsyncIterator[None]:
    """One writing run at a time, across processes: a session-level advisory lock on a connection of its
    own (autocommit: it holds no snapshot and no transaction id, so settling never waits for it)."""
    async with database.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text(f"SET lock_timeout = '{LOCK_WAIT}'"))
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _LOCK})
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _LOCK})


async def record(conn: AsyncConnection, result: Verification, settled: Settled, id: int | None = None) -> int:
    """The checkpoint row of a clean run, in its checking transaction (with the id it drew, if it did);
    returns its id."""
    return int(
        (
            await conn.execute(
                text(
                    "INSERT INTO ledger_verify_checkpoints (id, mode, posting_id, settled_at, postings_checked, "
                    "transactions_checked, seconds, balances) VALUES (coalesce(CAST(:id AS bigint), "
                    "nextval(pg_get_serial_sequence('ledger_verify_checkpoints', 'id'))), :mode, :posting_id, :at, "
                    ":postings, :transactions, :seconds, true) RETURNING id"
                ),
                {
                    "id": id,
                    "mode": result.mode,
                    "posting_id": settled.posting_id,
                    "at": settled.settled_at,
                    "postings": result.postings,
                    "transactions": result.transactions,
                    "seconds": result.seconds,
                },
            )
        ).scalar_one()
    )


# A full run, in the snapshot it found clean: each tracked account's balance there is the sum of all its
# postings in that snapshot (the run just proved it), so its balance at the checkpoint is that less its
# postings above the checkpoint's position (those that committed while the run settled). Only the rows that
# differ are written (a hash join against the stored ones, not a lookup per account): a stored row edited
# since the last run is put right here, and so is one marked with a later checkpoint than this one (which a
# run left behind before the checkpoint table was emptied or restored). In the same join, the rows of
# accounts no longer tracked or no longer there are removed: no later run finds a row it did not prove.
FULL_BALANCES = (
    """WITH at_checkpoint AS (
           SELECT a.id, a.balance - coalesce(late.total, 0) AS balance
           FROM ledger_accounts a
           LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings WHERE id > :to_posting_id
                      GROUP BY account_id) late ON late.account_id = a.id
           WHERE a.balance IS NOT NULL),
       differing AS MATERIALIZED (
           SELECT c.id, c.balance, b.account_id AS stored
           FROM at_checkpoint c FULL JOIN ledger_verify_balances b ON b.account_id = c.id
           WHERE c.id IS NULL OR b.balance IS DISTINCT FROM c.balance OR b.checkpoint_id > :checkpoint),
       gone AS (DELETE FROM ledger_verify_balances WHERE account_id IN (SELECT stored FROM differing WHERE id IS NULL))
       INSERT INTO ledger_verify_balances (account_id, balance, checkpoint_id)
       SELECT id, balance, :checkpoint FROM differing WHERE id IS NOT NULL
       ON CONFLICT (account_id) DO UPDATE SET balance = excluded.balance, checkpoint_id = excluded.checkpoint_id""",
)
# A clean incremental run moves the stored balances of the touched tracked accounts whose balance changed
# up to its position (an account whose new postings net to zero keeps its row, and its run's id): a row
# that exists is updated in place at the address the run read it from (`stored_at`: no index lookup; the
# run holds `exclusive()`, so no other run moved it since), and an account new to the table gets its row.
MOVE_BALANCES = (
    # A TID scan per row (the planner, which prices it like a random page read, would hash-join the whole
    # table by ctid: one more read of every stored row, 0.5-1 s of a day's run on the benchmark machine).
    "SELECT set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)",
    """UPDATE ledger_verify_balances b SET balance = a.baseline + a.settled, checkpoint_id = :checkpoint
       FROM verify_touched_accounts a
       WHERE b.ctid = a.stored_at AND a.stored AND a.balance IS NOT NULL AND a.settled <> 0""",
    """INSERT INTO ledger_verify_balances (account_id, balance, checkpoint_id)
       SELECT id, settled, :checkpoint FROM verify_touched_accounts
       WHERE balance IS NOT NULL AND NOT stored AND settled <> 0""",
    "SELECT set_config('enable_hashjoin', 'on', true), set_config('enable_mergejoin', 'on', true)",
)
