"""Affiliate partners: who they are (company, contacts), how they are paid (payout currency, method and
details), which brands they promote, and who brought them in (`parent`, whose second tier earns on them).

Invariants: a partner's `code` is unique, lower-case, URL-safe and never changes (links, postbacks and the
Hub88 `affiliate_id` carry it); a parent is another partner and the chain of parents never loops; a partner
works with at least one brand. Status: active ⇄ suspended → closed (closed is final: its links answer 404).
Staff scoped to a brand see and manage the partners of that brand only — `readable_partners` puts that filter
in the SQL statement. Every change is audited (services/audit.py).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, exists, false, func, insert, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode, NotFound
from core.money import currency as currency_of
from core.runtime import Runtime
from models.affiliates import Affiliate, AffiliateBrand, AffiliateStatus
from services import audit

CODE = re.compile(r"^[a-z0-9][a-z0-9-]{1,39}$")
PAYOUT_DETAILS_MAX_KEYS = 20
PAYOUT_DETAIL_MAX_LENGTH = 200
# Status changes staff may make; closed is final.
TRANSITIONS = {
    AffiliateStatus.ACTIVE: {AffiliateStatus.SUSPENDED, AffiliateStatus.CLOSED},
    AffiliateStatus.SUSPENDED: {AffiliateStatus.ACTIVE, AffiliateStatus.CLOSED},
    AffiliateStatus.CLOSED: set(),
}


@dataclass(frozen=True)
class PartnerDraft:
    """A partner as staff describe it. For an update, None keeps what is there (`code` never changes)."""

    code: str | None = None
    company: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    payout_currency: str | None = None
    payout_method: str | None = None
    payout_details: dict[str, str] | None = None
    brand_ids: list[uuid.UUID] | None = None
    parent_id: uuid.UUID | None = None
    clear_parent: bool = False


# ---- reads ---------------------------------------------------------------------------------------


def in_brand(brand_id: uuid.UUID) -> Any:
    """SQL: the partner works with this brand."""
    return exists().where(
        col(AffiliateBrand.affiliate_id) == col(Affiliate.id), col(AffiliateBrand.brand_id) == brand_id
    )


def readable_partners(viewer: Viewer) -> SelectOfScalar[Affiliate]:
    """The partners a viewer may read, as SQL: global staff and the platform all, brand staff their brand's."""
    stmt = select(Affiliate)
    if viewer.is_staff or viewer.kind == "system":
        return stmt if viewer.brand_id is None else stmt.where(in_brand(viewer.brand_id))
    return stmt.where(false())


def listed(viewer: Viewer, statuses: Sequence[AffiliateStatus] = (), search: str | None = None) -> Any:
    """The partners a viewer may read, filtered by status and by a code or company containing `search`."""
    stmt = readable_partners(viewer)
    if statuses:
        stmt = stmt.where(col(Affiliate.status).in_([s.value for s in statuses]))
    term = (search or "").strip().lower()
    if term:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        stmt = stmt.where(col(Affiliate.code).like(pattern) | func.lower(col(Affiliate.company)).like(pattern))
    return stmt


async def get(db: AsyncSession, affiliate_id: uuid.UUID, *, lock: bool = False) -> Affiliate:
    """A partner by id (any viewer's scope: for services acting on a partner already authorised), or NOT_FOUND."""
    stmt = select(Affiliate).where(col(Affiliate.id) == affiliate_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = await db.scalar(stmt)
    if found is None:
        raise NotFound("No such partner.", field="affiliateId")
    return found


async def get_readable(db: AsyncSession, viewer: Viewer, affiliate_id: uuid.UUID, *, lock: bool = False) -> Affiliate:
    """A partner the viewer may read (locked for a change), or NOT_FOUND — the same answer as a missing one."""
    stmt = readable_partners(viewer).where(col(Affiliate.id) == affiliate_id)
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    found = await db.scalar(stmt)
    if found is None:
        raise NotFound("No such partner.", field="affiliateId")
    return found


async def by_code(db: AsyncSession, code: str) -> Affiliate | None:
    return await db.scalar(select(Affiliate).where(col(Affiliate.code) == code.strip().lower()))


async def brand_ids(db: AsyncSession, affiliate_id: uuid.UUID) -> list[uuid.UUID]:
    return (await brands_of(db, [affiliate_id])).get(affiliate_id, [])


async def brands_of(db: AsyncSession, affiliate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    """The brands of a page of partners (one statement)."""
    if not affiliate_ids:
        return {}
    rows = await db.execute(
        select(col(AffiliateBrand.affiliate_id), col(AffiliateBrand.brand_id)).where(
            col(AffiliateBrand.affiliate_id).in_(list(affiliate_ids))
        )
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = {}
    for affiliate_id, brand_id in rows.all():
        found.setdefault(affiliate_id, []).append(brand_id)
    return found


async def many(db: AsyncSession, affiliate_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Affiliate]:
    if not affiliate_ids:
        return {}
    rows = await db.execute(select(Affiliate).where(col(Affiliate.id).in_(list(set(affiliate_ids)))))
    return {a.id: a for a in rows.scalars()}


# ---- validation ----------------------------------------------------------------------------------


def normalise_email(email: str, *, field: str, test_domains: bool) -> str:
    """A partner's or portal user's email, lower-cased; `test_domains` (outside production) accepts the
    reserved `.test` domain the demo partner uses."""
    try:
        found = validate_email(email.strip(), check_deliverability=False, test_environment=test_domains)
    except EmailNotValidError as exc:
        raise DomainError("Enter a valid email address.", field=field) from exc
    return found.normalized.lower()


def _text(value: str | None, name: str, maximum: int, *, required: bool = False) -> str | None:
    value = (value or "").strip() or None
    if value is None and required:
        raise DomainError("Required.", field=name)
    if value is not None and len(value) > maximum:
        raise DomainError(f"At most {maximum} characters.", field=name)
    return value


def _payout_details(details: dict[str, str]) -> dict[str, str]:
    if len(details) > PAYOUT_DETAILS_MAX_KEYS:
        raise DomainError(f"At most {PAYOUT_DETAILS_MAX_KEYS} payout details.", field="payoutDetails")
    clean: dict[str, str] = {}
    for key, value in details.items():
        key = key.strip()
        if not key or len(key) > 64 or len(str(value)) > PAYOUT_DETAIL_MAX_LENGTH:
            raise DomainError("Each payout detail is a name (≤ 64) and a value (≤ 200).", field="payoutDetails")
        clean[key] = str(value).strip()
    return clean


async def _check_brands(db: AsyncSession, viewer: Viewer, wanted: list[uuid.UUID]) -> list[uuid.UUID]:
    wanted = list(dict.fromkeys(wanted))
    if not wanted:
        raise DomainError("A partner works with at least one brand.", field="brandIds")
    if viewer.brand_id is not None and any(b != viewer.brand_id for b in wanted):
        raise NotFound("No such brand.", field="brandIds")
    known = set((await db.execute(text("SELECT id FROM brands WHERE id = ANY(:ids)"), {"ids": wanted})).scalars())
    if set(wanted) - known:
        raise NotFound("No such brand.", field="brandIds")
    return wanted


async def _check_parent(db: AsyncSession, viewer: Viewer, partner_id: uuid.UUID | None, parent_id: uuid.UUID) -> None:
    """The parent is a partner the viewer may read, and making it the parent closes no loop."""
    await get_readable(db, viewer, parent_id)
    if partner_id is None:
        return
    chain = await db.execute(
        text(
            "WITH RECURSIVE up(id, parent_id) AS ("
            " SELECT id, parent_id FROM affiliates WHERE id = :parent"
            " UNION SELECT a.id, a.parent_id FROM affiliates a JOIN up ON a.id = up.parent_id)"
            " SELECT id FROM up"
        ),
        {"parent": parent_id},
    )
    if partner_id in set(chain.scalars()):
        raise DomainError("A partner cannot be its own parent, even through others.", field="parentId")


def _snapshot(a: Affiliate, brands: list[uuid.UUID]) -> dict[str, Any]:
    return {
        "company": a.company,
        "status": a.status,
        "contact_name": a.contact_name,
        "contact_email": a.contact_email,
        "contact_phone": a.contact_phone,
        "payout_currency": a.payout_currency,
        "payout_method": a.payout_method,
        "payout_details": dict(a.payout_details),
        "parent_id": str(a.parent_id) if a.parent_id else None,
        "brands": sorted(str(b) for b in brands),
    }


async def _apply(
    rt: Runtime, db: AsyncSession, viewer: Viewer, a: Affiliate, draft: PartnerDraft, *, creating: bool
) -> None:
    """Validate the draft's fields and set them on the row (None keeps a field, except when creating)."""
    if draft.company is not None or creating:
        a.company = _text(draft.company, "company", 200, required=True) or ""
    if draft.contact_email is not None or creating:
        a.contact_email = normalise_email(
            draft.contact_email or "", field="contactEmail", test_domains=not rt.settings.is_production
        )
    if draft.contact_name is not None:
        a.contact_name = _text(draft.contact_name, "contactName", 120)
    if draft.contact_phone is not None:
        a.contact_phone = _text(draft.contact_phone, "contactPhone", 32)
    if draft.payout_currency is not None or creating:
        a.payout_currency = currency_of(draft.payout_currency or "", field="payoutCurrency").code
    if draft.payout_method is not None:
        a.payout_method = _text(draft.payout_method, "payoutMethod", 32)
    if draft.payout_details is not None:
        a.payout_details = _payout_details(draft.payout_details)
    if draft.clear_parent:
        a.parent_id = None
    elif draft.parent_id is not None:
        await _check_parent(db, viewer, None if creating else a.id, draft.parent_id)
        a.parent_id = draft.parent_id


async def _set_brands(db: AsyncSession, affiliate_id: uuid.UUID, wanted: list[uuid.UUID]) -> None:
    await db.execute(delete(AffiliateBrand).where(col(AffiliateBrand.affiliate_id) == affiliate_id))
    await db.execute(insert(AffiliateBrand), [{"affiliate_id": affiliate_id, "brand_id": b} for b in wanted])


# ---- commands ------------------------------------------------------------------------------------


async def create(rt: Runtime, viewer: Viewer, draft: PartnerDraft) -> Affiliate:
    """A new active partner (audited `affiliate.create`)."""
    code = (draft.code or "").strip().lower()
    if not CODE.match(code):
        raise DomainError(
            "A code is 2 to 40 lower-case letters, digits and hyphens, starting with a letter or digit.", field="code"
        )
    try:
        async with rt.database.transaction() as db:
            wanted = await _check_brands(db, viewer, draft.brand_ids or [])
            partner = Affiliate(code=code, company="", contact_email="", payout_currency="")
            partner.created_by = viewer.id if viewer.is_staff else None
            await _apply(rt, db, viewer, partner, draft, creating=True)
            db.add(partner)
            await db.flush()
            await _set_brands(db, partner.id, wanted)
            await audit.append(
                db,
                actor=viewer,
                action="affiliate.create",
                target_type="affiliate",
                target_id=partner.id,
                brand_id=viewer.brand_id,
                after={"code": code, **_snapshot(partner, wanted)},
            )
    except IntegrityError as exc:
        raise DomainError("A partner with this code exists.", field="code", code=ErrorCode.ALREADY_EXISTS) from exc
    return partner


async def update(rt: Runtime, viewer: Viewer, affiliate_id: uuid.UUID, draft: PartnerDraft) -> Affiliate:
    """Change a partner's details, brands or parent (audited `affiliate.update` with before and after); a closed
    partner is kept as it was (INVALID_STATE)."""
    async with rt.database.transaction() as db:
        partner = await get_readable(db, viewer, affiliate_id, lock=True)
        if partner.status == AffiliateStatus.CLOSED.value:
            raise DomainError("The partner is closed.", field="affiliateId", code=ErrorCode.INVALID_STATE)
        brands = await brand_ids(db, partner.id)
        before = _snapshot(partner, brands)
        await _apply(rt, db, viewer, partner, draft, creating=False)
        if draft.brand_ids is not None:
            wanted = await _check_brands(db, viewer, draft.brand_ids)
            if viewer.brand_id is not None:  # brand staff change their brand only; the others stay
                wanted = sorted({*wanted, *(b for b in brands if b != viewer.brand_id)})
            await _set_brands(db, partner.id, wanted)
            brands = wanted
        after = _snapshot(partner, brands)
        if after != before:
            partner.version += 1
            await db.flush()
            await audit.append(
                db,
                actor=viewer,
                action="affiliate.update",
                target_type="affiliate",
                target_id=partner.id,
                brand_id=viewer.brand_id,
                before={k: v for k, v in before.items() if after[k] != v},
                after={k: v for k, v in after.items() if before[k] != v},
            )
    return partner


async def set_status(
    rt: Runtime, viewer: Viewer, affiliate_id: uuid.UUID, status: AffiliateStatus, reason: str
) -> Affiliate:
    """Suspend, reactivate or close a partner (audited with the reason). Suspended: links redirect but record
    nothing and attribute nobody. Closed: final; links answer 404 and portal users can no longer sign in."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Give a reason.", field="reason")
    async with rt.database.transaction() as db:
        partner = await get_readable(db, viewer, affiliate_id, lock=True)
        current = AffiliateStatus(partner.status)
        if status == current:
            return partner
        if status not in TRANSITIONS[current]:
            raise DomainError(
                f"A {current.value} partner cannot become {status.value}.", field="status", code=ErrorCode.INVALID_STATE
            )
        partner.status = status.value
        partner.version += 1
        await db.flush()
        await audit.append(
            db,
            actor=viewer,
            action="affiliate.status",
            target_type="affiliate",
            target_id=partner.id,
            brand_id=viewer.brand_id,
            before={"status": current.value},
            after={"status": status.value},
            reason=reason,
        )
    return partner
