"""A held deposit's refund to its sender, tracked as a payout: the processor's later word on it applied once.

holds.py `refund` asks the processor to pay a held deposit's coins back to the address they came from. Like a
withdrawal's payout, the processor takes it (`processing`) and reports it later in signed callbacks: `confirmed`
once the chain confirms it, `failed` or `cancelled` by the processor, or `dropped` from the chain. Here
(models/crypto_refunds.py holds one row per round):
- a **round** per refund asked: round 1's foreign id is `refund-<transfer id>`, a later round's
  `refund-<transfer id>-<n>` (the processor pays a foreign id once, so a refund asked again after a failure needs
  a new one); a refund the processor never saw (our screening refused the sender first) keeps its round;
- **taken** (`taken`): suspense → clearing (`crypto_deposit_refunded`), the payment failed (`REFUNDED_TO_SENDER`),
  the fee booked, the transfer `refunded`, the round `processing` (or `confirmed` if the processor says so);
- **confirmed**: final. The round `confirmed`, `crypto.deposit_refund_confirmed`. A failure reported after it (or
  a confirmation after a failure) contradicts a final state: flagged for finance (`crypto.deposit_refund_conflict`),
  nothing moved;
- **failed after it was taken**: reversed once: clearing → suspense (`crypto_refund_reversed`), the fee booked for
  it given back (`psp_fee_reversed`), the payment pending again, the transfer `held` (its gate unchanged), the round
  `failed`, `crypto.deposit_refund_failed` and an audit record: finance decides again (release, or refund anew; the
  sweep counts its refund delay from the failure);
- **a callback that overtakes the processor's answer** (the transfer still `refunding`): a confirmation books the
  refund taken and confirmed, a failure puts the transfer back to `held` with nothing to reverse; the answer's
  booking then finds the round decided and books nothing.
Exactly once: the transfer's row lock first (holds.py's order), then its payment's; the round's status is checked
and the ledger's keys are per round; a callback's receipt is written once per event id in the same transaction. A
`processing` callback, or a terminal one repeated, changes nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import SYSTEM, Viewer
from core.clock import clock
from core.runtime import Runtime
from models.crypto import CryptoTransfer
from models.crypto_refunds import CryptoRefundPayout
from models.payments import AttemptOutcome, Payment, PaymentAttempt, PaymentStatus, PspWebhookReceipt
from services import audit, wallet
from services.cashier.answers import _apply
from services.cashier.crypto import assets, fees, holds
from services.cashier.payments import _event, _set_status, lock_attempt, log, record_receipt
from services.cashier.psp import PspAnswer, WebhookEvent

PREFIX = "refund-"


def foreign_id(transfer_id: uuid.UUID, round_: int) -> str:
    return f"{PREFIX}{transfer_id}" if round_ == 1 else f"{PREFIX}{transfer_id}-{round_}"


def _transfer_of(reference: str) -> uuid.UUID | None:
    if not reference.startswith(PREFIX):
        return None
    try:
        return uuid.UUID(reference[len(PREFIX) : len(PREFIX) + 36])
    except ValueError:
        return None


def is_refund(reference: str) -> bool:
    """Whether a payout callback's foreign id names a refund (the webhook route sends it here)."""
    return _transfer_of(reference) is not None


def _key(prefix: str, round_: int) -> str:
    """holds.py `_record`'s prefix for a round (round 1 keeps the first refund's keys)."""
    return prefix if round_ == 1 else f"{prefix}-{round_}"


def _fee_key(transfer_id: uuid.UUID, round_: int) -> str:
    return f"refund:{transfer_id}" if round_ == 1 else f"refund:{transfer_id}:{round_}"


async def begin(db: AsyncSession, row: CryptoTransfer) -> CryptoRefundPayout:
    """Under the transfer's lock, as it is marked refunding: the round to ask (a retry's open one, else a new one)."""
    latest = await db.scalar(
        select(CryptoRefundPayout)
        .where(col(CryptoRefundPayout.transfer_id) == row.id)
        .order_by(col(CryptoRefundPayout.round).desc())
        .limit(1)
    )
    if latest is not None and latest.status == "requested":
        return latest
    round_ = 1 if latest is None else latest.round + 1
    now = clock.now()
    payout = CryptoRefundPayout(
        transfer_id=row.id,
        round=round_,
        foreign_id=foreign_id(row.id, round_),
        status="requested",
        created_at=now,
        updated_at=now,
    )
    db.add(payout)
    await db.flush()
    return payout


async def declined(db: AsyncSession, reference: str, answer: PspAnswer) -> None:
    """The refund was declined. By our own screening (nothing sent): the round stays to ask again. By the
    processor, which has now seen the foreign id: the round failed, a later refund takes the next."""
    if "screening" in answer.raw or answer.decline_reason == "no_locked_rate":
        return
    payout = await _round(db, reference)
    if payout is not None and payout.status == "requested":
        payout.status, payout.failure, payout.updated_at = (
            "failed",
            (answer.decline_reason or "declined")[:200],
            clock.now(),
        )


async def taken(
    db: AsyncSession,
    row: CryptoTransfer,
    payment: Payment,
    attempt: PaymentAttempt,
    reference: str,
    paid: PspAnswer,
    *,
    viewer: Viewer,
    why: str,
) -> bool:
    """The processor took the refund (its answer, or a callback that overtook it), under the transfer's and the
    payment's locks: booked once. False when the round was decided already (by a callback)."""
    payout = await _round(db, reference)
    if payout is None or payout.status != "requested" or row.status != "refunding":
        return False
    of = assets.ASSETS[row.asset]
    clearing, held = await holds._accounts(db, payment)
    sides = [(held, -1), (clearing, 1)]
    prefix = _key("crypto-refunded", payout.round)
    await holds._record(db, payment, prefix, "crypto_deposit_refunded", sides, holds._actor(viewer))
    answer = PspAnswer("declined", psp_reference=paid.psp_reference, decline_reason=holds.REFUND_REASON)
    await _apply(db, payment, attempt, answer, source="webhook", repay_debt=False)
    fee = fees.reported(of, paid.raw)
    if fee:
        await fees.book(db, payment, of, fee, key=_fee_key(row.id, payout.round))
        row.fee, payout.fee = Decimal(assets.to_chain(of, fee)), fee
    row.status, row.updated_at = "refunded", clock.now()
    payout.status = "confirmed" if paid.status == "succeeded" else "processing"
    payout.psp_reference, payout.updated_at = (paid.psp_reference or "")[:100] or None, clock.now()
    await holds._event(db, row, "crypto.deposit_refunded", payment.amount)
    await holds._audit(db, viewer, row, payment, "crypto.deposit_refunded", why)
    if payout.status == "confirmed":
        await holds._event(db, row, "crypto.deposit_refund_confirmed", payment.amount)
    return True


async def on_payout(rt: Runtime, psp: str, event: WebhookEvent) -> tuple[bool, str]:
    """Apply one processor callback about a refund payout; (duplicate, result) as the webhook route reports it."""
    transfer_id = _transfer_of(event.reference)
    async with rt.database.transaction() as db:
        row = payout = None
        if transfer_id is not None:
            row = await db.get(CryptoTransfer, transfer_id, with_for_update={"key_share": True}, populate_existing=True)
            if row is not None and row.processor == psp and row.payment_id is not None:
                payout = await _round(db, event.reference)
        receipt_id = await record_receipt(
            db, psp, event, attempt_id=None, result="applied" if payout else "unknown_reference"
        )
        if receipt_id is None:
            return True, "duplicate"
        if row is None or payout is None:
            log.warning("crypto_refund_unknown_reference", psp=psp, event_id=event.event_id)
            return False, "unknown_reference"
        result = await _decide(db, row, payout, event)
        if result != "applied":
            receipt = await db.get(PspWebhookReceipt, receipt_id)
            assert receipt is not None
            receipt.result = result
        return False, result


async def _decide(db: AsyncSession, row: CryptoTransfer, payout: CryptoRefundPayout, event: WebhookEvent) -> str:
    if event.status == "pending":  # still processing: nothing to change
        return "ignored"
    succeeded = event.status == "succeeded"
    if payout.status in ("confirmed", "failed"):
        if succeeded == (payout.status == "confirmed"):
            return "ignored"  # the same fact again (a redelivery under another event id)
        assert row.payment_id is not None
        of_payment = await db.get(Payment, row.payment_id)
        assert of_payment is not None
        await holds._event(db, row, "crypto.deposit_refund_conflict", of_payment.amount)
        log.warning("crypto_refund_conflict", transfer_id=str(row.id), round=payout.round, said=event.event_type)
        return "conflict"
    if payout.status == "requested" and row.status != "refunding":
        return "ignored"  # never sent to the processor (our screening refused it first)
    assert row.payment_id is not None
    attempt_id = await db.scalar(
        select(col(PaymentAttempt.id)).where(col(PaymentAttempt.payment_id) == row.payment_id).limit(1)
    )
    assert attempt_id is not None
    payment, attempt = await lock_attempt(db, row.payment_id, attempt_id)
    why = f"the processor reported the refund payout {event.event_type.removeprefix('withdrawal.')}"
    if payout.status == "requested":  # the callback overtook the processor's answer
        if succeeded:
            answer = PspAnswer("succeeded", psp_reference=event.psp_reference, raw=dict(event.payload))
            await taken(db, row, payment, attempt, payout.foreign_id, answer, viewer=SYSTEM, why=why)
            return "applied"
        row.status, row.updated_at = "held", clock.now()
        _failed(payout, event)
        await holds._event(db, row, "crypto.deposit_refund_failed", payment.amount)
        await _audit(db, row, payment, payout, why, before="refunding")
        return "applied"
    of = assets.ASSETS[row.asset]
    if succeeded:  # processing → confirmed: final; a fee first reported now is booked now
        fee = fees.reported(of, event.payload)
        if fee and payout.fee is None:
            await fees.book(db, payment, of, fee, key=_fee_key(row.id, payout.round))
            row.fee, payout.fee = Decimal(assets.to_chain(of, fee)), fee
        payout.status, payout.updated_at = "confirmed", clock.now()
        payout.psp_reference = payout.psp_reference or (event.psp_reference or "")[:100] or None
        await holds._event(db, row, "crypto.deposit_refund_confirmed", payment.amount)
        return "applied"
    await _reverse(db, row, payment, attempt, payout)
    _failed(payout, event)
    await holds._event(db, row, "crypto.deposit_refund_failed", payment.amount)
    await _audit(db, row, payment, payout, why, before="refunded")
    return "applied"


async def _reverse(
    db: AsyncSession, row: CryptoTransfer, payment: Payment, attempt: PaymentAttempt, payout: CryptoRefundPayout
) -> None:
    """A taken refund failed: its booking undone once (the round's keys), the deposit held again, pending."""
    clearing, held = await holds._accounts(db, payment)
    sides = [(clearing, -1), (held, 1)]
    await holds._record(
        db, payment, _key("crypto-refund-reversed", payout.round), "crypto_refund_reversed", sides, wallet.Actor("psp")
    )
    if payout.fee:  # a failed payout's fee is returned with its amount
        await fees.give_back(db, payment, assets.ASSETS[row.asset], payout.fee, key=_fee_key(row.id, payout.round))
    now = clock.now()
    history = list((attempt.response_summary or {}).get("history", []))
    history.append({"at": now.isoformat(), "source": "webhook", "status": "pending", "decline_reason": None})
    attempt.outcome, attempt.updated_at = AttemptOutcome.PENDING.value, now
    attempt.response_summary = {**(attempt.response_summary or {}), "history": history[-20:]}
    _set_status(payment, PaymentStatus.PENDING)
    payment.failure_code = payment.failure_message = payment.completed_at = None
    await _event(db, payment, "payment.pending", attempt_id=str(attempt.id))
    row.status, row.fee, row.updated_at = "held", None, now


def _failed(payout: CryptoRefundPayout, event: WebhookEvent) -> None:
    said = event.event_type.removeprefix("withdrawal.")
    reason = f"{said}: {event.decline_reason}" if event.decline_reason else said
    payout.status, payout.failure, payout.updated_at = "failed", reason[:200], clock.now()


async def _audit(
    db: AsyncSession, row: CryptoTransfer, payment: Payment, payout: CryptoRefundPayout, why: str, *, before: str
) -> None:
    details: dict[str, Any] = {
        "status": row.status,
        "payment_id": str(payment.id),
        "amount": payment.amount,
        "currency": payment.currency,
        "foreign_id": payout.foreign_id,
        "failure": payout.failure,
    }
    await audit.append(
        db,
        actor=SYSTEM,
        action="crypto.deposit_refund_failed",
        target_type="crypto_transfer",
        target_id=row.id,
        brand_id=row.brand_id,
        before={"status": before, "held_reason": row.held_reason},
        after=details,
        reason=why,
    )


async def _round(db: AsyncSession, reference: str) -> CryptoRefundPayout | None:
    found: CryptoRefundPayout | None = await db.scalar(
        select(CryptoRefundPayout).where(col(CryptoRefundPayout.foreign_id) == reference)
    )
    return found
