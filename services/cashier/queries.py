"""Reading payments: what a viewer may see, their attempts, the back office's filters and queue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import NotFound
from models.payments import Payment, PaymentAttempt, PaymentKind, PaymentStatus
from services.scoping import scoped


def readable_payments(viewer: Viewer) -> SelectOfScalar[Payment]:
    """Payments this viewer may read, as SQL: a player their own, staff their brand's."""
    return scoped(select(Payment), viewer, player_column=col(Payment.player_id), brand_column=col(Payment.brand_id))


async def get_readable(db: AsyncSession, viewer: Viewer, payment_id: uuid.UUID) -> Payment:
    found: Payment | None = await db.scalar(readable_payments(viewer).where(col(Payment.id) == payment_id))
    if found is None:
        raise NotFound("No such payment.", field="id")
    return found


async def attempts_of(db: AsyncSession, payment_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[PaymentAttempt]]:
    rows = (
        await db.scalars(
            select(PaymentAttempt)
            .where(col(PaymentAttempt.payment_id).in_(payment_ids))
            .order_by(col(PaymentAttempt.payment_id), col(PaymentAttempt.seq))
        )
    ).all()
    found: dict[uuid.UUID, list[PaymentAttempt]] = {}
    for attempt in rows:
        found.setdefault(attempt.payment_id, []).append(attempt)
    return found


@dataclass(frozen=True)
class PaymentFilter:
    status: str | None = None
    kind: str | None = None
    player_id: uuid.UUID | None = None


def filtered(viewer: Viewer, where: PaymentFilter) -> SelectOfScalar[Payment]:
    stmt = readable_payments(viewer)
    if where.status:
        stmt = stmt.where(col(Payment.status) == where.status)
    if where.kind:
        stmt = stmt.where(col(Payment.kind) == where.kind)
    if where.player_id:
        stmt = stmt.where(col(Payment.player_id) == where.player_id)
    return stmt


async def awaiting_decision(db: AsyncSession, viewer: Viewer) -> Sequence[Payment]:
    """The withdrawal queue: requested withdrawals of the viewer's brand, oldest first."""
    return (
        await db.scalars(
            filtered(
                viewer, PaymentFilter(status=PaymentStatus.REQUESTED.value, kind=PaymentKind.WITHDRAWAL.value)
            ).order_by(col(Payment.created_at))
        )
    ).all()
