"""Making a run (a draft) and throwing one away.

A run covers one brand and one period (any from/to; a calendar month by default). Periods of a brand's runs
never overlap (a discarded run aside), so a day's NGR is commissioned once; runs of a brand are taken one at a
time (an advisory lock per brand), and a run starts only once every earlier run of the brand is approved,
because its carry-over in comes from them. Runs go forward only: a period before (or overlapping) a run already
made is refused, since that run took the carry-over the new one would take again (a loss deducted twice) and
nothing would take the new one's carry-out.

What a draft reads, all in its one transaction:
- the report projections `report_player_days` of the players attributed to a partner on the brand;
- the brand's deals and their plans (the deal in force on each day: statement.py);
- each deal's carry-over left by the brand's latest earlier run that settled it;
- the CPA qualifications of the brand with status `qualified`, qualified by the period's end, never paid:
  a line that pays a CPA is unique per player (uq_affiliate_run_lines_cpa), so a CPA is paid once, ever;
- the partners' parents (second tier).
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.ids import new_id
from models.affiliate_runs import AffiliateRun, RunState
from services import audit
from services.affiliates.plans import parse
from services.affiliates.runs import statement as st
from services.reports import fx, projection
from services.reports.periods import check_range

_DAYS = text("""
SELECT d.player_id, a.affiliate_id, a.sub_id, d.day, d.currency, d.stakes, d.wins, d.bonus_cost
FROM report_player_days d JOIN affiliate_attributions a ON a.player_id = d.player_id
WHERE a.brand_id = :brand AND d.brand_id = :brand AND d.day BETWEEN :start AND :end
ORDER BY d.player_id, d.day, d.currency""")
_DEALS = text("""
SELECT d.id, d.affiliate_id, d.plan_id, d.effective_from, d.negative_carry_over, p.code, p.kind, p.currency, p.terms
FROM affiliate_deals d JOIN affiliate_plans p ON p.id = d.plan_id
WHERE d.brand_id = :brand AND d.effective_from <= :end""")
# Each deal's carry-over from the latest earlier run (not discarded) that settled it in that currency.
_CARRIES = text("""
SELECT DISTINCT ON (rd.deal_id, rd.currency) rd.deal_id, rd.currency, rd.carry_out
FROM affiliate_run_deals rd JOIN affiliate_runs r ON r.id = rd.run_id
WHERE r.brand_id = :brand AND r.state <> 'discarded' AND r.period_end < :start
ORDER BY rd.deal_id, rd.currency, r.period_end DESC""")
_CPAS = text("""
SELECT q.player_id, q.affiliate_id, a.sub_id, q.deal_id, q.amount, q.currency,
       (q.qualified_at AT TIME ZONE 'UTC')::date AS qualified_on
FROM affiliate_qualifications q LEFT JOIN affiliate_attributions a ON a.player_id = q.player_id
WHERE q.brand_id = :brand AND q.status = 'qualified' AND q.amount > 0 AND q.qualified_at < :until
  AND NOT EXISTS (SELECT 1 FROM affiliate_run_lines l WHERE l.player_id = q.player_id AND l.cpa)
ORDER BY q.qualified_at, q.player_id""")
# The projection's low watermark over the period: the first event of the period it has not applied yet.
_BEHIND = text("""
SELECT min(o.created_at) FROM outbox_events o
WHERE o.created_at >= :since AND o.created_at < :until AND o.topic = ANY(CAST(:types AS varchar[]))
  AND o.schema_version > 0
  AND o.id > coalesce((SELECT cursor FROM event_consumers WHERE name = :consumer), 0)
  AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = :consumer AND p.event_id = o.id)""")
_PARENTS = text("SELECT id, parent_id FROM affiliates WHERE parent_id IS NOT NULL")
_CLASHES = text("""
SELECT id, state, period_start, period_end FROM affiliate_runs
WHERE brand_id = :brand AND state <> 'discarded'
  AND (period_end >= :start OR state = 'draft')
ORDER BY period_start LIMIT 1""")
_INSERT_DEAL = text("""
INSERT INTO affiliate_run_deals (run_id, deal_id, currency, affiliate_id, plan_id, negative_carry_over, ngr,
                                 carry_in, base, revshare, carry_out, tier, rate_ppm)
VALUES (:run, :deal, :currency, :affiliate, :plan, :nco, :ngr, :carry_in, :base, :revshare, :carry_out, :tier,
        :rate)""")
LINE_COLUMNS = (
    "affiliate_id",
    "kind",
    "player_id",
    "sub_affiliate_id",
    "deal_id",
    "plan_id",
    "sub_id",
    "currency",
    "first_day",
    "last_day",
    "stakes",
    "wins",
    "bonus_cost",
    "ngr",
    "revshare",
    "cpa",
    "cpa_amount",
    "second_tier_base",
    "second_tier",
    "tier",
    "rate_ppm",
    "player_currency",
    "fx_rate",
)
_INSERT_LINE = text(
    f"INSERT INTO affiliate_run_lines (run_id, {', '.join(LINE_COLUMNS)}) "  # noqa: S608  (constant column names)
    f"VALUES (:run, {', '.join(':' + c for c in LINE_COLUMNS)})"
)


def month_of(day: date) -> tuple[date, date]:
    """The calendar month a day falls in: a run's default period."""
    start = day.replace(day=1)
    following = (start + timedelta(days=32)).replace(day=1)
    return start, following - timedelta(days=1)


def staff_id(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Only staff run commissions.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


def check_brand(viewer: Viewer, brand_id: uuid.UUID) -> None:
    if viewer.brand_id is not None and viewer.brand_id != brand_id:
        raise DomainError("No such run.", code=ErrorCode.NOT_FOUND, field="runId")


async def lock_brand_runs(db: AsyncSession, brand_id: uuid.UUID) -> None:
    """The brand's runs taken one at a time, until the commit. Antifraud's withholding takes it too
    (services/affiliates/fraud.py `withhold`): else a draft reading a CPA as qualified and a flag withholding
    it, neither seeing the other's uncommitted work, would both commit: a withheld CPA on a run, paid."""
    await db.execute(
        text("SELECT pg_advisory_xact_lock(hashtext('affiliate-runs:' || :brand))"), {"brand": str(brand_id)}
    )


async def create_run(
    db: AsyncSession, viewer: Viewer, *, brand_id: uuid.UUID, start: date, end: date
) -> tuple[AffiliateRun, st.Statement]:
    """A draft run of the brand's partners over [start, end], its statement written with it."""
    actor = staff_id(viewer)
    check_brand(viewer, brand_id)
    check_range(start, end)
    if end >= clock.now().date():
        raise DomainError(
            "A run covers days that are over: it ends before today.", code=ErrorCode.INVALID_INPUT, field="to"
        )
    await lock_brand_runs(db, brand_id)
    await check_projected(db, start, end)
    params: dict[str, Any] = {"brand": brand_id, "start": start, "end": end}
    clash = (await db.execute(_CLASHES, params)).first()
    if clash is not None:
        raise DomainError(
            f"The brand's run {clash.id} ({clash.period_start} to {clash.period_end}, {clash.state}) overlaps or "
            "follows this period, or waits for approval: runs go forward, one approved after another.",
            code=ErrorCode.INVALID_STATE,
        )
    statement = await compute(db, brand_id=brand_id, start=start, end=end)
    run = AffiliateRun(id=new_id(), brand_id=brand_id, period_start=start, period_end=end, created_by=actor)
    db.add(run)
    await db.flush()
    await write_statement(db, run.id, statement)
    await audit.append(
        db,
        actor=viewer,
        action="affiliate_run.create",
        target_type="affiliate_run",
        target_id=run.id,
        brand_id=brand_id,
        after=_summary(run, statement),
    )
    return run, statement


async def check_projected(db: AsyncSession, start: date, end: date) -> None:
    """Refuse (PROJECTION_BEHIND) while the report projection has not applied every event of the period committed
    so far: a run read from it now would miss that play for good. The message gives its watermark."""
    since = datetime.combine(start, time(), UTC)
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    params = {"since": since, "until": until, "types": sorted(projection.TYPES), "consumer": projection.NAME}
    behind = await db.scalar(_BEHIND, params)
    if behind is not None:
        raise DomainError(
            f"The report projection has applied the period's events only up to {behind.isoformat()} (before the "
            f"period's end, {until.isoformat()}): run it again once it has caught up.",
            code=ErrorCode.PROJECTION_BEHIND,
        )


async def compute(db: AsyncSession, *, brand_id: uuid.UUID, start: date, end: date) -> st.Statement:
    """The statement of a period, from the projections and the deals (nothing written)."""
    params: dict[str, Any] = {"brand": brand_id, "start": start, "end": end}
    deals = [
        st.Deal(
            row.id,
            row.affiliate_id,
            row.plan_id,
            row.effective_from,
            row.negative_carry_over,
            row.currency,
            parse(row.kind, row.terms),
        )
        for row in await db.execute(_DEALS, params)
    ]
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    days = [st.PlayerDay(*row) for row in await db.execute(_DAYS, params)]
    wanted = {day.currency for day in days} | {deal.plan_currency for deal in deals}
    rates = await fx.load_rates(db, wanted, start, end) if len(wanted) > 1 else fx.RateBook()
    return st.build(
        days=days,
        timeline=st.Timeline(deals),
        carries={(r.deal_id, r.currency): int(r.carry_out) for r in await db.execute(_CARRIES, params)},
        cpas=[st.Cpa(*row) for row in await db.execute(_CPAS, {"brand": brand_id, "until": until})],
        parents={row.id: row.parent_id for row in await db.execute(_PARENTS)},
        period_start=start,
        period_end=end,
        rates=rates,
    )


async def write_statement(db: AsyncSession, run_id: uuid.UUID, statement: st.Statement) -> None:
    if statement.deals:
        await db.execute(
            _INSERT_DEAL,
            [
                {
                    "run": run_id,
                    "deal": row.deal.id,
                    "currency": row.currency,
                    "affiliate": row.deal.affiliate_id,
                    "plan": row.deal.plan_id,
                    "nco": row.deal.negative_carry_over,
                    "ngr": row.sums.ngr,
                    "carry_in": row.sums.carry_in,
                    "base": row.sums.base,
                    "revshare": row.sums.revshare,
                    "carry_out": row.sums.carry_out,
                    "tier": row.sums.tier,
                    "rate": row.sums.rate_ppm,
                }
                for row in statement.deals
            ],
        )
    if statement.lines:
        await db.execute(
            _INSERT_LINE, [{"run": run_id, **{c: getattr(line, c) for c in LINE_COLUMNS}} for line in statement.lines]
        )


async def discard_run(db: AsyncSession, viewer: Viewer, *, run_id: uuid.UUID, reason: str | None) -> AffiliateRun:
    """A draft thrown away: its lines go (their CPAs become payable again), the run stays, discarded."""
    staff_id(viewer)
    run = await lock_run(db, run_id, viewer)
    if run.state != RunState.DRAFT:
        raise DomainError(
            f"Only a draft can be discarded (this run is {run.state}).", code=ErrorCode.INVALID_STATE, field="runId"
        )
    for table in ("affiliate_run_lines", "affiliate_run_deals", "affiliate_run_approvals"):
        await db.execute(text(f"DELETE FROM {table} WHERE run_id = :run"), {"run": run_id})  # noqa: S608
    run.state = RunState.DISCARDED.value
    await db.flush()
    await audit.append(
        db,
        actor=viewer,
        action="affiliate_run.discard",
        target_type="affiliate_run",
        target_id=run.id,
        brand_id=run.brand_id,
        before={"state": RunState.DRAFT.value},
        after={"state": run.state},
        reason=reason,
    )
    return run


async def lock_run(db: AsyncSession, run_id: uuid.UUID, viewer: Viewer) -> AffiliateRun:
    run = await db.get(AffiliateRun, run_id, with_for_update=True, populate_existing=True)
    if run is None:
        raise DomainError("No such run.", code=ErrorCode.NOT_FOUND, field="runId")
    check_brand(viewer, run.brand_id)
    return run


def _summary(run: AffiliateRun, statement: st.Statement) -> dict[str, Any]:
    return {
        "period": [run.period_start.isoformat(), run.period_end.isoformat()],
        "lines": len(statement.lines),
        "totals": {f"{a}:{c}": amount for (a, c), amount in sorted(statement.totals().items(), key=str)},
    }
