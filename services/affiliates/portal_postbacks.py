"""The partner's own postback delivery log, as the portal and tokens with `postbacks:read` see it.

staff read the log through services/affiliates/postbacks/configs.py (URLs, errors, every partner of their brand);
a partner reads only its own deliveries (the partner's id in the statement's WHERE, from the credential) and only
what tells it how its server answered: the event type and id (the id its server received), the status, the
tries, the times and the HTTP status of the last try. No player, no URL (it carries the player reference), no
error text: the partner knows its own click ids and sub-ids from the calls themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.affiliate_postbacks import AffiliatePostbackDelivery, DeliveryStatus


def listed(
    affiliate_id: uuid.UUID, *, status: DeliveryStatus | None = None
) -> SelectOfScalar[AffiliatePostbackDelivery]:
    """The partner's deliveries (page them by event time and id)."""
    stmt = select(AffiliatePostbackDelivery).where(col(AffiliatePostbackDelivery.affiliate_id) == affiliate_id)
    if status is not None:
        stmt = stmt.where(col(AffiliatePostbackDelivery.status) == status.value)
    return stmt


@dataclass(frozen=True)
class LastTry:
    started_at: datetime
    http_status: int | None


_LAST_TRIES = text("""
SELECT DISTINCT ON (t.delivery_id) t.delivery_id, t.started_at, t.http_status
FROM affiliate_postback_attempts t JOIN affiliate_postback_deliveries d ON d.id = t.delivery_id
WHERE t.delivery_id = ANY(CAST(:ids AS uuid[])) AND d.affiliate_id = :affiliate
ORDER BY t.delivery_id, t.attempt DESC""")


async def last_tries(
    db: AsyncSession, affiliate_id: uuid.UUID, delivery_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, LastTry]:
    """The last try of each delivery of a page (one statement; the partner's own only)."""
    if not delivery_ids:
        return {}
    rows = await db.execute(_LAST_TRIES, {"ids": list(delivery_ids), "affiliate": affiliate_id})
    return {row.delivery_id: LastTry(row.started_at, row.http_status) for row in rows}
