"""Talking to the PSPs, outside any transaction: the cascade of attempts and what follows an answer."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.money import format_amount
from core.runtime import Runtime
from models.payments import AttemptOutcome, Payment, PaymentAttempt, PaymentKind, PaymentStatus
from services import wallet
from services.cashier.answers import _apply, _FollowUp, _summarise
from services.cashier.crypto import payouts as crypto_payouts
from services.cashier.payments import (
    PaymentUnavailable,
    _event,
    _latest_attempt,
    _set_status,
    fail_payment,
    lock_attempt,
    lock_payment,
    log,
)
from services.cashier.payout_checks import held_before_payout
from services.cashier.psp import DepositRequest, PayoutRequest, PspAnswer, PspDeclined, PspTechnicalFailure
from services.cashier.psp.adapters import ADAPTERS
from services.cashier.routing import PspTerms, adapter_for, payout_route
from services.cashier.routing_config import live
from services.wallet import Actor


def _mask(token: str | None) -> str | None:
    return None if token is None else f"{token[:4]}…{token[-4:]}"


async def _cascade(rt: Runtime, payment_id: uuid.UUID, psps: Sequence[str], *, three_ds: bool = False) -> None:
    """Try each PSP in turn; see the package docstring for why this never charges twice. `three_ds`: a risk
    restriction asks each deposit attempt to challenge the card (routing.restrict kept PSPs that can)."""
    previous: uuid.UUID | None = None  # this run's last attempt
    for psp in psps:
        async with rt.database.transaction() as db:
            payment = await lock_payment(db, payment_id)
            if not await _still_ours(db, payment, previous):
                return  # settled or taken meanwhile (a webhook, a poll, a concurrent run)
            # Before each PSP, not the first only: a hold imposed while one failed us keeps it from the next.
            if payment.kind == PaymentKind.WITHDRAWAL and await held_before_payout(db, payment):
                return  # the account changed since the approval: the money stays held (payout_checks.py)
            seq = (
                int(
                    await db.scalar(
                        select(PaymentAttempt.seq)
                        .where(col(PaymentAttempt.payment_id) == payment_id)
                        .order_by(col(PaymentAttempt.seq).desc())
                        .limit(1)
                    )
                    or 0
                )
                + 1
            )
            attempt = PaymentAttempt(
                payment_id=payment_id,
                seq=seq,
                psp=psp,
                operation="deposit" if payment.kind == PaymentKind.DEPOSIT else "payout",
                outcome=AttemptOutcome.SENDING.value,
                request_summary={
                    "amount": format_amount(payment.amount, payment.currency),
                    "currency": payment.currency,
                    "method": payment.method,
                    "token": _mask(payment.instrument_token),
                    **({"three_ds": "forced"} if three_ds else {}),
                },
            )
            db.add(attempt)
            payment.psp = psp
            if payment.kind == PaymentKind.WITHDRAWAL and payment.status == PaymentStatus.APPROVED:
                _set_status(payment, PaymentStatus.PROCESSING)
                await _event(db, payment, "payment.processing")
            else:
                payment.updated_at = clock.now()
            await db.flush()
            attempt_id = previous = attempt.id
            request = (
                DepositRequest(
                    str(attempt_id),
                    payment.amount,
                    payment.currency,
                    payment.method,
                    payment.instrument_token,
                    f"{rt.settings.public_base_url.rstrip('/')}/cashier/return/{payment_id}",
                    three_ds=three_ds,
                )
                if payment.kind == PaymentKind.DEPOSIT
                else await crypto_payouts.payout_request(
                    db,
                    payment,
                    PayoutRequest(
                        str(attempt_id), payment.amount, payment.currency, payment.method, payment.instrument_token
                    ),
                )
            )
        answer: PspAnswer | None = None
        error: str | None = None
        try:
            adapter = adapter_for(rt.settings, psp)
            if isinstance(request, DepositRequest):
                answer = await adapter.create_deposit(request)
            else:
                answer = await adapter.create_payout(request)
        except PspDeclined as exc:
            answer = exc.answer
        except (PspTechnicalFailure, PaymentUnavailable) as exc:
            error = str(exc.message if isinstance(exc, DomainError) else exc)
            answer = await _probe(rt, psp, attempt_id)  # did the PSP take it before failing us?
        if answer is not None:
            await record_answer(rt, payment_id, attempt_id, answer, source="cashier")
            return
        async with rt.database.transaction() as db:
            _, attempt_row = await lock_attempt(db, payment_id, attempt_id)
            if attempt_row.outcome == AttemptOutcome.SENDING:
                attempt_row.outcome = AttemptOutcome.TECHNICAL_FAILURE.value
                attempt_row.error = (error or "technical failure")[:500]
                attempt_row.response_summary = _summarise(None, error)
                attempt_row.updated_at = clock.now()
            else:
                return  # a webhook already answered for this attempt
    async with rt.database.transaction() as db:
        payment = await lock_payment(db, payment_id)
        if await _still_ours(db, payment, previous):
            if payment.kind == PaymentKind.WITHDRAWAL and payment.hold_id is not None:
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
            )


async def _still_ours(db: AsyncSession, payment: Payment, previous: uuid.UUID | None) -> bool:
    """Under the payment's row lock: may this cascade run take its next step?

    Its first step needs the payment untouched (a deposit still `created` with no attempt, a
    withdrawal still `approved`); a later step needs this run's previous attempt to be the latest
    one and a technical failure. A concurrent run, a webhook or a poll that moved it on wins.
    """
    deposit = payment.kind == PaymentKind.DEPOSIT
    latest = await _latest_attempt(db, payment)
    if previous is None:
        if deposit:
            return payment.status == PaymentStatus.CREATED and latest is None
        return payment.status == PaymentStatus.APPROVED
    if payment.status != (PaymentStatus.CREATED if deposit else PaymentStatus.PROCESSING) or latest != previous:
        return False
    attempt = await db.get(PaymentAttempt, previous, populate_existing=True)
    return attempt is not None and attempt.outcome == AttemptOutcome.TECHNICAL_FAILURE


async def _probe(rt: Runtime, psp: str, attempt_id: uuid.UUID) -> PspAnswer | None:
    """After a technical failure: the PSP's own view of the attempt (None: it never took it)."""
    try:
        return await adapter_for(rt.settings, psp).get_status(str(attempt_id))
    except (PspTechnicalFailure, DomainError):
        return None


async def record_answer(
    rt: Runtime, payment_id: uuid.UUID, attempt_id: uuid.UUID, answer: PspAnswer, *, source: str
) -> None:
    """Apply a PSP's answer in one transaction, then do what must follow the commit."""
    async with rt.database.transaction() as db:
        payment, attempt = await lock_attempt(db, payment_id, attempt_id)
        follow = await _apply(db, payment, attempt, answer, source=source, repay_debt=rt.settings.deposits_repay_debt)
    await _run_follow_up(rt, follow, payment_id)


async def _run_follow_up(rt: Runtime, follow: _FollowUp, payment_id: uuid.UUID) -> None:
    for psp, attempt_id in follow.refunds:
        try:
            answer = await adapter_for(rt.settings, psp).refund(str(attempt_id))
        except (PspTechnicalFailure, DomainError) as exc:
            log.warning("psp_refund_failed", psp=psp, attempt_id=str(attempt_id), error=str(exc))
            continue
        async with rt.database.transaction() as db:
            payment, attempt = await lock_attempt(db, payment_id, attempt_id)
            await _apply(db, payment, attempt, answer, source="refund", repay_debt=rt.settings.deposits_repay_debt)
    if follow.process_withdrawal:
        await process_withdrawal(rt, payment_id)


async def process_withdrawal(rt: Runtime, payment_id: uuid.UUID) -> None:
    """Send an approved withdrawal to its PSPs (cascading on technical failures, like deposits)."""
    async with rt.database.session() as db:
        payment = await db.get(Payment, payment_id)
        if payment is None or payment.status != PaymentStatus.APPROVED:
            return
        config = await live(db)
        psps = await payout_route(
            db,
            method=payment.method,
            country=payment.country,
            currency=payment.currency,
            amount=payment.amount,
            seed=str(payment.id),
            config=config,
        )
        holder = await _token_holder(db, payment)
        if holder is not None and config.psps.get(holder, PspTerms()).refusal(payment.amount, payment.currency):
            holder = None  # the operator's terms rule it out (disabled, or the amount outside its limits)
        psps = _token_holder_first(psps, payment.method, holder)
    await _cascade(rt, payment_id, psps)


async def _token_holder(db: AsyncSession, payment: Payment) -> str | None:
    """The PSP that took the player's last successful deposit with this payout's instrument token: the token is
    that PSP's (its vault), so a payout back to the instrument (the closed loop, services/cashier/closed_loop.py)
    goes there first, whatever the routing rules put first."""
    if payment.instrument_token is None:
        return None
    psp: str | None = await db.scalar(
        select(col(Payment.psp))
        .where(
            col(Payment.player_id) == payment.player_id,
            col(Payment.kind) == PaymentKind.DEPOSIT,
            col(Payment.status) == PaymentStatus.SUCCEEDED,
            col(Payment.instrument_token) == payment.instrument_token,
            col(Payment.psp).is_not(None),
        )
        .order_by(col(Payment.created_at).desc())
        .limit(1)
    )
    return psp


def _token_holder_first(psps: Sequence[str], method: str, holder: str | None) -> list[str]:
    """The route with the token's PSP first (when it pays out by the method); the rest keep their order as
    fallbacks for a technical failure."""
    adapter = ADAPTERS.get(holder) if holder else None
    if holder is None or adapter is None or method not in adapter.payout_methods:
        return list(psps)
    return [holder, *(p for p in psps if p != holder)]
