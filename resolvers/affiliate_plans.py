"""Affiliate plan and deal resolvers (thin: the rules live in services/affiliates). Lists read a page of ids and
then, in one statement for the page, the rows with what they show (a deal's plan, partner and brand codes)."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry
from sqlmodel import col

from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.money import InvalidAmount, parse_amount
from core.pagination import paginate
from models.affiliates import AffiliateDeal as DealRow
from models.affiliates import AffiliatePlan as PlanRow
from resolvers.common import payload_errors, require_subject
from schema.affiliate_plans import (
    AffiliateDeal,
    AffiliateDealPayload,
    AffiliatePlan,
    AffiliatePlanKind,
    AffiliatePlanPayload,
    CancelAffiliateDealInput,
    CreateAffiliateDealInput,
    CreateAffiliatePlanInput,
)
from schema.base import Connection, node_uuid
from schema.context import Info
from services.affiliates import deals, plan_store


async def affiliate_plans(
    info: Info,
    kind: AffiliatePlanKind | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AffiliatePlan]:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            plan_store.plans_query(kind.value if kind else None),
            (col(PlanRow.created_at), col(PlanRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, lambda row: AffiliatePlan.of(plan_store.plan_of(row)))


async def affiliate_plan(info: Info, id: strawberry.ID) -> AffiliatePlan | None:
    require_subject(info)
    async with info.context.rt.database.session() as db:
        try:
            return AffiliatePlan.of(await plan_store.get_plan(db, node_uuid(id, "AffiliatePlan")))
        except NotFound:
            return None


async def affiliate_deals(
    info: Info,
    affiliate_code: str | None = None,
    brand_code: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[AffiliateDeal]:
    """Deals newest start first, of one partner and/or brand; staff scoped to a brand see that brand's."""
    require_subject(info)
    viewer = info.context.viewer
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            deals.deals_query(viewer, affiliate_code=affiliate_code, brand_code=brand_code),
            (col(DealRow.effective_from), col(DealRow.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
        found = await deals.deals_by_id(db, [row.id for row in page.items])
    today = clock.now().date()
    return Connection.of(page, lambda row: AffiliateDeal.of(found[row.id], today))


async def affiliate_deal_in_force(
    info: Info, affiliate_code: str, brand_code: str, on: date | None = None
) -> AffiliateDeal | None:
    """The deal of a partner and brand in force on a day (today by default)."""
    require_subject(info)
    viewer = info.context.viewer
    today = clock.now().date()
    async with info.context.rt.database.session() as db:
        try:
            affiliate_id, brand_id = await deals.find_partner_and_brand(db, affiliate_code, brand_code)
        except DomainError:
            return None
        if viewer.brand_id not in (None, brand_id):
            return None
        deal = await deals.deal_in_force(db, affiliate_id, brand_id, on or today)
    return AffiliateDeal.of(deal, today) if deal else None


def _minor(value: str, currency: str, field: str, code: ErrorCode, *, allow_zero: bool) -> int:
    try:
        return parse_amount(value, currency, field=field, allow_zero=allow_zero)
    except InvalidAmount as exc:
        raise DomainError(exc.message, code=code, field=field) from exc


def _terms(input: CreateAffiliatePlanInput, cur: str) -> dict[str, Any]:
    """The stored form of the input's terms (money in minor units); plans.parse validates the rest."""
    terms: dict[str, Any] = {"second_tier_ppm": input.second_tier_ppm}
    if input.cpa is not None:
        code = ErrorCode.AFFILIATE_CPA_INVALID
        terms["amount"] = _minor(input.cpa.amount, cur, "cpa.amount", code, allow_zero=False)
        terms["qualification"] = {
            "min_first_deposit": _minor(
                input.cpa.min_first_deposit, cur, "cpa.qualification.minFirstDeposit", code, allow_zero=True
            ),
            "min_wagering": _minor(input.cpa.min_wagering, cur, "cpa.qualification.minWagering", code, allow_zero=True),
            "within_days": input.cpa.within_days,
        }
    if input.revshare is not None:
        rev = input.revshare
        spec: dict[str, Any] = {"kind": rev.kind.value}
        if rev.rate_ppm is not None:
            spec["rate_ppm"] = rev.rate_ppm
        if rev.tiers is not None:
            code = ErrorCode.AFFILIATE_REVSHARE_INVALID
            spec["tiers"] = [
                {
                    "from_ngr": _minor(t.from_ngr, cur, f"revshare.tiers[{i}].fromNgr", code, allow_zero=True),
                    "rate_ppm": t.rate_ppm,
                }
                for i, t in enumerate(rev.tiers)
            ]
        terms["revshare"] = spec
    return terms


@payload_errors(AffiliatePlanPayload)
async def create_affiliate_plan(info: Info, input: CreateAffiliatePlanInput) -> AffiliatePlanPayload:
    require_subject(info)
    currency = plan_store.known_currency(input.currency)
    terms = _terms(input, currency)
    async with info.context.rt.database.transaction() as db:
        plan = await plan_store.create_plan(
            db, code=input.code, name=input.name, currency=currency, kind=input.kind.value, terms=terms,
            actor=info.context.viewer, reason=input.reason,
        )  # fmt: skip
    return AffiliatePlanPayload(plan=AffiliatePlan.of(plan))


@payload_errors(AffiliateDealPayload)
async def create_affiliate_deal(info: Info, input: CreateAffiliateDealInput) -> AffiliateDealPayload:
    require_subject(info)
    plan_id = node_uuid(input.plan_id, "AffiliatePlan")
    async with info.context.rt.database.transaction() as db:
        affiliate_id, brand_id = await deals.find_partner_and_brand(db, input.affiliate_code, input.brand_code)
        deal = await deals.create_deal(
            db, affiliate_id=affiliate_id, brand_id=brand_id, plan_id=plan_id, effective_from=input.effective_from,
            negative_carry_over=input.negative_carry_over, actor=info.context.viewer, reason=input.reason,
        )  # fmt: skip
    return AffiliateDealPayload(deal=AffiliateDeal.of(deal, clock.now().date()))


@payload_errors(AffiliateDealPayload)
async def cancel_affiliate_deal(info: Info, input: CancelAffiliateDealInput) -> AffiliateDealPayload:
    require_subject(info)
    deal_id = node_uuid(input.deal_id, "AffiliateDeal")
    async with info.context.rt.database.transaction() as db:
        deal = await deals.cancel_deal(db, deal_id=deal_id, actor=info.context.viewer, reason=input.reason)
    return AffiliateDealPayload(deal=AffiliateDeal.of(deal, clock.now().date()))
