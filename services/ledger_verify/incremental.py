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
INCREMENTAL_SETTINGS = (("random_page_cost", "1.1"), ("work_mem", "256MB"))

_NEW_ROWS = (
    """CREATE TEMP TABLE verify_new_postings ON COMMIT DROP AS
       SELECT id, transaction_id, account_id, currency, amount, balance_after FROM ledger_postings
       WHERE id > :from_posting_id""",
    """CREATE TEMP TABLE verify_new_transactions ON COMMIT DROP AS
       SELECT transaction_id AS id FROM verify_new_postings
       UNION SELECT id FROM ledger_transactions WHERE created_at >= CAST(:since AS timestamptz)
       UNION SELECT ledger_transaction_id FROM provider_transactions
             WHERE created_at >= CAST(:since AS timestamptz) AND ledger_transaction_id IS NOT NULL
       UNION SELECT transaction_id FROM payments
             WHERE updated_at >= CAST(:since AS timestamptz) AND transaction_id IS NOT NULL""",
    # A tracked account's running balance at the checkpoint: its stored one (none: it had no postings
    # there). Hash joins against the accounts and the stored balances, no lookup per account.
    """CREATE TEMP TABLE verify_touched_accounts ON COMMIT DROP AS
       SELECT a.id, a.currency, a.purpose, a.balance, a.allow_negative, coalesce(b.balance, 0) AS baseline
       FROM (SELECT DISTINCT account_id FROM verify_new_postings) touched
       JOIN ledger_accounts a ON a.id = touched.account_id
       LEFT JOIN ledger_verify_balances b ON b.account_id = a.id AND a.balance IS NOT NULL""",
    "ANALYZE verify_new_postings, verify_new_transactions, verify_touched_accounts",
)


async def run_incremental(
    conn: AsyncConnection, checkpoint: Checkpoint, settled: Settled, limit: int, started: float
) -> Verification:
    """Every check over the rows new since `checkpoint`, on `conn` (a REPEATABLE READ transaction whose
    snapshot was taken after settling, in which `checkpoint` is the newest); records the next checkpoint
    when clean. The caller ends the transaction on failure."""
    params = {"from_posting_id": checkpoint.posting_id, "since": checkpoint.settled_at - CLOCK_MARGIN}
    for name, value in INCREMENTAL_SETTINGS:
        await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    for statement in _NEW_ROWS:
        await conn.execute(text(statement), params)
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
    written = await checkpoints.record(conn, result, settled)
    await conn.execute(text(checkpoints.NEW_BALANCES), {"checkpoint": written, "to_posting_id": settled.posting_id})
    await conn.commit()
    return replace(result, checkpoint_written=True, to_posting_id=settled.posting_id)
