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
from models.payments import Payment, PaymentAttempt
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


@dataclass(frozen=True)
class PaymentState:
    status: str
    reference: str | None  # the processor's reference of the latest attempt: a payout's transaction id


async def payment_states(db: AsyncSession, payment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, PaymentState]:
    """The status of each payment of a page of transfers and its latest attempt's reference, in one statement."""
    if not payment_ids:
        return {}
    latest = (
        select(col(PaymentAttempt.psp_reference))
        .where(col(PaymentAttempt.payment_id) == col(Payment.id))
        .order_by(col(PaymentAttempt.seq).desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = await db.execute(
        select(col(Payment.id), col(Payment.status), latest).where(col(Payment.id).in_(list(payment_ids)))
    )
    return {row[0]: PaymentState(row[1], row[2]) for row in rows}
