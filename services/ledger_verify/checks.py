"""The invariants a ledger verify checks, each with a stable name (printed by `croupier ledger verify`) and
two queries: over every row (full) and over the new rows an incremental run gathers in temporary tables
(services/ledger_verify/incremental.py)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from services.ledger_checks import CROSS_TABLE_QUERIES


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

UNBALANCED = "transaction does not balance"
BALANCE = "account balance differs from the sum of its postings"
NEGATIVE = "account is below zero"
CHAIN = "posting's balance_after breaks the running balance"
CURRENCY = "posting's currency differs from its account's"
REFUSED = "refused transaction has postings"
TOO_FEW = "committed transaction has fewer than two postings"
PENDING = "pending account differs from its open holds"

LEDGER_CHECKS: tuple[Check, ...] = (
    Check(
        UNBALANCED,
        """SELECT transaction_id::text, currency || ' off by ' || sum(amount)
           FROM ledger_postings GROUP BY transaction_id, currency HAVING sum(amount) <> 0""",
        """SELECT p.transaction_id::text, p.currency || ' off by ' || sum(p.amount)
           FROM verify_new_transactions n JOIN ledger_postings p ON p.transaction_id = n.id
           GROUP BY p.transaction_id, p.currency HAVING sum(p.amount) <> 0""",
    ),
    Check(
        BALANCE,
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
        NEGATIVE,
        "SELECT id::text, 'balance ' || balance FROM ledger_accounts WHERE balance < 0 AND NOT allow_negative",
        "SELECT id::text, 'balance ' || balance FROM verify_touched_accounts WHERE balance < 0 AND NOT allow_negative",
    ),
    Check(
        CHAIN,
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
        CURRENCY,
        """SELECT p.id::text, p.currency || ' on a ' || a.currency || ' account'
           FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id WHERE p.currency <> a.currency""",
        """SELECT p.id::text, p.currency || ' on a ' || a.currency || ' account'
           FROM verify_new_postings p JOIN verify_touched_accounts a ON a.id = p.account_id
           WHERE p.currency <> a.currency""",
    ),
    Check(
        REFUSED,
        """SELECT t.id::text, count(*) || ' postings' FROM ledger_transactions t
           JOIN ledger_postings p ON p.transaction_id = t.id WHERE t.status = 'refused' GROUP BY t.id""",
        """SELECT t.id::text, count(*) || ' postings' FROM verify_new_transactions n
           JOIN ledger_transactions t ON t.id = n.id JOIN ledger_postings p ON p.transaction_id = t.id
           WHERE t.status = 'refused' GROUP BY t.id""",
    ),
    Check(
        TOO_FEW,
        """SELECT t.id::text, count(p.id) || ' postings' FROM ledger_transactions t
           LEFT JOIN ledger_postings p ON p.transaction_id = t.id WHERE t.status = 'committed'
           GROUP BY t.id HAVING count(p.id) < 2""",
        """SELECT t.id::text, count(p.id) || ' postings' FROM verify_new_transactions n
           JOIN ledger_transactions t ON t.id = n.id LEFT JOIN ledger_postings p ON p.transaction_id = t.id
           WHERE t.status = 'committed' GROUP BY t.id HAVING count(p.id) < 2""",
    ),
    Check(
        PENDING,
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
