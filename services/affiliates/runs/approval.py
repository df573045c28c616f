"""Finance approves a draft run; above the threshold, two different finance people do (four eyes).

A run needs two approvals when its total in any currency is above `affiliate_run_four_eyes_above` for that
currency (a currency not listed always needs two). Approvals are rows (affiliate_run_approvals, one per person),
so the same person approving twice is refused, and the run moves to `approved` with the approval that
completes it. The run's creator may approve it: four eyes are the two approvers. Every approval is audited.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.money import parse_amount
from models.affiliate_runs import AffiliateRun, RunState
from services import audit
from services.affiliates.runs.drafts import lock_run, staff_id

_TOTALS = text("""
SELECT currency, sum(revshare + cpa_amount + second_tier) AS total FROM affiliate_run_lines
WHERE run_id = :run GROUP BY currency""")
_APPROVERS = text("SELECT staff_id FROM affiliate_run_approvals WHERE run_id = :run")
_APPROVE = text("INSERT INTO affiliate_run_approvals (run_id, staff_id, approved_at) VALUES (:run, :staff, :at)")


@dataclass(frozen=True)
class Approval:
    run: AffiliateRun
    approvals: int
    needed: int

    @property
    def awaiting_second_approval(self) -> bool:
        return self.run.state == RunState.DRAFT


async def run_totals(db: AsyncSession, run_id: uuid.UUID) -> dict[str, int]:
    found: dict[str, int] = defaultdict(int)
    for row in await db.execute(_TOTALS, {"run": run_id}):
        found[row.currency] += int(row.total)
    return dict(found)


def approvals_needed(totals: Mapping[str, int], thresholds: Mapping[str, str]) -> int:
    for currency, total in totals.items():
        raw = thresholds.get(currency)
        if raw is None or total > parse_amount(raw, currency, allow_zero=True):
            return 2
    return 1


async def approve_run(
    db: AsyncSession, viewer: Viewer, *, run_id: uuid.UUID, thresholds: Mapping[str, str], reason: str | None = None
) -> Approval:
    approver = staff_id(viewer)
    run = await lock_run(db, run_id, viewer)
    if run.state != RunState.DRAFT:
        raise DomainError(
            f"Only a draft run can be approved (this one is {run.state}).", code=ErrorCode.INVALID_STATE, field="runId"
        )
    approvers = {row.staff_id for row in await db.execute(_APPROVERS, {"run": run_id})}
    if approver in approvers:
        raise DomainError(
            "Four eyes: a second, different finance approver must approve this run.",
            code=ErrorCode.APPROVAL_REQUIRED,
            field="runId",
        )
    needed = approvals_needed(await run_totals(db, run_id), thresholds)
    now = clock.now()
    await db.execute(_APPROVE, {"run": run_id, "staff": approver, "at": now})
    approvers.add(approver)
    if len(approvers) >= needed:
        run.state, run.approved_at = RunState.APPROVED.value, now
        await db.flush()
    await audit.append(
        db,
        actor=viewer,
        action="affiliate_run.approve" if run.state == RunState.APPROVED else "affiliate_run.first_approval",
        target_type="affiliate_run",
        target_id=run.id,
        brand_id=run.brand_id,
        before={"state": RunState.DRAFT.value, "approvals": len(approvers) - 1},
        after={"state": run.state, "approvals": len(approvers), "needed": needed},
        reason=reason,
    )
    return Approval(run, len(approvers), needed)
