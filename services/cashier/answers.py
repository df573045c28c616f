"""Applying a PSP's answer about one attempt to the payment, inside the caller's transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.errors import ErrorCode
from models.payments import AttemptOutcome, Payment, PaymentAttempt, PaymentKind, PaymentStatus
from services import wallet
from services.bonuses import issue as bonus_issue
from services.cashier.payments import _event, _latest_attempt, _set_status, fail_payment
from services.cashier.psp import PspAnswer
from services.wallet import Actor


@dataclass
class _FollowUp:
    """Work for after the commit (PSP calls never run inside a database transaction)."""

    refunds: list[tuple[str, uuid.UUID]] = field(default_factory=list)  # (psp, attempt id)
    process_withdrawal: bool = False


def _summarise(answer: PspAnswer | None, error: str | None = None) -> dict[str, Any]:
    if answer is None:
        return {"error": error} if error else {}
    return {
        "status": answer.status,
        "psp_reference": answer.psp_reference,
        "decline_reason": answer.decline_reason,
        "redirect_url": answer.redirect_url,
        "answer": dict(answer.raw),
    }


async def _apply(
    db: AsyncSession, payment: Payment, attempt: PaymentAttempt, answer: PspAnswer, *, source: str, repay_debt: bool
) -> _FollowUp:
    """Apply a PSP's answer about one attempt (from the call itself, a webhook or a poll). A deposit repays
    the player's chargeback debt first when `repay_debt` (the `deposits_repay_debt` setting).

    The caller holds the payment's row lock. Deterministic in any order: see the package docstring.
    """
    follow = _FollowUp()
    now = clock.now()
    outcome = AttemptOutcome(attempt.outcome)
    new = {
        "succeeded": AttemptOutcome.SUCCEEDED,
        "declined": AttemptOutcome.DECLINED,
        "pending": AttemptOutcome.PENDING,
        "requires_action": AttemptOutcome.PENDING,
        "refunded": AttemptOutcome.REFUNDED,
    }[answer.status]
    if outcome in (AttemptOutcome.SUCCEEDED, AttemptOutcome.REFUNDED) and new != AttemptOutcome.REFUNDED:
        return follow  # a final success never moves back (a stale or replayed event)
    if outcome == AttemptOutcome.DECLINED and new != AttemptOutcome.SUCCEEDED:
        return follow
    history = list((attempt.response_summary or {}).get("history", []))
    history.append(
        {"at": now.isoformat(), "source": source, "status": answer.status, "decline_reason": answer.decline_reason}
    )
    attempt.outcome = new.value
    attempt.psp_reference = answer.psp_reference or attempt.psp_reference
    attempt.response_summary = {**_summarise(answer), "history": history[-20:]}
    attempt.updated_at = now
    deposit = payment.kind == PaymentKind.DEPOSIT
    status = PaymentStatus(payment.status)
    actor = Actor("psp") if source != "cashier" else Actor("system")

    if new == AttemptOutcome.SUCCEEDED:
        if deposit:
            if status == PaymentStatus.SUCCEEDED:
                # Another attempt was credited (this one's success would have returned above): the
                # player was charged twice, so this charge goes back.
                follow.refunds.append((attempt.psp, attempt.id))
                await _event(db, payment, "payment.duplicate_charge", attempt_id=str(attempt.id))
                return follow
            result = await wallet.credit_deposit(
                db,
                player_id=payment.player_id,
                currency=payment.currency,
                amount=payment.amount,
                psp=attempt.psp,
                payment_id=payment.id,
                actor=actor,
                repay_debt=repay_debt,
            )
            payment.transaction_id = result.transaction_id
            payment.psp = attempt.psp
            payment.failure_code = payment.failure_message = None
            _set_status(payment, PaymentStatus.SUCCEEDED)
            await db.flush()
            await bonus_issue.on_deposit(db, payment)  # a deposit match waiting for this deposit
            await _event(db, payment, "payment.succeeded", attempt_id=str(attempt.id))
        else:
            if status == PaymentStatus.PAID:  # a second payout: the player is not debited twice; finance recovers it
                await _event(db, payment, "payment.duplicate_payout", attempt_id=str(attempt.id))
                return follow
            if status in (PaymentStatus.REJECTED, PaymentStatus.FAILED):
                # Paid out although we had given up on it: the hold is gone, so this needs a person.
                await _event(db, payment, "payment.payout_after_failure", attempt_id=str(attempt.id))
                return follow
            assert payment.hold_id is not None
            result = await wallet.pay_withdrawal(
                db, hold_id=payment.hold_id, psp=attempt.psp, payment_id=payment.id, actor=actor
            )
            payment.transaction_id = result.transaction_id
            payment.psp = attempt.psp
            _set_status(payment, PaymentStatus.PAID)
            await _event(db, payment, "payment.paid", attempt_id=str(attempt.id))
        return follow

    if new == AttemptOutcome.PENDING:
        if deposit and status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            payment.redirect_url = answer.redirect_url or payment.redirect_url
            payment.psp = attempt.psp
            if status == PaymentStatus.CREATED:
                _set_status(payment, PaymentStatus.PENDING)
                await _event(db, payment, "payment.pending", attempt_id=str(attempt.id))
        return follow

    if new == AttemptOutcome.DECLINED:
        latest = await _latest_attempt(db, payment)
        if latest != attempt.id:
            return follow  # an attempt the cascade already left; the current one decides
        reason = answer.decline_reason or "declined"
        if deposit and status in (PaymentStatus.CREATED, PaymentStatus.PENDING):
            await fail_payment(
                db,
                payment,
                ErrorCode.PAYMENT_DECLINED,
                f"{attempt.psp}: {reason}",
                attempt_id=str(attempt.id),
                reason=reason,
            )
        elif not deposit and status == PaymentStatus.PROCESSING:
            assert payment.hold_id is not None
            await wallet.void_withdrawal(
                db,
                hold_id=payment.hold_id,
                payment_id=payment.id,
                actor=actor,
                reason=f"payout declined by {attempt.psp}: {reason}",
            )
            _set_status(
                payment, PaymentStatus.FAILED, code=ErrorCode.PAYMENT_DECLINED, message=f"{attempt.psp}: {reason}"
            )
            await _event(db, payment, "payment.failed", attempt_id=str(attempt.id), reason=reason)
        return follow
    return follow  # REFUNDED: recorded on the attempt only
