"""What staff and partners read of runs.

Staff: runs of the brands they may see (the brand filter is in the SQL statement), a run's deal sums, lines
and payouts. Partners: `partner_commissions`, their own lines only — the partner's id is in the WHERE clause,
aggregated by period, brand, sub-id and currency, no player in sight.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode
from models.affiliate_runs import AffiliatePayout, AffiliateRun, AffiliateRunDeal, AffiliateRunLine, RunState
from services.reports.periods import check_range


def readable_runs(viewer: Viewer, states: Sequence[RunState] = ()) -> SelectOfScalar[AffiliateRun]:
    stmt = select(AffiliateRun)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(AffiliateRun.brand_id) == viewer.brand_id)
    if states:
        stmt = stmt.where(col(AffiliateRun.state).in_([s.value for s in states]))
    return stmt


async def get_readable(db: AsyncSession, viewer: Viewer, run_id: uuid.UUID) -> AffiliateRun:
    run = (await db.execute(readable_runs(viewer).where(col(AffiliateRun.id) == run_id))).scalar_one_or_none()
    if run is None:
        raise DomainError("No such run.", code=ErrorCode.NOT_FOUND, field="runId")
    return run


def lines_of(run_id: uuid.UUID, affiliate_id: uuid.UUID | None = None) -> SelectOfScalar[AffiliateRunLine]:
    stmt = select(AffiliateRunLine).where(col(AffiliateRunLine.run_id) == run_id)
    if affiliate_id is not None:
        stmt = stmt.where(col(AffiliateRunLine.affiliate_id) == affiliate_id)
    return stmt


async def deals_of(db: AsyncSession, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AffiliateRunDeal]]:
    """The deal sums of several runs in one statement (a page of runs)."""
    found: dict[uuid.UUID, list[AffiliateRunDeal]] = {run_id: [] for run_id in run_ids}
    rows = await db.execute(
        select(AffiliateRunDeal)
        .where(col(AffiliateRunDeal.run_id).in_(run_ids))
        .order_by(col(AffiliateRunDeal.affiliate_id), col(AffiliateRunDeal.deal_id), col(AffiliateRunDeal.currency))
    )
    for row in rows.scalars():
        found[row.run_id].append(row)
    return found


async def payouts_of(db: AsyncSession, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[AffiliatePayout]]:
    found: dict[uuid.UUID, list[AffiliatePayout]] = {run_id: [] for run_id in run_ids}
    rows = await db.execute(
        select(AffiliatePayout)
        .where(col(AffiliatePayout.run_id).in_(run_ids))
        .order_by(col(AffiliatePayout.affiliate_id), col(AffiliatePayout.currency))
    )
    for row in rows.scalars():
        found[row.run_id].append(row)
    return found


_TOTALS = text("""
SELECT run_id, currency, sum(revshare + cpa_amount + second_tier) AS total, count(*) AS lines
FROM affiliate_run_lines WHERE run_id = ANY(CAST(:runs AS uuid[])) GROUP BY run_id, currency ORDER BY currency""")


async def totals_of(db: AsyncSession, run_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[tuple[str, int, int]]]:
    """Each run's total per currency and its line count (one statement for a page of runs)."""
    found: dict[uuid.UUID, list[tuple[str, int, int]]] = {run_id: [] for run_id in run_ids}
    for row in await db.execute(_TOTALS, {"runs": list(run_ids)}):
        found[row.run_id].append((row.currency, int(row.total), int(row.lines)))
    return found


@dataclass(frozen=True)
class CommissionRow:
    """A partner's commission for one period, brand, sub-id and currency."""

    period_start: date
    period_end: date
    brand: str
    sub_id: str | None
    cpa: int
    revshare: int
    second_tier: int
    total: int
    currency: str
    run_state: str


# The partner's id is part of the statement: a partner never reads another's rows, whatever it asks.
_COMMISSIONS = text("""
SELECT r.period_start, r.period_end, b.code AS brand, l.sub_id, l.currency, r.state AS run_state,
       sum(l.cpa_amount) AS cpa, sum(l.revshare) AS revshare, sum(l.second_tier) AS second_tier
FROM affiliate_run_lines l
JOIN affiliate_runs r ON r.id = l.run_id
JOIN brands b ON b.id = r.brand_id
WHERE l.affiliate_id = :affiliate AND r.state IN ('approved', 'booked', 'paid')
  AND r.period_start <= :to AND r.period_end >= :from
GROUP BY r.period_start, r.period_end, b.code, l.sub_id, l.currency, r.state
ORDER BY r.period_start DESC, b.code, l.sub_id NULLS LAST, l.currency""")


async def partner_commissions(
    conn: AsyncSession, affiliate_id: uuid.UUID, from_: date, to: date
) -> list[CommissionRow]:
    """A partner's commissions of the runs whose period meets [from_, to], by period, brand, sub-id and currency
    (second-tier earnings have no sub-id), with the run's state. Only runs finance approved: a draft's figures
    may still change or be discarded, and a partner is not shown them."""
    check_range(from_, to)
    rows = await conn.execute(_COMMISSIONS, {"affiliate": affiliate_id, "from": from_, "to": to})
    return [
        CommissionRow(
            row.period_start,
            row.period_end,
            row.brand,
            row.sub_id,
            int(row.cpa),
            int(row.revshare),
            int(row.second_tier),
            int(row.cpa) + int(row.revshare) + int(row.second_tier),
            row.currency,
            row.run_state,
        )
        for row in rows
    ]
