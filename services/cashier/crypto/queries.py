"""Reading crypto payments: a player's addresses and transfers, staff their brand's (ownership in the SQL)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from models.crypto import CryptoAddress, CryptoTransfer
from models.payments import Payment
from services.scoping import scoped


@dataclass(frozen=True)
class TransferFilter:
    direction: str | None = None
    asset: str | None = None
    status: str | None = None
    player_id: uuid.UUID | None = None


def readable_transfers(viewer: Viewer, where: TransferFilter | None = None) -> SelectOfScalar[CryptoTransfer]:
    stmt = scoped(
        select(CryptoTransfer),
        viewer,
        player_column=col(CryptoTransfer.player_id),
        brand_column=col(CryptoTransfer.brand_id),
    )
    where = where or TransferFilter()
    if where.direction:
        stmt = stmt.where(col(CryptoTransfer.direction) == where.direction)
    if where.asset:
        stmt = stmt.where(col(CryptoTransfer.asset) == where.asset)
    if where.status:
        stmt = stmt.where(col(CryptoTransfer.status) == where.status)
    if where.player_id:
        stmt = stmt.where(col(CryptoTransfer.player_id) == where.player_id)
    return stmt


def readable_addresses(viewer: Viewer) -> SelectOfScalar[CryptoAddress]:
    return scoped(
        select(CryptoAddress),
        viewer,
        player_column=col(CryptoAddress.player_id),
        brand_column=col(CryptoAddress.brand_id),
    ).order_by(col(CryptoAddress.asset))


async def payment_states(db: AsyncSession, payment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The status of each payment of a page of transfers, in one statement."""
    if not payment_ids:
        return {}
    rows = await db.execute(select(col(Payment.id), col(Payment.status)).where(col(Payment.id).in_(list(payment_ids))))
    return {row[0]: row[1] for row in rows}
