"""The partner an affiliate viewer acts for, as its portal shows it: no payout details, no contacts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import NotFound


@dataclass(frozen=True)
class PortalPartner:
    id: uuid.UUID
    code: str
    company: str
    status: str
    payout_currency: str
    brands: tuple[str, ...]


_PARTNER = text("""
SELECT a.id, a.code, a.company, a.status, a.payout_currency,
       coalesce(array_agg(b.code ORDER BY b.code) FILTER (WHERE b.code IS NOT NULL), '{}') AS brands
FROM affiliates a
LEFT JOIN affiliate_brands ab ON ab.affiliate_id = a.id
LEFT JOIN brands b ON b.id = ab.brand_id
WHERE a.id = :affiliate
GROUP BY a.id""")


async def get(db: AsyncSession, affiliate_id: uuid.UUID) -> PortalPartner:
    row = (await db.execute(_PARTNER, {"affiliate": affiliate_id})).first()
    if row is None:
        raise NotFound("No such partner.")
    return PortalPartner(row.id, row.code, row.company, row.status, row.payout_currency, tuple(row.brands))
