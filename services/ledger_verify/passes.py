"""The reads of a verify: a Pass is one query answering one or more checks. A full run reads the postings
twice (per transaction, per account), each pass answering several checks, then every other check with its
own query; an incremental run reads its new rows once per check, the per-transaction checks in one pass."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.ledger_verify.checks import (
    BALANCE,
    CHAIN,
    CHECKS,
    CURRENCY,
    NEGATIVE,
    REFUSED,
    TOO_FEW,
    UNBALANCED,
)
from services.ledger_verify.results import Discrepancy


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
    SELECT '{UNBALANCED}' AS what, s.id::text AS subject, c.currency || ' off by ' || c.total AS detail
    FROM suspect s CROSS JOIN LATERAL (
        SELECT s.currency, s.total WHERE s.currency = s.last_currency AND s.total <> 0
        UNION ALL
        SELECT currency, sum(amount) FROM ledger_postings WHERE s.currency <> s.last_currency AND transaction_id = s.id
        GROUP BY currency HAVING sum(amount) <> 0) c
    UNION ALL
    SELECT '{REFUSED}', id::text, postings || ' postings' FROM suspect WHERE status = 'refused' AND postings > 0
    UNION ALL
    SELECT '{TOO_FEW}', id::text, coalesce(postings, 0) || ' postings' FROM suspect
    WHERE status = 'committed' AND coalesce(postings, 0) < 2"""  # noqa: S608  (constants, no input)
_PER_TRANSACTION = Pass(
    (UNBALANCED, REFUSED, TOO_FEW),
    _PER_TRANSACTION_SQL.replace("@with@", "WITH ")
    .replace("@postings@", "ledger_postings")
    .replace("@transactions@", "ledger_transactions"),
)
# The same for an incremental run, for the transactions the new postings alone cannot clear: those they
# leave unbalanced, with fewer than two postings or in two currencies, those of the window that are not
# committed or have no new postings, and those older than the window (status unknown). A transaction
# the new postings balance has no unbalanced older part: the run that checked those saw it whole.
# verify_new_transactions holds each one's new postings' aggregate beside its status (incremental.py).
_NEW_PER_TRANSACTION = Pass(
    (UNBALANCED, REFUSED, TOO_FEW),
    _PER_TRANSACTION_SQL.replace(
        "@with@",
        """WITH candidate AS (
            SELECT id FROM verify_new_transactions
            WHERE windowed AND (postings IS NULL OR status IS NULL OR status <> 'committed'
                                OR total <> 0 OR postings < 2 OR currency <> last_currency)),
        """,
    )
    .replace("@postings@", "ledger_postings WHERE transaction_id IN (SELECT id FROM candidate)")
    .replace("@transactions@", "(SELECT * FROM ledger_transactions WHERE id IN (SELECT id FROM candidate))"),
)
# Per touched account, its new postings in id order from its running balance at the checkpoint: each
# balance_after against the running sum, the last against the account's balance, each posting's currency
# against the account's, the balance against zero. Four checks in one read; only the postings that need an
# order are sorted: those of a tracked account with several new ones. An account with one new posting has
# its running balance without one (the baseline plus the amount), and an untracked account (the house's
# and the brand's: half of all postings) has no running balance to check, only each posting's currency.
_NEW_PER_ACCOUNT = Pass(
    (CHAIN, BALANCE, CURRENCY, NEGATIVE),
    f"""
    SELECT c.what, c.subject, c.detail
    FROM (
        SELECT p.id, p.account_id, p.currency AS posting_currency, p.balance_after,
               a.currency, a.balance, a.allow_negative, a.baseline + p.amount AS running, true AS last
        FROM verify_new_postings p JOIN verify_touched_accounts a ON a.id = p.account_id
        WHERE a.postings = 1
        UNION ALL
        SELECT p.id, p.account_id, p.currency, p.balance_after, a.currency, a.balance, a.allow_negative,
               a.baseline + sum(p.amount) OVER w, lead(p.id) OVER w IS NULL
        FROM verify_new_postings p JOIN verify_touched_accounts a ON a.id = p.account_id
        WHERE a.postings > 1 AND a.balance IS NOT NULL
        WINDOW w AS (PARTITION BY p.account_id ORDER BY p.id)
        UNION ALL
        SELECT p.id, p.account_id, p.currency, p.balance_after, a.currency, NULL, a.allow_negative, NULL, false
        FROM verify_new_postings p JOIN verify_touched_accounts a ON a.id = p.account_id
        WHERE a.postings > 1 AND a.balance IS NULL) x
    CROSS JOIN LATERAL (
        SELECT '{CHAIN.replace("'", "''")}', x.id::text,
               'balance_after ' || x.balance_after || ', running ' || x.running
        WHERE x.balance IS NOT NULL AND x.balance_after IS DISTINCT FROM x.running
        UNION ALL
        SELECT '{BALANCE}', x.account_id::text, 'balance ' || x.balance || ', postings ' || x.running
        WHERE x.last AND x.balance <> x.running
        UNION ALL
        SELECT '{CURRENCY.replace("'", "''")}', x.id::text, x.posting_currency || ' on a ' || x.currency || ' account'
        WHERE x.posting_currency <> x.currency
        UNION ALL
        SELECT '{NEGATIVE}', x.account_id::text, 'balance ' || x.balance
        WHERE x.last AND x.balance < 0 AND NOT x.allow_negative) AS c(what, subject, detail)
    WHERE (x.balance IS NOT NULL AND x.balance_after IS DISTINCT FROM x.running)
       OR (x.last AND x.balance <> x.running) OR x.posting_currency <> x.currency
       OR (x.last AND x.balance < 0 AND NOT x.allow_negative)""",  # noqa: S608  (constants, no input)
)

# Per tracked account, its postings in id order (one hash join and one sort, not the account index:
# an account's postings lie all over the table): each balance_after against the running sum, and the
# last running sum (0 without postings) against the stored balance.
_PER_ACCOUNT = Pass(
    (CHAIN, BALANCE),
    f"""
    SELECT c.what, c.subject, c.detail
    FROM (
        SELECT a.id AS account_id, a.balance, p.id, p.balance_after,
               sum(p.amount) OVER w AS running, lead(p.id) OVER w IS NULL AS last
        FROM ledger_accounts a LEFT JOIN ledger_postings p ON p.account_id = a.id
        WHERE a.balance IS NOT NULL
        WINDOW w AS (PARTITION BY a.id ORDER BY p.id)) x
    CROSS JOIN LATERAL (
        SELECT '{CHAIN.replace("'", "''")}', x.id::text,
               'balance_after ' || x.balance_after || ', running ' || x.running
        WHERE x.id IS NOT NULL AND x.balance_after IS DISTINCT FROM x.running
        UNION ALL
        SELECT '{BALANCE}', x.account_id::text, 'balance ' || x.balance || ', postings ' || coalesce(x.running, 0)
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
_NEW_PASSES = (_NEW_PER_TRANSACTION, _NEW_PER_ACCOUNT)
_IN_A_NEW_PASS = {name for one in _NEW_PASSES for name in one.checks}
INCREMENTAL_RUN: tuple[Pass, ...] = _NEW_PASSES + tuple(
    Pass((check.name,), check.incremental) for check in CHECKS if check.name not in _IN_A_NEW_PASS
)
# The query that checks each invariant in a full run, by check name.
VERIFY_QUERIES: dict[str, str] = {name: one.sql for one in FULL_RUN for name in one.checks}


def _read_sql(one: Pass, limit: int, check_param: str = "check") -> str:
    """A pass's read: planned for all its rows (a materialised CTE: with the LIMIT in view the planner picks
    index walks that are fast to a first row and slow to the last), at most `limit` rows per check, as
    (check, subject, detail)."""
    if len(one.checks) == 1:
        return (
            f"WITH found AS MATERIALIZED ({one.sql}) "  # noqa: S608  (constants, no input)
            f"SELECT CAST(:{check_param} AS text), * FROM found LIMIT {int(limit)}"
        )
    return f"""WITH found AS MATERIALIZED ({one.sql})
               SELECT what, subject, detail FROM (
                   SELECT *, row_number() OVER (PARTITION BY what) AS n FROM found) AS ranked
               WHERE n <= {int(limit)}"""  # noqa: S608  (constants, no input)


def one_statement(passes: tuple[Pass, ...], limit: int) -> tuple[str, dict[str, str]]:
    """Every pass's read in one statement (UNION ALL) and its parameters: one round trip instead of one or
    three per pass. The passes' planner settings are left out (they matter at millions of postings, which
    the full run reads with them)."""
    parts: list[str] = []
    params: dict[str, str] = {}
    for number, one in enumerate(passes):
        if len(one.checks) == 1:
            params[f"check_{number}"] = one.checks[0]
        read_sql = _read_sql(one, limit, f"check_{number}")
        parts.append(f"SELECT * FROM ({read_sql}) AS pass_{number}(what, subject, detail)")  # noqa: S608
    return "\nUNION ALL\n".join(parts), params


async def read(
    conn: AsyncSession | AsyncConnection, one: Pass, limit: int, params: dict[str, Any] | None = None
) -> list[Discrepancy]:
    """One full-run read (`_read_sql`) under the pass's planner settings."""
    sql = _read_sql(one, limit)
    before = {}
    for name, value in one.settings:
        before[name] = (await conn.execute(text("SELECT current_setting(:n)"), {"n": name})).scalar_one()
        await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    rows = (await conn.execute(text(sql), {**(params or {}), "check": one.checks[0]})).all()
    for name, value in before.items():
        await conn.execute(text("SELECT set_config(:n, :v, true)"), {"n": name, "v": value})
    return [Discrepancy(str(check), str(subject), str(detail)) for check, subject, detail in rows]


def in_check_order(found: list[Discrepancy]) -> list[Discrepancy]:
    order = {check.name: n for n, check in enumerate(CHECKS)}
    return sorted(found, key=lambda d: order[d.check])
