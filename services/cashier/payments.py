"""What every cashier step shares: its errors, the payment's locks (in the package's one order), its status
changes and events."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.logging import get_logger
from models.payments import TERMINAL_STATUSES, Payment, PaymentAttempt, PaymentKind, PaymentStatus, PspWebhookReceipt
from services.bonuses import issue as bonus_issue
from services.cashier.psp import WebhookEvent

# One logger for the whole cashier, under the name it had as a single module.
log = get_logger("services.cashier")


class PaymentDeclined(DomainError):
    code = ErrorCode.PAYMENT_DECLINED


class PaymentUnavailable(DomainError):
    code = ErrorCode.PAYMENT_UNAVAILABLE


# FOR NO KEY UPDATE: no step changes a payment's or an attempt's key, and this mode does not wait on the
# KEY SHARE lock that inserting a row referencing them (an attempt, a receipt, a bonus) takes.
_ROW_LOCK = {"key_share": True}


async def lock_payment(db: AsyncSession, payment_id: uuid.UUID) -> Payment:
    """The payment's row lock: the first lock every cashier step takes (the order: the package docstring)."""
    payment = await db.get(Payment, payment_id, with_for_update=_ROW_LOCK, populate_existing=True)
    if payment is None:
        raise NotFound("No such payment.", field="id")
    return payment


async def lock_attempt(
    db: AsyncSession, payment_id: uuid.UUID, attempt_id: uuid.UUID
) -> tuple[Payment, PaymentAttempt]:
    """The payment's row lock, then its attempt's: in this order, before anything that references the attempt
    (a webhook receipt) is inserted, so two steps on one attempt queue on the payment and never cross."""
    payment = await lock_payment(db, payment_id)
    attempt = await db.get(PaymentAttempt, attempt_id, with_for_update=_ROW_LOCK, populate_existing=True)
    if attempt is None or attempt.payment_id != payment.id:
        raise NotFound("No such payment attempt.", field="id")
    return payment, attempt


async def _event(db: AsyncSession, payment: Payment, topic: str, **extra: Any) -> None:
    await outbox.emit(
        db,
        topic,
        f"player:{payment.player_id}",
        {
            "payment_id": str(payment.id),
            "kind": payment.kind,
            "status": payment.status,
            "player_id": str(payment.player_id),
            "brand_id": str(payment.brand_id),
            "currency": payment.currency,
            "amount": payment.amount,
            "psp": payment.psp,
            **extra,
        },
        brand_id=payment.brand_id,
    )


def _set_status(
    payment: Payment, status: PaymentStatus, *, code: ErrorCode | None = None, message: str | None = None
) -> None:
    payment.status = status.value
    payment.updated_at = clock.now()
    if code is not None:
        payment.failure_code = code.value
        payment.failure_message = (message or "")[:500] or None
    if status in TERMINAL_STATUSES:
        payment.completed_at = clock.now()
        payment.redirect_url = None


async def fail_payment(db: AsyncSession, payment: Payment, code: ErrorCode, message: str, **extra: Any) -> None:
    """The payment fails (under its row lock), with its event. A deposit releases the deposit offer claimed
    with it, in this transaction (services/bonuses/issue.py `on_deposit_failed`): every path that fails a
    deposit — a decline in the PSP's answer or a webhook, no PSP available, reconciliation of an abandoned
    one — comes through here. A withdrawal's hold is its caller's to void."""
    _set_status(payment, PaymentStatus.FAILED, code=code, message=message)
    if payment.kind == PaymentKind.DEPOSIT:
        await bonus_issue.on_deposit_failed(db, payment)
    await _event(db, payment, "payment.failed", **extra)


async def _latest_attempt(db: AsyncSession, payment: Payment) -> uuid.UUID | None:
    found: uuid.UUID | None = await db.scalar(
        select(col(PaymentAttempt.id))
        .where(col(PaymentAttempt.payment_id) == payment.id)
        .order_by(col(PaymentAttempt.seq).desc())
        .limit(1)
    )
    return found


async def record_receipt(
    db: AsyncSession, psp: str, event: WebhookEvent, *, attempt_id: uuid.UUID | None, result: str
) -> uuid.UUID | None:
    """A verified webhook's receipt, once per (PSP, event id): None when it was received before (a replay).
    An attempt it names must be locked first (the cashier's lock order: the insert takes a KEY SHARE on it)."""
    inserted: uuid.UUID | None = (
        await db.execute(
            insert(PspWebhookReceipt)
            .values(
                id=uuid.uuid4(),
                psp=psp,
                event_id=event.event_id,
                event_type=event.event_type,
                attempt_id=attempt_id,
                result=result,
                payload=dict(event.payload),
                received_at=clock.now(),
            )
            .on_conflict_do_nothing(constraint="uq_psp_webhook_receipts_event")
            .returning(col(PspWebhookReceipt.id))
        )
    ).scalar_one_or_none()
    return inserted
