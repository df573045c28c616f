"""Plans: create one (its terms validated by plans.py), read them. A plan is never edited: new terms are a new
plan, and a partner moves to it through a new deal from a later date (deals.py), so a past period keeps the
terms it ran under. Creation is audited and emits `affiliate.plan_created`.

Commands take an `AsyncSession` in an open transaction (the caller commits) and raise `DomainError`s:
AFFILIATE_PLAN_INVALID, AFFILIATE_CPA_INVALID, AFFILIATE_REVSHARE_INVALID, AFFILIATE_SECOND_TIER_INVALID,
ALREADY_EXISTS (the code is taken), NOT_FOUND.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.money import CURRENCIES
from models.affiliates import AffiliatePlan
from services import audit
from services.affiliates import plans
from services.jackpots.books import native

_CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
_COLUMNS = "id, code, name, kind, currency, terms, created_by, created_at"


@dataclass(frozen=True)
class Plan:
    id: uuid.UUID
    code: str
    name: str
    currency: str
    terms: plans.Terms
    created_by: uuid.UUID | None
    created_at: datetime

    @property
    def kind(self) -> str:
        return self.terms.kind.value


def plan_of(row: Any) -> Plan:
    """A plan from its row (`terms` as asyncpg reads JSONB without a codec: text, or already decoded) or model."""
    if isinstance(row, AffiliatePlan):
        row = row.model_dump()
    raw = row["terms"]
    return Plan(
        id=row["id"],
        code=row["code"],
        name=row["name"],
        currency=row["currency"],
        terms=plans.parse(row["kind"], json.loads(raw) if isinstance(raw, str) else raw),
        created_by=row["created_by"],
        created_at=row["created_at"],
    )


def _refuse(message: str, field: str) -> DomainError:
    return DomainError(message, code=ErrorCode.AFFILIATE_PLAN_INVALID, field=field)


def known_currency(currency: str) -> str:
    """The currency code of a plan, checked against the registry."""
    code = currency.strip().upper()
    if code not in CURRENCIES:
        raise _refuse(f"Unknown currency {currency!r}.", "currency")
    return code


async def create_plan(
    db: AsyncSession, *, code: str, name: str, currency: str, kind: str, terms: dict[str, Any], actor: Viewer,
    reason: str | None = None,
) -> Plan:  # fmt: skip
    """A new plan with validated terms (amounts in minor units of `currency`)."""
    code = code.strip().lower()
    if not _CODE.match(code):
        raise _refuse("A code is 2 to 40 lowercase letters, digits or dashes.", "code")
    if not name.strip() or len(name.strip()) > 120:
        raise _refuse("A name of 1 to 120 characters is required.", "name")
    currency = known_currency(currency)
    parsed = plans.parse(kind, terms)
    conn = await native(db)
    if await conn.fetchval("SELECT 1 FROM affiliate_plans WHERE code = $1", code):
        raise DomainError(f"A plan {code!r} exists.", code=ErrorCode.ALREADY_EXISTS, field="code")
    stored = parsed.to_json()
    plan_id = new_id()
    now = clock.now()
    await conn.execute(
        "INSERT INTO affiliate_plans (id, code, name, kind, currency, terms, created_by, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8)",
        plan_id, code, name.strip(), parsed.kind.value, currency, json.dumps(stored), actor.id, now,
    )  # fmt: skip
    await outbox.emit(
        db,
        "affiliate.plan_created",
        f"affiliate_plan:{plan_id}",
        {
            "plan_id": str(plan_id),
            "code": code,
            "kind": parsed.kind.value,
            "currency": currency,
            "terms": stored,
            "staff_id": str(actor.id) if actor.id else None,
        },
    )
    await audit.append(
        db, actor=actor, action="affiliate.plan.create", target_type="affiliate_plan", target_id=plan_id,
        after={"code": code, "name": name.strip(), "kind": parsed.kind.value, "currency": currency, "terms": stored},
        reason=reason,
    )  # fmt: skip
    return await get_plan(db, plan_id)


async def get_plan(db: AsyncSession, plan_id: uuid.UUID) -> Plan:
    row = (
        (
            await db.execute(text(f"SELECT {_COLUMNS} FROM affiliate_plans WHERE id = :id"), {"id": plan_id})  # noqa: S608
        )
        .mappings()
        .first()
    )
    if row is None:
        raise NotFound("No such plan.", field="planId")
    return plan_of(row)


def plans_query(kind: str | None = None) -> SelectOfScalar[AffiliatePlan]:
    """Every plan (plans are not per brand: a deal brings one to a brand), or those of one kind; the caller
    pages it newest first."""
    stmt = select(AffiliatePlan)
    return stmt if kind is None else stmt.where(col(AffiliatePlan.kind) == kind)
