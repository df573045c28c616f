"""Withdrawals waiting for KYC: released into the normal flow once the player's level allows it.

A released withdrawal becomes `requested` (its amount still held, nothing moved) and then follows the
rules a new request does: approved at once below the threshold (and sent), else finance decides, with
four eyes above the second threshold. Each is released under its row lock, after checking it still
waits and the player is no longer held back, so two releases racing (two officers' approvals, a sweep)
release it once. `release_waiting` runs after the commit that reached the level (services/kyc/reviews.py);
`croupier kyc release` sweeps every waiting withdrawal (after a crash between that commit and the release).
"""

from __future__ import annotations

import uuid

from sqlmodel import col, select

from core.runtime import Runtime
from models.payments import Payment, PaymentKind, PaymentStatus
from models.players import Player
from services.cashier.cascade import process_withdrawal
from services.cashier.payments import _event, _set_status, lock_payment
from services.cashier.withdrawals import auto_approve
from services.kyc import gates as kyc_gates


async def _release(rt: Runtime, payment_id: uuid.UUID) -> bool:
    """True when this call released it."""
    async with rt.database.transaction() as db:
        payment = await lock_payment(db, payment_id)
        if payment.status != PaymentStatus.WAITING_FOR_KYC:
            return False
        player = await db.get(Player, payment.player_id)
        assert player is not None
        if await kyc_gates.withdrawal_blocked(db, player):
            return False
        _set_status(payment, PaymentStatus.REQUESTED)
        await _event(db, payment, "payment.kyc_cleared")
        approved = await auto_approve(rt, db, payment)
    if approved:
        await process_withdrawal(rt, payment_id)
    return True


async def release_waiting(rt: Runtime, player_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    """Release the player's (or everyone's) waiting withdrawals that may now proceed; the ids released."""
    stmt = select(col(Payment.id)).where(
        col(Payment.kind) == PaymentKind.WITHDRAWAL.value, col(Payment.status) == PaymentStatus.WAITING_FOR_KYC.value
    )
    if player_id is not None:
        stmt = stmt.where(col(Payment.player_id) == player_id)
    async with rt.database.session() as db:
        waiting = list((await db.scalars(stmt.order_by(col(Payment.created_at)))).all())
    return [payment_id for payment_id in waiting if await _release(rt, payment_id)]
