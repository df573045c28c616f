"""Deals: a partner and a brand on a plan from a date on. The deal in force on a day is the one with the latest
`effective_from` on or before it (`deal_in_force`, which every part of the module asks), so terms change
forward only:

- a new deal starts today at the earliest, and today only when no deal of that partner and brand is in force
  today (else part of today already ran under the old terms: it starts tomorrow). A deal never starts in
  the past (AFFILIATE_DEAL_RETROACTIVE);
- a deal that has begun is never edited nor removed; one not yet begun can be cancelled (`cancel_deal`);
- one deal per partner, brand and start date (the table's unique key; ALREADY_EXISTS).

Days are UTC days, as everywhere in the reports the runs read. Deals of a brand are read and made only by
staff scoped to it (or to every brand): the filter is in the SQL (`deals_query`). Every change is audited
and emitted (`affiliate.deal_created`, `affiliate.deal_cancelled`).
"""

from __future__ import annotations

import re
import uuid
import zlib
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import false, text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from models.affiliates import Affiliate, AffiliateDeal, AffiliateStatus
from models.brands import Brand
from services import audit
from services.affiliates.plan_store import Plan, get_plan, plan_of
from services.jackpots.books import native

_SELECT = """
SELECT d.id AS deal_id, d.affiliate_id, d.brand_id, d.effective_from, d.negative_carry_over,
       d.created_by AS deal_created_by, d.created_at AS deal_created_at, a.code AS affiliate_code,
       b.code AS brand_code,
       (SELECT min(n.effective_from) FROM affiliate_deals n WHERE n.affiliate_id = d.affiliate_id
          AND n.brand_id = d.brand_id AND n.effective_from > d.effective_from) AS next_from,
       p.id, p.code, p.name, p.kind, p.currency, p.terms, p.created_by, p.created_at
FROM affiliate_deals d JOIN affiliate_plans p ON p.id = d.plan_id
JOIN affiliates a ON a.id = d.affiliate_id JOIN brands b ON b.id = d.brand_id"""
_IN_FORCE = f"""{_SELECT}
WHERE d.affiliate_id = $1 AND d.brand_id = $2 AND d.effective_from <= $3
ORDER BY d.effective_from DESC LIMIT 1"""
_BETWEEN = f"""{_SELECT}
WHERE d.affiliate_id = $1 AND d.brand_id = $2 AND d.effective_from <= $4
  AND d.effective_from >= coalesce((SELECT max(effective_from) FROM affiliate_deals
                                    WHERE affiliate_id = $1 AND brand_id = $2 AND effective_from <= $3), $3)
ORDER BY d.effective_from"""  # noqa: S608


@dataclass(frozen=True)
class Deal:
    id: uuid.UUID
    affiliate_id: uuid.UUID
    brand_id: uuid.UUID
    plan: Plan
    effective_from: date
    negative_carry_over: bool
    created_by: uuid.UUID | None
    created_at: datetime
    affiliate_code: str
    brand_code: str
    until: date | None  # the last day it governs (the day before the next deal), None: open-ended

    def in_force(self, on: date) -> bool:
        return self.effective_from <= on and (self.until is None or on <= self.until)


@dataclass(frozen=True)
class DealPeriod:
    """The days of a period one deal governs: `start` to `end`, both included."""

    deal: Deal
    start: date
    end: date


def _deal(row: Any) -> Deal:
    return Deal(
        id=row["deal_id"],
        affiliate_id=row["affiliate_id"],
        brand_id=row["brand_id"],
        plan=plan_of(row),
        effective_from=row["effective_from"],
        negative_carry_over=row["negative_carry_over"],
        created_by=row["deal_created_by"],
        created_at=row["deal_created_at"],
        affiliate_code=row["affiliate_code"],
        brand_code=row["brand_code"],
        until=row["next_from"] - timedelta(days=1) if row["next_from"] else None,
    )


async def _fetch(conn: asyncpg.Connection | AsyncSession, sql: str, *args: Any) -> list[Any]:
    """Rows of a statement with `$n` parameters, on a consumer's asyncpg connection or an API session (which
    may be a read session outside a transaction: its own statement, counted like every other)."""
    if isinstance(conn, asyncpg.Connection):
        return list(await conn.fetch(sql, *args))
    named = re.sub(r"\$(\d+)", r":p\1", sql)
    result = await conn.execute(text(named), {f"p{i}": value for i, value in enumerate(args, start=1)})
    return list(result.mappings())


async def deal_in_force(
    conn: asyncpg.Connection | AsyncSession, affiliate_id: uuid.UUID, brand_id: uuid.UUID, on: date
) -> Deal | None:
    """The deal of a partner and brand in force on a UTC day (None: no deal then; nothing is earned)."""
    rows = await _fetch(conn, _IN_FORCE, affiliate_id, brand_id, on)
    return _deal(rows[0]) if rows else None


async def deals_between(
    conn: asyncpg.Connection | AsyncSession, affiliate_id: uuid.UUID, brand_id: uuid.UUID, start: date, end: date
) -> list[DealPeriod]:
    """The deals in force over the days `start` to `end` (included), each with the days it governs; days
    before the first deal are in none (one statement)."""
    rows = await _fetch(conn, _BETWEEN, affiliate_id, brand_id, start, end)
    deals = [_deal(row) for row in rows]
    periods = []
    for i, deal in enumerate(deals):
        until = deals[i + 1].effective_from - timedelta(days=1) if i + 1 < len(deals) else end
        periods.append(DealPeriod(deal, max(deal.effective_from, start), until))
    return [p for p in periods if p.start <= p.end]


def deals_query(
    viewer: Viewer, *, affiliate_code: str | None = None, brand_code: str | None = None
) -> SelectOfScalar[AffiliateDeal]:
    """The deals the viewer may read (staff scoped to a brand: that brand's only, in the SQL), of one partner
    and/or brand by code (an unknown code: none)."""
    stmt = select(AffiliateDeal)
    if not viewer.is_staff:
        return stmt.where(false())
    if viewer.brand_id is not None:
        stmt = stmt.where(col(AffiliateDeal.brand_id) == viewer.brand_id)
    if affiliate_code is not None:
        partner = select(Affiliate.id).where(col(Affiliate.code) == affiliate_code.strip().lower())
        stmt = stmt.where(col(AffiliateDeal.affiliate_id) == partner.scalar_subquery())
    if brand_code is not None:
        brand = select(Brand.id).where(col(Brand.code) == brand_code.strip())
        stmt = stmt.where(col(AffiliateDeal.brand_id) == brand.scalar_subquery())
    return stmt


async def get_deal(conn: asyncpg.Connection | AsyncSession, deal_id: uuid.UUID, viewer: Viewer | None = None) -> Deal:
    """A deal by id; with `viewer`, only one of a brand the viewer is scoped to (else NOT_FOUND)."""
    rows = await _fetch(conn, f"{_SELECT} WHERE d.id = $1", deal_id)
    row = rows[0] if rows else None
    if row is None or (viewer is not None and viewer.brand_id not in (None, row["brand_id"])):
        raise NotFound("No such deal.", field="dealId")
    return _deal(row)


async def deals_by_id(db: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Deal]:
    """Deals with their plans and codes, one statement (a page of deals)."""
    query = text(f"{_SELECT} WHERE d.id = ANY(CAST(:ids AS uuid[]))")
    rows = (await db.execute(query, {"ids": ids})).mappings()
    return {row["deal_id"]: _deal(row) for row in rows}


def _invalid(message: str, field: str) -> DomainError:
    return DomainError(message, code=ErrorCode.AFFILIATE_DEAL_INVALID, field=field)


def _lock_key(affiliate_id: uuid.UUID, brand_id: uuid.UUID) -> int:
    return 0x0A_F1_0000_0000 + zlib.crc32(affiliate_id.bytes + brand_id.bytes)


async def find_partner_and_brand(
    conn: asyncpg.Connection | AsyncSession, affiliate_code: str, brand_code: str
) -> tuple[uuid.UUID, uuid.UUID]:
    """The ids of a partner and a brand by their codes (the API's and the CLI's arguments)."""
    (row,) = await _fetch(
        conn,
        "SELECT (SELECT id FROM affiliates WHERE code = lower($1)) AS affiliate_id, "
        "(SELECT id FROM brands WHERE code = $2) AS brand_id",
        affiliate_code.strip(),
        brand_code.strip(),
    )
    if row["affiliate_id"] is None:
        raise NotFound("No such partner.", field="affiliateCode")
    if row["brand_id"] is None:
        raise NotFound("No such brand.", field="brandCode")
    return row["affiliate_id"], row["brand_id"]


async def create_deal(
    db: AsyncSession, *, affiliate_id: uuid.UUID, brand_id: uuid.UUID, plan_id: uuid.UUID, effective_from: date,
    negative_carry_over: bool, actor: Viewer, reason: str | None = None,
) -> Deal:  # fmt: skip
    """Put a partner on a plan for a brand from `effective_from` on (see the module's docstring for the dates)."""
    if actor.brand_id not in (None, brand_id):
        raise NotFound("No such brand.", field="brandCode")
    conn = await native(db)
    # Two deals of one partner and brand made at once must each see the other (the "today" rule).
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(affiliate_id, brand_id))
    partner = await conn.fetchrow(
        "SELECT a.status, EXISTS (SELECT 1 FROM affiliate_brands b WHERE b.affiliate_id = a.id AND b.brand_id = $2) "
        "AS on_brand FROM affiliates a WHERE a.id = $1",
        affiliate_id,
        brand_id,
    )
    if partner is None:
        raise NotFound("No such partner.", field="affiliateId")
    if partner["status"] == AffiliateStatus.CLOSED:
        raise _invalid("A closed partner gets no new deal.", "affiliateId")
    if not partner["on_brand"]:
        raise _invalid("The partner does not work with this brand.", "brandId")
    plan = await get_plan(db, plan_id)
    today = clock.now().date()
    if effective_from < today:
        raise DomainError(
            "A deal cannot start in the past: terms change forward only.",
            code=ErrorCode.AFFILIATE_DEAL_RETROACTIVE,
            field="effectiveFrom",
        )
    if effective_from == today and await deal_in_force(conn, affiliate_id, brand_id, today) is not None:
        raise DomainError(
            "Today already runs under the deal in force: the new one can start tomorrow at the earliest.",
            code=ErrorCode.AFFILIATE_DEAL_RETROACTIVE,
            field="effectiveFrom",
        )
    if await conn.fetchval(
        "SELECT 1 FROM affiliate_deals WHERE affiliate_id = $1 AND brand_id = $2 AND effective_from = $3",
        affiliate_id, brand_id, effective_from,
    ):  # fmt: skip
        raise DomainError(
            "A deal starts on that day already (cancel it first).", code=ErrorCode.ALREADY_EXISTS, field="effectiveFrom"
        )
    deal_id = new_id()
    await conn.execute(
        "INSERT INTO affiliate_deals (id, affiliate_id, brand_id, plan_id, effective_from, negative_carry_over, "
        "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        deal_id, affiliate_id, brand_id, plan.id, effective_from, negative_carry_over, actor.id, clock.now(),
    )  # fmt: skip
    data = _event_data(deal_id, affiliate_id, plan, effective_from, actor)
    await outbox.emit(
        db,
        "affiliate.deal_created",
        f"affiliate:{affiliate_id}",
        {**data, "negative_carry_over": negative_carry_over},
        brand_id=brand_id,
    )
    await audit.append(
        db, actor=actor, action="affiliate.deal.create", target_type="affiliate_deal", target_id=deal_id,
        brand_id=brand_id, after={"affiliate_id": str(affiliate_id), "plan": plan.code,
        "effective_from": effective_from.isoformat(), "negative_carry_over": negative_carry_over}, reason=reason,
    )  # fmt: skip
    return await get_deal(conn, deal_id)


def _event_data(
    deal_id: uuid.UUID, affiliate_id: uuid.UUID, plan: Plan, effective_from: date, actor: Viewer
) -> dict[str, Any]:
    return {
        "deal_id": str(deal_id),
        "affiliate_id": str(affiliate_id),
        "plan_id": str(plan.id),
        "plan_code": plan.code,
        "effective_from": effective_from.isoformat(),
        "staff_id": str(actor.id) if actor.id else None,
    }


async def cancel_deal(db: AsyncSession, *, deal_id: uuid.UUID, actor: Viewer, reason: str | None = None) -> Deal:
    """Remove a deal that has not begun (its start is after today); one that has begun stays as it was."""
    conn = await native(db)
    deal = await get_deal(conn, deal_id, actor)
    await conn.execute("SELECT pg_advisory_xact_lock($1)", _lock_key(deal.affiliate_id, deal.brand_id))
    if deal.effective_from <= clock.now().date():
        raise DomainError(
            "This deal has begun: it stays, and new terms come with a new deal.",
            code=ErrorCode.AFFILIATE_DEAL_RETROACTIVE,
            field="dealId",
        )
    await conn.execute("DELETE FROM affiliate_deals WHERE id = $1", deal_id)
    await outbox.emit(
        db,
        "affiliate.deal_cancelled",
        f"affiliate:{deal.affiliate_id}",
        _event_data(deal_id, deal.affiliate_id, deal.plan, deal.effective_from, actor),
        brand_id=deal.brand_id,
    )
    await audit.append(
        db, actor=actor, action="affiliate.deal.cancel", target_type="affiliate_deal", target_id=deal_id,
        brand_id=deal.brand_id, before={"affiliate_id": str(deal.affiliate_id), "plan": deal.plan.code,
        "effective_from": deal.effective_from.isoformat()}, reason=reason,
    )  # fmt: skip
    return deal
