"""The incremental run: from the newest checkpoint, only the postings above its position, the accounts
and transactions they touch and the rows of the other tables created or changed since it was settled.

A touched account's running balance starts from its row in `ledger_verify_balances` (one join), the
balance the run that wrote the checkpoint proved. The new rows are gathered into temporary tables once;
each check reads them set-based. When clean, the run records its checkpoint and the touched accounts' new
balances in the transaction it checked in.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from services.ledger_verify import checkpoints
from services.ledger_verify.checkpoints import Checkpoint
from services.ledger_verify.passes import INCREMENTAL_RUN, read
from services.ledger_verify.results import Discrepancy, Verification
from services.ledger_verify.settle import Settled

# The application servers' clocks (which stamp created_at and updated_at) may run this far from the
# database's: the cross-table checks of an incremental run look this far behind the checkpoint.
CLOCK_MARGIN = timedelta(minutes=5)
# An incremental run looks rows up by key (the new transactions' postings): with the default
# random_page_cost the planner reads whole tables instead. The ledger's hot part is in memory, where a
# lookup costs about what a sequential read does.
# Above this many new postings the stored balances and the accounts are read whole (hash joins) rather
# than looked up per touched account (about where the two cost the same on the 10,000,000-posting data).
HASH_ABOVE = 50_000
INCREMENTAL_SETTINGS = (("random_page_cost", "1.1"), ("work_mem", "256MB"), ("jit", "off"))

# The temporary tables live in the session's own buffers, 8MB by default: a day's new postings (~30MB)
# would go to and from the file system on every read. The size can be set only before the session's first
# temporary table (and then holds for the session), so only a session without a temporary schema sets it.
TEMP_BUFFERS = "256MB"
_TEMP_BUFFERS = f"SELECT set_config('temp_buffers', '{TEMP_BUFFERS}', false) WHERE pg_my_temp_schema() = 0"

_NEW_ROWS = (
    """CREATE TEMP TABLE verify_new_postings ON COMMIT DROP AS
       SELECT id, transaction_id, account_id, currency, amount, balance_after FROM ledger_postings
       WHERE id > :from_posting_id""",
    # The transactions to check: those of the new postings and those created in the window ("windowed"),
    # each with its new postings' count, sum and currencies beside its status (one read of each), and
    # those that new provider transactions and changed payments name (for the cross-table checks).
    """CREATE TEMP TABLE verify_new_transactions ON COMMIT DROP AS
       WITH per_transaction AS (
           SELECT transaction_id, count(*) AS postings, sum(amount) AS total,
                  min(currency) AS currency, max(currency) AS last_currency
           FROM verify_new_postings GROUP BY transaction_id),
       recent AS (SELECT id, status FROM ledger_transactions WHERE created_at >= CAST(:since AS timestamptz))
       SELECT coalesce(p.transaction_id, r.id) AS id, r.status, p.postings, p.total, p.currency, p.last_currency,
              true AS windowed
       FROM per_transaction p FULL JOIN recent r ON r.id = p.transaction_id""",
    """INSERT INTO verify_new_transactions (id, windowed)
       SELECT ledger_transaction_id, false FROM provider_transactions
       WHERE created_at >= CAST(:since AS timestamptz) AND ledger_transaction_id IS NOT NULL
       UNION SELECT transaction_id, false FROM payments
       WHERE updated_at >= CAST(:since AS timestamptz) AND transaction_id IS NOT NULL
       EXCEPT SELECT id, false FROM verify_new_transactions""",
    # The touched accounts: each with its new postings' count and their sum up to the new position, and its
    # stored row (balance, the run that wrote it, where it lies). An account without a stored row had no
    # postings at the checkpoint (its running balance starts at 0). Nothing is written yet: a clean run
    # moves the rows that change at its end (checkpoints.MOVE_BALANCES), in place by their row address.
    # Hash joins for a large window (a day: a sixth of the accounts; the ids are random, so a lookup per
    # touched account costs more than one read of each table), lookups for a small one (an hour).
    "SELECT set_config('enable_nestloop', CASE WHEN count(*) > :hash_above THEN 'off' ELSE 'on' END, true) "
    "FROM verify_new_postings",
    """CREATE TEMP TABLE verify_touched_accounts ON COMMIT DROP AS
       SELECT a.id, a.currency, a.purpose, a.balance, a.allow_negative, n.postings, n.settled,
              coalesce(b.balance, 0) AS baseline, b.account_id IS NOT NULL AS stored, b.checkpoint_id AS stored_by,
              b.ctid AS stored_at
       FROM (SELECT account_id, count(*) AS postings, coalesce(sum(amount) FILTER (WHERE id <= :to_posting_id), 0)
                    AS settled
             FROM verify_new_postings GROUP BY account_id) n
       JOIN ledger_accounts a ON a.id = n.account_id
       LEFT JOIN ledger_verify_balances b ON b.account_id = a.id AND a.balance IS NOT NULL""",
    "SELECT set_config('enable_nestloop', 'on', true)",
    "ANALYZE verify_new_postings, verify_new_transactions, verify_touched_accounts",
)


# A stored row is read only if the run that wrote it is at or before the checkpoint the run starts from. A
# later one was a clean run whose checkpoint row is gone (deleted, or the table restored from before it):
# its rows describe a position past the checkpoint, and every account they belong to has postings above it,
# so a run from that checkpoint touches each of them and finds them here.
_STALE = "SELECT count(*) FROM verify_touched_accounts WHERE stored_by > :checkpoint"


class StaleBalances(Exception):
    """The stored balances the run would start from do not describe its checkpoint: it cannot run
    incrementally (run.py runs in full instead, which reads none of them and rewrites them)."""


async def run_incremental(
    conn: AsyncConnection, checkpoint: Checkpoint, settled: Settled, limit: int, started: float
) -> Verification:
    """Every check over the rows new since `checkpoint`, on `conn` (a REPEATABLE READ transaction whose
    snapshot was taken after settling, in which `checkpoint` is the newest); records the next checkpoint
    when clean. The caller ends the transaction on failure. Raises StaleBalances when a touched account's
    stored balance belongs to a later, abandoned checkpoint."""
    written = int(
        (
            await conn.execute(text("SELECT nextval(pg_get_serial_sequence('ledger_verify_checkpoints', 'id'))"))
        ).scalar_one()
    )
    params = {
        "from_posting_id": checkpoint.posting_id,
        "since": checkpoint.settled_at - CLOCK_MARGIN,
        "to_posting_id": settled.posting_id,
        "checkpoint": written,
        "hash_above": HASH_ABOVE,
    }
    await conn.execute(text(_TEMP_BUFFERS))
    for name, value in INCREMENTAL_SETTINGS:
        await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    for statement in _NEW_ROWS:
        await conn.execute(text(statement), params)
    stale = (await conn.execute(text(_STALE), {"checkpoint": checkpoint.id})).scalar_one()
    if stale:
        raise StaleBalances(
            f"{stale} touched accounts' stored balances were written by a run after checkpoint {checkpoint.id} "
            "(a checkpoint removed since): they describe another position"
        )
    found: list[Discrepancy] = []
    for one in INCREMENTAL_RUN:
        found.extend(await read(conn, one, limit, params))
    counts = (
        await conn.execute(
            text("SELECT (SELECT count(*) FROM verify_new_transactions), (SELECT count(*) FROM verify_new_postings)")
        )
    ).one()
    result = Verification(
        int(counts[0]),
        int(counts[1]),
        found,
        mode="incremental",
        from_posting_id=checkpoint.posting_id,
        seconds=time.perf_counter() - started,
    )
    if not result.ok or settled.posting_id < checkpoint.posting_id:
        await conn.rollback()  # the checkpoint stays where it was (a position never moves back)
        return result
    await checkpoints.record(conn, result, settled, written)
    for statement in checkpoints.MOVE_BALANCES:
        await conn.execute(text(statement), params)
    await conn.commit()
    return replace(result, checkpoint_written=True, to_posting_id=settled.posting_id)
