"""Asking PSPs for answers we are missing: about one payment (refresh), or every stuck one (reconcile)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.payments import AttemptOutcome, Payment, PaymentAttempt, PaymentKind, PaymentMethod, PaymentStatus
from services import wallet
from services.cashier.cascade import process_withdrawal, record_answer
from services.cashier.payments import _latest_attempt, _set_status, fail_payment, lock_attempt, lock_payment, log
from services.cashier.psp import PspTechnicalFailure
from services.cashier.routing import adapter_for
from services.wallet import Actor


async def refresh(rt: Runtime, payment_id: uuid.UUID) -> Payment:
    """Ask the PSP about the payment's open attempts and apply the answers (the browser's return, polls)."""
    async with rt.database.session() as db:
        attempts = (
            await db.scalars(
                select(PaymentAttempt).where(
                    col(PaymentAttempt.payment_id) == payment_id,
                    col(PaymentAttempt.outcome).in_(
                        [
                            AttemptOutcome.SENDING.value,
                            AttemptOutcome.PENDING.value,
                            AttemptOutcome.TECHNICAL_FAILURE.value,
                        ]
                    ),
                )
            )
        ).all()
    for attempt in attempts:
        try:
            answer = await adapter_for(rt.settings, attempt.psp).get_status(str(attempt.id))
        except (PspTechnicalFailure, DomainError) as exc:
            log.info("psp_status_poll_failed", psp=attempt.psp, attempt_id=str(attempt.id), error=str(exc))
            continue
        if answer is not None:
            await record_answer(rt, payment_id, attempt.id, answer, source="poll")
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
        if found is None:
            raise NotFound("No such payment.", field="id")
        return found


_NEVER_SENT = "The payment never reached a provider; nothing was charged."


@dataclass
class ReconcileReport:
    checked: int = 0
    repaired: int = 0
    failed_unsent: int = 0
    abandoned: int = 0  # deposits still awaiting the player (3-D Secure, a bank page) past the time allowed
    payouts_started: int = 0
    errors: list[str] = field(default_factory=list)


async def reconcile(rt: Runtime, *, older_than_seconds: int | None = None) -> ReconcileReport:
    """Repair payments left open by a crash or a lost answer: poll their PSPs and apply the answers.

    - attempts `sending`/`pending` (and a technical failure not followed by another attempt) are
      asked about; what the PSP says is applied exactly as a webhook would be;
    - an attempt the PSP never heard of, on a deposit that nothing else is moving, fails the payment
      (nothing was charged);
    - a deposit the PSP still reports as waiting for the player (3-D Secure, a bank's page) after
      `DEPOSIT_ABANDONED_AFTER_SECONDS` is abandoned: it fails, releasing the offer claimed with it. Should
      the PSP complete it after all, its success still credits the deposit (as any late success does);
    - withdrawals approved but never sent to a PSP are sent.
    """
    age = rt.settings.payment_reconcile_after_seconds if older_than_seconds is None else older_than_seconds
    cutoff = clock.now() - timedelta(seconds=age)
    report = ReconcileReport()
    later = aliased(PaymentAttempt)
    async with rt.database.session() as db:
        stuck = (
            await db.execute(
                sa_select(  # six columns: more than sqlmodel's typed `select` takes
                    col(PaymentAttempt.id),
                    col(PaymentAttempt.payment_id),
                    col(PaymentAttempt.psp),
                    col(PaymentAttempt.outcome),
                    col(Payment.kind),
                    # The attempt's start, not the payment's: a deposit a risk rule held is sent when released.
                    col(PaymentAttempt.created_at),
                )
                .join(Payment, col(Payment.id) == col(PaymentAttempt.payment_id))
                .where(
                    col(Payment.status).in_(
                        [PaymentStatus.CREATED.value, PaymentStatus.PENDING.value, PaymentStatus.PROCESSING.value]
                    ),
                    or_(
                        col(PaymentAttempt.outcome).in_([AttemptOutcome.SENDING.value, AttemptOutcome.PENDING.value]),
                        (col(PaymentAttempt.outcome) == AttemptOutcome.TECHNICAL_FAILURE.value)
                        & ~select(later.id)
                        .where(
                            col(later.payment_id) == col(PaymentAttempt.payment_id),
                            col(later.seq) > col(PaymentAttempt.seq),
                        )
                        .exists(),
                    ),
                    col(PaymentAttempt.updated_at) <= cutoff,
                    # A crypto deposit waits for its confirmations (the chain's callbacks): no status to poll.
                    ~(
                        (col(Payment.method) == PaymentMethod.CRYPTO.value)
                        & (col(Payment.kind) == PaymentKind.DEPOSIT.value)
                    ),
                )
                .order_by(col(PaymentAttempt.created_at))
            )
        ).all()
        approved = (
            await db.scalars(
                select(col(Payment.id)).where(
                    col(Payment.status) == PaymentStatus.APPROVED.value, col(Payment.updated_at) <= cutoff
                )
            )
        ).all()
        never_tried = (
            await db.scalars(
                select(col(Payment.id)).where(
                    col(Payment.kind) == PaymentKind.DEPOSIT.value,
                    col(Payment.status) == PaymentStatus.CREATED.value,
                    col(Payment.updated_at) <= cutoff,
                    ~select(PaymentAttempt.id).where(col(PaymentAttempt.payment_id) == col(Payment.id)).exists(),
                )
            )
        ).all()
    abandon_before = clock.now() - timedelta(seconds=rt.settings.deposit_abandoned_after_seconds)
    for attempt_id, payment_id, psp, outcome, kind, created_at in stuck:
        report.checked += 1
        try:
            answer = await adapter_for(rt.settings, psp).get_status(str(attempt_id))
        except (PspTechnicalFailure, DomainError) as exc:
            report.errors.append(f"{attempt_id}: {exc}")
            continue
        if answer is not None:
            await record_answer(rt, payment_id, attempt_id, answer, source="poll")
            report.repaired += 1
            waiting = answer.status in ("pending", "requires_action")
            if waiting and kind == PaymentKind.DEPOSIT and created_at <= abandon_before:
                report.abandoned += await _abandon(rt, payment_id, attempt_id)
        elif outcome in (AttemptOutcome.SENDING, AttemptOutcome.TECHNICAL_FAILURE):
            close = _fail_unsent if outcome == AttemptOutcome.SENDING else _fail_abandoned
            if await close(rt, payment_id, attempt_id):
                report.failed_unsent += 1
    for payment_id in approved:
        await process_withdrawal(rt, payment_id)
        report.payouts_started += 1
    for payment_id in never_tried:  # created, then the process died before the first PSP was chosen
        async with rt.database.transaction() as db:
            payment = await lock_payment(db, payment_id)
            if payment.status == PaymentStatus.CREATED and await _latest_attempt(db, payment) is None:
                await fail_payment(db, payment, ErrorCode.PAYMENT_UNAVAILABLE, _NEVER_SENT)
                report.failed_unsent += 1
    return report


async def _fail_unsent(rt: Runtime, payment_id: uuid.UUID, attempt_id: uuid.UUID) -> bool:
    """The PSP never received this attempt (we crashed before or while sending): close it."""
    async with rt.database.transaction() as db:
        payment, attempt = await lock_attempt(db, payment_id, attempt_id)
        if attempt.outcome != AttemptOutcome.SENDING:
            return False
        attempt.outcome = AttemptOutcome.TECHNICAL_FAILURE.value
        attempt.error = "never reached the PSP (found by reconciliation)"
        attempt.updated_at = clock.now()
        if await _latest_attempt(db, payment) != attempt.id:
            return True
        if payment.kind == PaymentKind.DEPOSIT and payment.status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            await fail_payment(db, payment, ErrorCode.PAYMENT_UNAVAILABLE, _NEVER_SENT)
        elif payment.kind == PaymentKind.WITHDRAWAL and payment.status == PaymentStatus.PROCESSING:
            _set_status(payment, PaymentStatus.APPROVED)  # send it again
    return True


async def _abandon(rt: Runtime, payment_id: uuid.UUID, attempt_id: uuid.UUID) -> int:
    """A deposit still waiting for the player past the time allowed fails (and releases its offer)."""
    async with rt.database.transaction() as db:
        payment, attempt = await lock_attempt(db, payment_id, attempt_id)
        if payment.status != PaymentStatus.PENDING or await _latest_attempt(db, payment) != attempt.id:
            return 0
        await fail_payment(
            db,
            payment,
            ErrorCode.PAYMENT_DECLINED,
            "The payment was not completed in time; nothing was charged.",
            attempt_id=str(attempt.id),
            abandoned=True,
        )
    return 1


async def _fail_abandoned(rt: Runtime, payment_id: uuid.UUID, attempt_id: uuid.UUID) -> bool:
    """A cascade died after its last attempt's technical failure (which the PSP never took): finish it.

    As the cascade's own end does: a withdrawal's hold is voided and the payment fails (nothing was
    charged or paid). Only while that attempt is still the payment's latest and a technical failure.
    """
    async with rt.database.transaction() as db:
        payment, attempt = await lock_attempt(db, payment_id, attempt_id)
        if attempt.outcome != AttemptOutcome.TECHNICAL_FAILURE or await _latest_attempt(db, payment) != attempt.id:
            return False
        deposit = payment.kind == PaymentKind.DEPOSIT
        if deposit and payment.status not in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            return False
        if not deposit:
            if payment.status != PaymentStatus.PROCESSING:
                return False
            if payment.hold_id is not None:
                await wallet.void_withdrawal(
                    db,
                    hold_id=payment.hold_id,
                    payment_id=payment.id,
                    actor=Actor("system"),
                    reason="no PSP could pay it out",
                )
        await fail_payment(
            db,
            payment,
            ErrorCode.PAYMENT_UNAVAILABLE,
            "No payment provider is available right now; nothing was charged.",
            attempt_id=str(attempt.id),
        )
    return True
