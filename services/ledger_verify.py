"""Verifying the books: every ledger invariant recomputed, in full or from a checkpoint.

What is checked (each check has a stable name, printed by `croupier ledger verify`):
- every transaction balances per currency; a committed one has at least two postings, a refused one none;
- a tracked account's balance equals the sum of its postings, never goes below zero unless allowed, and
  each of its postings' `balance_after` is the running balance in posting-id order;
- a posting's currency is its account's; a pending account holds exactly its open holds;
- the cross-table checks of services/ledger_checks.py (provider transactions, payments, bonuses).

Two ways to run them:
- **full** (`verify`, `verify_books(full=True)`): over every row. The postings are read in two passes, one
  grouped per transaction and one per account (each pass answers several checks), on separate
  connections sharing one exported snapshot, with the work memory to keep sorts and hashes in memory.
- **incremental** (`verify_books(full=False)`): from the newest checkpoint (table
  `ledger_verify_checkpoints`), only the postings above its `posting_id`, the accounts and transactions
  they touch and the rows of the other tables created or changed since `settled_at` (less
  `CLOCK_MARGIN`). An account's running balance at the checkpoint is the `balance_after` of its last
  posting at or below it, which the run that wrote the checkpoint verified.

The checkpoint's position must never skip a posting that commits late. Posting ids come from a sequence
(cache 1) in allocation order, not commit order: a transaction can hold id 100 uncommitted while id 101
is already visible. So a run first *settles*: it reads the highest visible posting id and the ids of the
transactions in progress in the same snapshot, then waits until each of those has committed or rolled
back. Every posting at or below that id is then final: it was visible, or it belonged to a transaction
in progress (the ledger writes the transaction row before its postings, so the writer had its
transaction id before it drew a posting id), and a transaction that starts later draws larger ids. The
checks then run in a snapshot taken after the settling, and a clean run records that id as the next
checkpoint. A run that finds anything records nothing: the next incremental run starts from the same
place and finds it again.

What incremental does not see: a change to a row older than the checkpoint (an UPDATE or DELETE of an
old posting, transaction or provider transaction, a balance edited on an account no new posting
touched). Postings and transactions refuse UPDATE and DELETE by trigger, so that takes someone who
switches triggers off; the full run (and `croupier audit verify` for staff actions) catches it.
docs/operations.md says how often to run which.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.ledger_checks import CROSS_TABLE_QUERIES

if TYPE_CHECKING:
    from core.db import Database

# The application servers' clocks (which stamp created_at and updated_at) may run this far from the
# database's: the cross-table checks of an incremental run look this far behind the checkpoint.
CLOCK_MARGIN = timedelta(minutes=5)
# How long a run waits for the transactions in progress at its start to finish (settling).
SETTLE_TIMEOUT_SECONDS = 60.0
# The full run's memory per sort or hash (per connection and per parallel worker; a hash may take twice
# that, hash_mem_multiplier): at 10,000,000 postings the per-transaction hash and the per-account sort
# still write a little to temporary files (~150 and ~300 MB), against several GB at the default 4MB.
FULL_WORK_MEM = "512MB"
# An incremental run looks rows up by key (the new transactions' postings, the touched accounts' last
# posting): with the default random_page_cost the planner reads whole tables instead. The ledger's hot
# part is in memory, where a lookup costs about what a sequential read does.
INCREMENTAL_SETTINGS = (("random_page_cost", "1.1"), ("work_mem", "256MB"))


@dataclass(frozen=True)
class Check:
    """One invariant. `full` is its own query over every row (a full run answers several invariants at once
    through a Pass instead; tests/ledger/test_verify_incremental.py holds the two to the same findings);
    `incremental` runs over the new rows in the temporary tables an incremental run fills
    (verify_new_postings, verify_new_transactions, verify_touched_accounts)."""

    name: str
    full: str
    incremental: str


# ---- the ledger's own invariants -------------------------------------------------------------------

_UNBALANCED = "transaction does not balance"
_BALANCE = "account balance differs from the sum of its postings"
_NEGATIVE = "account is below zero"
_CHAIN = "posting's balance_after breaks the running balance"
_CURRENCY = "posting's currency differs from its account's"
_REFUSED = "refused transaction has postings"
_TOO_FEW = "committed transaction has fewer than two postings"
_PENDING = "pending account differs from its open holds"

LEDGER_CHECKS: tuple[Check, ...] = (
    Check(
        _UNBALANCED,
        """SELECT transaction_id::text, currency || ' off by ' || sum(amount)
           FROM ledger_postings GROUP BY transaction_id, currency HAVING sum(amount) <> 0""",
        """SELECT p.transaction_id::text, p.currency || ' off by ' || sum(p.amount)
           FROM verify_new_transactions n JOIN ledger_postings p ON p.transaction_id = n.id
           GROUP BY p.transaction_id, p.currency HAVING sum(p.amount) <> 0""",
    ),
    Check(
        _BALANCE,
        """SELECT a.id::text, 'balance ' || a.balance || ', postings ' || coalesce(p.total, 0)
           FROM ledger_accounts a
           LEFT JOIN (SELECT account_id, sum(amount) AS total FROM ledger_postings GROUP BY account_id) p
                  ON p.account_id = a.id
           WHERE a.balance IS NOT NULL AND a.balance <> coalesce(p.total, 0)""",
        """SELECT a.id::text, 'balance ' || a.balance || ', postings ' || (a.baseline + p.total)
           FROM verify_touched_accounts a
           JOIN (SELECT account_id, sum(amount) AS total FROM verify_new_postings GROUP BY account_id) p
             ON p.account_id = a.id
           WHERE a.balance IS NOT NULL AND a.balance <> a.baseline + p.total""",
    ),
    Check(
        _NEGATIVE,
        "SELECT id::text, 'balance ' || balance FROM ledger_accounts WHERE balance < 0 AND NOT allow_negative",
        "SELECT id::text, 'balance ' || balance FROM verify_touched_accounts WHERE balance < 0 AND NOT allow_negative",
    ),
    Check(
        _CHAIN,
        """SELECT id::text, 'balance_after ' || balance_after || ', running ' || running FROM (
               SELECT p.id, p.balance_after,
                      sum(p.amount) OVER (PARTITION BY p.account_id ORDER BY p.id) AS running
               FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id
               WHERE a.balance IS NOT NULL) AS chain
           WHERE balance_after IS DISTINCT FROM running""",
        """SELECT id::text, 'balance_after ' || balance_after || ', running ' || running FROM (
               SELECT p.id, p.balance_after,
                      a.baseline + sum(p.amount) OVER (PARTITION BY p.account_id ORDER BY p.id) AS running
               FROM verify_new_postings p JOIN verify_touched_accounts a ON a.id = p.account_id
               WHERE a.balance IS NOT NULL) AS chain
           WHERE balance_after IS DISTINCT FROM running""",
    ),
    Check(
        _CURRENCY,
        """SELECT p.id::text, p.currency || ' on a ' || a.currency || ' account'
           FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id WHERE p.currency <> a.currency""",
        """SELECT p.id::text, p.currency || ' on a ' || a.currency || ' account'
           FROM verify_new_postings p JOIN verify_touched_accounts a ON a.id = p.account_id
           WHERE p.currency <> a.currency""",
    ),
    Check(
        _REFUSED,
        """SELECT t.id::text, count(*) || ' postings' FROM ledger_transactions t
           JOIN ledger_postings p ON p.transaction_id = t.id WHERE t.status = 'refused' GROUP BY t.id""",
        """SELECT t.id::text, count(*) || ' postings' FROM verify_new_transactions n
           JOIN ledger_transactions t ON t.id = n.id JOIN ledger_postings p ON p.transaction_id = t.id
           WHERE t.status = 'refused' GROUP BY t.id""",
    ),
    Check(
        _TOO_FEW,
        """SELECT t.id::text, count(p.id) || ' postings' FROM ledger_transactions t
           LEFT JOIN ledger_postings p ON p.transaction_id = t.id WHERE t.status = 'committed'
           GROUP BY t.id HAVING count(p.id) < 2""",
        """SELECT t.id::text, count(p.id) || ' postings' FROM verify_new_transactions n
           JOIN ledger_transactions t ON t.id = n.id LEFT JOIN ledger_postings p ON p.transaction_id = t.id
           WHERE t.status = 'committed' GROUP BY t.id HAVING count(p.id) < 2""",
    ),
    Check(
        _PENDING,
        """SELECT a.id::text, 'balance ' || a.balance || ', open holds ' || coalesce(h.total, 0)
           FROM ledger_accounts a
           LEFT JOIN (SELECT pending_account_id, sum(amount) AS total FROM ledger_holds
                      WHERE status = 'pending' GROUP BY pending_account_id) h ON h.pending_account_id = a.id
           WHERE a.purpose = 'withdrawal_pending' AND a.balance <> coalesce(h.total, 0)""",
        """SELECT a.id::text, 'balance ' || a.balance || ', open holds ' || coalesce(h.total, 0)
           FROM verify_touched_accounts a
           LEFT JOIN LATERAL (SELECT sum(amount) AS total FROM ledger_holds
                              WHERE status = 'pending' AND pending_account_id = a.id) h ON true
           WHERE a.purpose = 'withdrawal_pending' AND a.balance <> coalesce(h.total, 0)""",
    ),
)


# ---- the cross-table checks, scoped -----------------------------------------------------------------

# services/ledger_checks.py marks where each query can be narrowed to new rows: `{scope:expression}`.
# A full run reads every row (the marker becomes `true`); an incremental run keeps the rows the scope
# names as new.
_SCOPES: dict[str, str] = {
    "transaction": "{} IN (SELECT id FROM verify_new_transactions)",
    "account": "{} IN (SELECT id FROM verify_touched_accounts)",
    "since": "{} >= CAST(:since AS timestamptz)",
}
_MARKER = re.compile(r"\{(\w+):([^{}]+)\}")


def _scoped(sql: str, *, incremental: bool) -> str:
    return _MARKER.sub(lambda m: _SCOPES[m[1]].format(m[2]) if incremental else "true", sql)


CHECKS: tuple[Check, ...] = LEDGER_CHECKS + tuple(
    Check(name, _scoped(sql, incremental=False), _scoped(sql, incremental=True))
    for name, sql in CROSS_TABLE_QUERIES.items()
)


# ---- the full run's passes ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Pass:
    """One read of the postings answering several checks at once: its rows are (check, subject, detail).
    `settings` are the planner settings it runs under (restored afterwards)."""

    checks: tuple[str, ...]
    sql: str
    settings: tuple[tuple[str, str], ...] = ()


# Per transaction, one aggregate of the postings (count, sum, currencies) joined to the transactions:
# balanced, refused without postings, committed with two or more. A transaction in more than one currency
# is summed per currency on its own (through the transaction_id index); a posting whose transaction row
# is gone still shows up unbalanced (the full join), as it did in the check's own query.
_PER_TRANSACTION_SQL = f"""
    @with@per_transaction AS (
        SELECT transaction_id, count(*) AS postings, sum(amount) AS total,
               min(currency) AS currency, max(currency) AS last_currency
        FROM @postings@ GROUP BY transaction_id),
    suspect AS (
        SELECT coalesce(t.id, p.transaction_id) AS id, t.status, p.postings, p.total, p.currency, p.last_currency
        FROM per_transaction p FULL JOIN @transactions@ t ON t.id = p.transaction_id
        WHERE (p.currency = p.last_currency AND p.total <> 0) OR p.currency <> p.last_currency
           OR (t.status = 'refused' AND p.postings > 0) OR (t.status = 'committed' AND coalesce(p.postings, 0) < 2))
    SELECT '{_UNBALANCED}' AS what, s.id::text AS subject, c.currency || ' off by ' || c.total AS detail
    FROM suspect s CROSS JOIN LATERAL (
        SELECT s.currency, s.total WHERE s.currency = s.last_currency AND s.total <> 0
        UNION ALL
        SELECT currency, sum(amount) FROM ledger_postings WHERE s.currency <> s.last_currency AND transaction_id = s.id
        GROUP BY currency HAVING sum(amount) <> 0) c
    UNION ALL
    SELECT '{_REFUSED}', id::text, postings || ' postings' FROM suspect WHERE status = 'refused' AND postings > 0
    UNION ALL
    SELECT '{_TOO_FEW}', id::text, coalesce(postings, 0) || ' postings' FROM suspect
    WHERE status = 'committed' AND coalesce(postings, 0) < 2"""  # noqa: S608  (constants, no input)
_PER_TRANSACTION = Pass(
    (_UNBALANCED, _REFUSED, _TOO_FEW),
    _PER_TRANSACTION_SQL.replace("@with@", "WITH ")
    .replace("@postings@", "ledger_postings")
    .replace("@transactions@", "ledger_transactions"),
)
# The same for an incremental run, for the transactions the new postings alone cannot clear: those they
# leave unbalanced, with fewer than two postings or in two currencies, those of the window that are not
# committed or have no new postings, and those older than the window (status unknown). A transaction
# the new postings balance has no unbalanced older part: the run that checked those saw it whole.
_NEW_PER_TRANSACTION = Pass(
    (_UNBALANCED, _REFUSED, _TOO_FEW),
    _PER_TRANSACTION_SQL.replace(
        "@with@",
        """WITH new_per_transaction AS (
            SELECT transaction_id, count(*) AS postings, sum(amount) AS total,
                   min(currency) AS currency, max(currency) AS last_currency
            FROM verify_new_postings GROUP BY transaction_id),
        recent AS (SELECT id, status FROM ledger_transactions WHERE created_at >= CAST(:since AS timestamptz)),
        candidate AS (
            SELECT coalesce(p.transaction_id, r.id) AS id
            FROM new_per_transaction p FULL JOIN recent r ON r.id = p.transaction_id
            WHERE p.transaction_id IS NULL OR r.id IS NULL OR r.status <> 'committed'
               OR p.total <> 0 OR p.postings < 2 OR p.currency <> p.last_currency),
        """,
    )
    .replace("@postings@", "ledger_postings WHERE transaction_id IN (SELECT id FROM candidate)")
    .replace("@transactions@", "(SELECT * FROM ledger_transactions WHERE id IN (SELECT id FROM candidate))"),
)

# Per tracked account, its postings in id order (one hash join and one sort, not the account index:
# an account's postings lie all over the table): each balance_after against the running sum, and the
# last running sum (0 without postings) against the stored balance.
_PER_ACCOUNT = Pass(
    (_CHAIN, _BALANCE),
    f"""
    SELECT c.what, c.subject, c.detail
    FROM (
        SELECT a.id AS account_id, a.balance, p.id, p.balance_after,
               sum(p.amount) OVER w AS running, lead(p.id) OVER w IS NULL AS last
        FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
        WHERE a.balance IS NOT NULL
        WINDOW w AS (PARTITION BY a.id ORDER BY p.id)) x
    CROSS JOIN LATERAL (
        SELECT '{_CHAIN.replace("'", "''")}', x.id::text,
               'balance_after ' || x.balance_after || ', running ' || x.running
        WHERE x.id IS NOT NULL AND x.balance_after IS DISTINCT FROM x.running
        UNION ALL
        SELECT '{_BALANCE}', x.account_id::text, 'balance ' || x.balance || ', postings ' || coalesce(x.running, 0)
        WHERE x.last AND x.balance <> coalesce(x.running, 0)) AS c(what, subject, detail)
    WHERE (x.id IS NOT NULL AND x.balance_after IS DISTINCT FROM x.running)
       OR (x.last AND x.balance <> coalesce(x.running, 0))""",  # noqa: S608  (constants, no input)
    (("enable_mergejoin", "off"), ("enable_indexscan", "off")),
)
PASSES = (_PER_TRANSACTION, _PER_ACCOUNT)
_IN_A_PASS = {name for one in PASSES for name in one.checks}
# What a full run reads, the costliest first (so that two connections finish together): the passes,
# then every check no pass answers, with its own query.
FULL_RUN: tuple[Pass, ...] = PASSES + tuple(
    Pass((check.name,), check.full) for check in CHECKS if check.name not in _IN_A_PASS
)
INCREMENTAL_RUN: tuple[Pass, ...] = (
    _NEW_PER_TRANSACTION,
    *(Pass((check.name,), check.incremental) for check in CHECKS if check.name not in _NEW_PER_TRANSACTION.checks),
)
# The query that checks each invariant in a full run, by check name.
VERIFY_QUERIES: dict[str, str] = {name: one.sql for one in FULL_RUN for name in one.checks}


# ---- results ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Discrepancy:
    check: str
    subject: str
    detail: str


@dataclass(frozen=True)
class Verification:
    """What a run checked: the whole ledger (full) or the postings above `from_posting_id` (incremental),
    `postings` and `transactions` being the rows it checked."""

    transactions: int
    postings: int
    discrepancies: list[Discrepancy]
    mode: str = "full"
    from_posting_id: int | None = None
    to_posting_id: int | None = None
    checkpoint_written: bool = False
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.discrepancies


async def _read(
    conn: AsyncSession | AsyncConnection, one: Pass, limit: int, params: dict[str, Any] | None = None
) -> list[Discrepancy]:
    """One full-run read. The query is planned for all its rows (a materialised CTE: with the LIMIT in
    view the planner picks index walks that are fast to a first row and slow to the last), under the
    pass's planner settings; at most `limit` discrepancies per check come back."""
    if len(one.checks) == 1:
        sql = f"WITH found AS MATERIALIZED ({one.sql}) SELECT CAST(:check AS text), * FROM found LIMIT {int(limit)}"  # noqa: S608
    else:
        sql = f"""WITH found AS MATERIALIZED ({one.sql})
                  SELECT what, subject, detail FROM (
                      SELECT *, row_number() OVER (PARTITION BY what) AS n FROM found) AS ranked
                  WHERE n <= {int(limit)}"""  # noqa: S608  (constants, no input)
    before = {}
    for name, value in one.settings:
        before[name] = (await conn.execute(text("SELECT current_setting(:n)"), {"n": name})).scalar_one()
        await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    rows = (await conn.execute(text(sql), {**(params or {}), "check": one.checks[0]})).all()
    for name, value in before.items():
        await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    return [Discrepancy(str(check), str(subject), str(detail)) for check, subject, detail in rows]


def _in_check_order(found: list[Discrepancy]) -> list[Discrepancy]:
    order = {check.name: n for n, check in enumerate(CHECKS)}
    return sorted(found, key=lambda d: order[d.check])


async def verify(db: AsyncSession, *, limit_per_check: int = 100) -> Verification:
    """Recompute every invariant over the whole ledger on this session; report what is off (at most N per
    check). Writes nothing (the books check after every test and the fault suite use it)."""
    found: list[Discrepancy] = []
    for one in FULL_RUN:
        found.extend(await _read(db, one, limit_per_check))
    found = _in_check_order(found)
    transactions = int((await db.execute(text("SELECT count(*) FROM ledger_transactions"))).scalar_one())
    postings = int((await db.execute(text("SELECT count(*) FROM ledger_postings"))).scalar_one())
    return Verification(transactions, postings, found)


# ---- the operator's run: settled, concurrent, checkpointed -------------------------------------------


@dataclass(frozen=True)
class Checkpoint:
    posting_id: int  # every posting at or below it is final (and, once written, checked)
    settled_at: datetime  # the database's clock when that was read


async def _settle(database: Database, wait_seconds: float) -> Checkpoint:
    """The highest posting id below which nothing can still commit (the module's docstring says why)."""
    async with database.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT coalesce((SELECT max(id) FROM ledger_postings), 0) AS posting_id, now() AS at, "
                    "ARRAY(SELECT x::text FROM pg_snapshot_xip(pg_current_snapshot()) AS x) AS running"
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
    return Checkpoint(int(row.posting_id), row.at)


async def last_checkpoint(database: Database) -> Checkpoint | None:
    async with database.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT posting_id, settled_at FROM ledger_verify_checkpoints ORDER BY id DESC LIMIT 1")
            )
        ).one_or_none()
    return Checkpoint(int(row.posting_id), row.settled_at) if row else None


async def _write_checkpoint(database: Database, result: Verification, settled: Checkpoint) -> None:
    async with database.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO ledger_verify_checkpoints (mode, posting_id, settled_at, postings_checked, "
                "transactions_checked, seconds) VALUES (:mode, :posting_id, :at, :postings, :transactions, :seconds)"
            ),
            {
                "mode": result.mode,
                "posting_id": settled.posting_id,
                "at": settled.settled_at,
                "postings": result.postings,
                "transactions": result.transactions,
                "seconds": result.seconds,
            },
        )


async def verify_books(
    database: Database,
    *,
    full: bool = True,
    limit_per_check: int = 100,
    connections: int = 2,
    settle_timeout: float = SETTLE_TIMEOUT_SECONDS,
) -> Verification:
    """`croupier ledger verify`: settle, check (in full, or from the newest checkpoint), and record a new
    checkpoint when nothing was found. Incremental with no checkpoint yet runs in full."""
    started = time.perf_counter()
    checkpoint = None if full else await last_checkpoint(database)
    settled = await _settle(database, settle_timeout)
    if checkpoint is None:
        result = await _full(database, limit_per_check, connections)
    else:
        result = await _incremental(database, checkpoint, limit_per_check)
    result = _replace(result, seconds=time.perf_counter() - started)
    if result.ok:
        await _write_checkpoint(database, result, settled)
        result = _replace(result, checkpoint_written=True, to_posting_id=settled.posting_id)
    return result


def _replace(result: Verification, **changes: Any) -> Verification:
    from dataclasses import replace

    return replace(result, **changes)


async def _full(database: Database, limit: int, connections: int) -> Verification:
    """Every check over every row, on `connections` connections sharing the first one's snapshot."""
    async with database.engine.connect() as first:
        await first.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        await first.execute(text(f"SET LOCAL work_mem = '{FULL_WORK_MEM}'"))
        snapshot = (await first.execute(text("SELECT pg_export_snapshot()"))).scalar_one()
        queue: asyncio.Queue[Pass] = asyncio.Queue()
        for one in FULL_RUN:
            queue.put_nowait(one)
        found: list[Discrepancy] = []

        async def worker(conn: AsyncConnection) -> None:
            while not queue.empty():
                found.extend(await _read(conn, queue.get_nowait(), limit))

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
        await first.rollback()
    return Verification(int(counts[0]), int(counts[1]), _in_check_order(found), mode="full")


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
    # A tracked account's running balance at the checkpoint: its last posting's balance_after there. In
    # account order, so the lookups walk both indexes forward (3.7 s -> 1.4 s for a day's 166,667).
    """CREATE TEMP TABLE verify_touched_accounts ON COMMIT DROP AS
       SELECT a.id, a.currency, a.purpose, a.balance, a.allow_negative, coalesce(last.balance_after, 0) AS baseline
       FROM (SELECT DISTINCT account_id FROM verify_new_postings ORDER BY account_id) touched
       JOIN ledger_accounts a ON a.id = touched.account_id
       LEFT JOIN LATERAL (SELECT p.balance_after FROM ledger_postings p
                          WHERE p.account_id = a.id AND p.id <= :from_posting_id
                          ORDER BY p.id DESC LIMIT 1) last ON a.balance IS NOT NULL""",
    "ANALYZE verify_new_postings, verify_new_transactions, verify_touched_accounts",
)


async def _incremental(database: Database, checkpoint: Checkpoint, limit: int) -> Verification:
    """Every check over the rows new since `checkpoint`, in one snapshot."""
    params = {"from_posting_id": checkpoint.posting_id, "since": checkpoint.settled_at - CLOCK_MARGIN}
    found: list[Discrepancy] = []
    async with database.engine.connect() as conn:
        await conn.execution_options(isolation_level="REPEATABLE READ")
        for name, value in INCREMENTAL_SETTINGS:
            await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
        for statement in _NEW_ROWS:
            await conn.execute(text(statement), params)
        for one in INCREMENTAL_RUN:
            found.extend(await _read(conn, one, limit, params))
        counts = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM verify_new_transactions), (SELECT count(*) FROM verify_new_postings)"
                )
            )
        ).one()
        await conn.rollback()
    return Verification(
        int(counts[0]), int(counts[1]), found, mode="incremental", from_posting_id=checkpoint.posting_id
    )
