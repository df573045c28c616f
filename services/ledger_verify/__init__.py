"""Verifying the books: every ledger invariant recomputed, in full or from a checkpoint.

What is checked (each check has a stable name, printed by `croupier ledger verify`; checks.py):
- every transaction balances per currency; a committed one has at least two postings, a refused one none;
- a tracked account's balance equals the sum of its postings, never goes below zero unless allowed, and
  each of its postings' `balance_after` is the running balance in posting-id order;
- a posting's currency is its account's; a pending account holds exactly its open holds;
- the cross-table checks of services/ledger_checks.py (provider transactions, payments, bonuses).

Two ways to run them (run.py):
- **full** (full.py): over every row. The postings are read in two passes (passes.py), one grouped per
  transaction and one per account (each pass answers several checks), on separate connections sharing one
  exported snapshot. Reads nothing a run wrote before: no stored balance, no checkpoint.
- **incremental** (incremental.py): from the newest checkpoint, only the postings above its position, the
  accounts and transactions they touch and the rows of the other tables created or changed since it was
  settled (less `CLOCK_MARGIN`). A touched account's running balance starts from its balance at the
  checkpoint, stored by the clean run that wrote it (checkpoints.py, `ledger_verify_balances`).

A run first settles (settle.py) so that its position never skips a posting that commits late; a clean run
records that position as the next checkpoint, with the tracked accounts' balances there, in the
transaction it checked in. A run that finds anything records nothing: the next incremental run starts
from the same place and finds it again.

What incremental does not see: a change to a row older than the checkpoint (an UPDATE or DELETE of an old
posting, transaction or provider transaction, a balance edited on an account no new posting touched), or
an edit of the stored checkpoint or balances made together with the ledger's. The full run reads none of
what runs stored and catches all of it; docs/operations.md ("Ledger verify") has the argument and says how
often to run which.
"""

from services.ledger_verify.checkpoints import Checkpoint, last_checkpoint
from services.ledger_verify.checks import CHECKS, LEDGER_CHECKS, Check
from services.ledger_verify.incremental import CLOCK_MARGIN
from services.ledger_verify.passes import FULL_RUN, INCREMENTAL_RUN, PASSES, VERIFY_QUERIES, Pass
from services.ledger_verify.results import Discrepancy, Verification
from services.ledger_verify.run import verify, verify_books

__all__ = [
    "CHECKS",
    "CLOCK_MARGIN",
    "FULL_RUN",
    "INCREMENTAL_RUN",
    "LEDGER_CHECKS",
    "PASSES",
    "VERIFY_QUERIES",
    "Check",
    "Checkpoint",
    "Discrepancy",
    "Pass",
    "Verification",
    "last_checkpoint",
    "verify",
    "verify_books",
]
