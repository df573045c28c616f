"""The partner's own tracking links, as the portal and API tokens see them.

affcore's services/affiliates/links.py is the staff side (create for any partner, archive); this module is
the partner side of the same table, with the same rules for a tag and a landing path (`links.checked`) and
a link only on a brand the partner promotes. Every statement filters by the viewer's partner in its WHERE
clause.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from core.errors import DomainError, ErrorCode
from models.affiliates import AffiliateLink
from models.brands import Brand
from services.affiliates import links


def listed(affiliate_id: uuid.UUID, *, include_archived: bool) -> SelectOfScalar[AffiliateLink]:
    stmt = select(AffiliateLink).where(col(AffiliateLink.affiliate_id) == affiliate_id)
    if not include_archived:
        stmt = stmt.where(col(AffiliateLink.archived_at).is_(None))
    return stmt


async def brand_codes(db: AsyncSession, brand_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = list(set(brand_ids))
    if not ids:
        return {}
    rows = await db.execute(select(col(Brand.id), col(Brand.code)).where(col(Brand.id).in_(ids)))
    return {row.id: row.code for row in rows}


_PARTNER_BRAND = text("""
SELECT b.id, a.status FROM affiliates a
JOIN affiliate_brands ab ON ab.affiliate_id = a.id
JOIN brands b ON b.id = ab.brand_id
WHERE a.id = :affiliate AND b.code = :brand""")


async def create(
    db: AsyncSession,
    *,
    affiliate_id: uuid.UUID,
    brand_code: str,
    tag: str,
    landing_path: str,
) -> AffiliateLink:
    tag, landing_path = links.checked(tag, landing_path)
    found = (await db.execute(_PARTNER_BRAND, {"affiliate": affiliate_id, "brand": brand_code.strip()})).first()
    if found is None:
        raise DomainError("The partner does not promote this brand.", field="brandCode", code=ErrorCode.NOT_FOUND)
    if found.status != "active":
        raise DomainError(f"The partner is {found.status}: no new links.", code=ErrorCode.ACCOUNT_BLOCKED)
    link = AffiliateLink(
        affiliate_id=affiliate_id,
        brand_id=found.id,
        code=links.new_code(),
        tag=tag,
        landing_path=landing_path,
        created_by=None,  # names staff on this table; a portal user is not one
    )
    try:
        async with db.begin_nested():
            db.add(link)
            await db.flush()
    except IntegrityError as exc:
        raise DomainError(
            "The partner already has a link with this tag on this brand.", field="tag", code=ErrorCode.ALREADY_EXISTS
        ) from exc
    return link
