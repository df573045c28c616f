"""Commission run resolvers (thin: the rules live in services/affiliates/runs). A list reads a page of runs, then
their totals in one statement; a run's lines are their own connection."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError
from core.pagination import paginate
from models.affiliate_runs import AffiliateRun as RunRow
from models.affiliate_runs import AffiliateRunLine as LineRow
from resolvers.common import payload_errors, require_subject
from schema.affiliate_runs import (
    AffiliateRun,
    AffiliateRunActionInput,
    AffiliateRunLine,
    AffiliateRunPayload,
    AffiliateRunState,
    CreateAffiliateRunInput,
)
from schema.base import Connection, PageInfo, node_uuid
from schema.context import Info
from services.affiliates.runs import approval, drafts, reads, settlement


async def affiliate_runs(
    info: Info,
    states: list[AffiliateRunState] | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AffiliateRun]:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            reads.readable_runs(info.context.viewer, states or ()),
            (col(RunRow.period_start), col(RunRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        totals = await reads.totals_of(db, [r.id for r in page.items])
    return Connection.of(page, lambda r: AffiliateRun.from_model(r, totals[r.id]))


async def affiliate_run(info: Info, id: strawberry.ID) -> AffiliateRun | None:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            run = await reads.get_readable(db, info.context.viewer, node_uuid(id, "AffiliateRun"))
        except DomainError:
            return None
        return await _full(db, run)


async def affiliate_run_lines(
    info: Info,
    run_id: strawberry.ID,
    affiliate_id: strawberry.ID | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AffiliateRunLine]:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            run = await reads.get_readable(db, info.context.viewer, node_uuid(run_id, "AffiliateRun"))
        except DomainError:
            return Connection(edges=[], page_info=_empty_page())
        partner = node_uuid(affiliate_id, "Affiliate") if affiliate_id else None
        page = await paginate(
            db, reads.lines_of(run.id, partner), (col(LineRow.id),), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, AffiliateRunLine.from_model)


def _empty_page() -> PageInfo:
    return PageInfo(has_next_page=False, has_previous_page=False, start_cursor=None, end_cursor=None)


async def _full(db: AsyncSession, run: RunRow) -> AffiliateRun:
    totals = await reads.totals_of(db, [run.id])
    deals = await reads.deals_of(db, [run.id])
    payouts = await reads.payouts_of(db, [run.id])
    return AffiliateRun.from_model(run, totals[run.id], deals[run.id], payouts[run.id])


async def _answer(info: Info, run_id: uuid.UUID, *, awaiting: bool = False) -> AffiliateRunPayload:
    async with info.context.rt.database.session() as db:
        run = await reads.get_readable(db, info.context.viewer, run_id)
        return AffiliateRunPayload(run=await _full(db, run), awaiting_second_approval=awaiting)


def _brand(viewer: Viewer, given: strawberry.ID | None) -> uuid.UUID:
    if given is not None:
        return node_uuid(given, "Brand")
    if viewer.brand_id is None:
        raise DomainError("Choose the brand of the run.", field="brandId")
    return viewer.brand_id


@payload_errors(AffiliateRunPayload)
async def create_affiliate_run(info: Info, input: CreateAffiliateRunInput) -> AffiliateRunPayload:
    require_subject(info)
    viewer = info.context.viewer
    last_month = drafts.month_of(clock.now().date().replace(day=1) - timedelta(days=1))
    start: date = input.from_ or last_month[0]
    end: date = input.to or (drafts.month_of(start)[1] if input.from_ else last_month[1])
    async with info.context.rt.database.transaction() as db:
        run, _ = await drafts.create_run(db, viewer, brand_id=_brand(viewer, input.brand_id), start=start, end=end)
    return await _answer(info, run.id)


@payload_errors(AffiliateRunPayload)
async def approve_affiliate_run(info: Info, input: AffiliateRunActionInput) -> AffiliateRunPayload:
    require_subject(info)
    rt = info.context.rt
    async with rt.database.transaction() as db:
        done = await approval.approve_run(
            db,
            info.context.viewer,
            run_id=node_uuid(input.run_id, "AffiliateRun"),
            thresholds=rt.settings.affiliate_run_four_eyes_above,
            reason=input.reason,
        )
    return await _answer(info, done.run.id, awaiting=done.awaiting_second_approval)


@payload_errors(AffiliateRunPayload)
async def discard_affiliate_run(info: Info, input: AffiliateRunActionInput) -> AffiliateRunPayload:
    require_subject(info)
    run_id = node_uuid(input.run_id, "AffiliateRun")
    async with info.context.rt.database.transaction() as db:
        await drafts.discard_run(db, info.context.viewer, run_id=run_id, reason=input.reason)
    return await _answer(info, run_id)


@payload_errors(AffiliateRunPayload)
async def book_affiliate_run(info: Info, input: AffiliateRunActionInput) -> AffiliateRunPayload:
    require_subject(info)
    run = await settlement.book_run(
        info.context.rt, info.context.viewer, run_id=node_uuid(input.run_id, "AffiliateRun")
    )
    return await _answer(info, run.id)


@payload_errors(AffiliateRunPayload)
async def pay_affiliate_run(info: Info, input: AffiliateRunActionInput) -> AffiliateRunPayload:
    require_subject(info)
    run_id = node_uuid(input.run_id, "AffiliateRun")
    await settlement.pay_run(info.context.rt, info.context.viewer, run_id=run_id)
    return await _answer(info, run_id)
