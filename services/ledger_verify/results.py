"""What a verify reports."""

from __future__ import annotations

from dataclasses import dataclass


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
    note: str = ""  # why an incremental run ran in full, when it had a checkpoint to start from

    @property
    def ok(self) -> bool:
        return not self.discrepancies
