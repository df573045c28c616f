"""PSP webhooks: verify, record once per event id, apply to the attempt they speak about."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from core.runtime import Runtime
from models.payments import Payment, PaymentAttempt, PspWebhookReceipt
from services.cashier import chargebacks
from services.cashier.answers import _apply
from services.cashier.cascade import _run_follow_up
from services.cashier.crypto import deposits as crypto_deposits
from services.cashier.crypto import fees as crypto_fees
from services.cashier.crypto import refunds as crypto_refunds
from services.cashier.crypto.processor import PROCESSOR as CRYPTO_PROCESSOR
from services.cashier.payments import PaymentUnavailable, lock_attempt, log, record_receipt
from services.cashier.psp import InvalidSignature, PspAnswer, WebhookEvent
from services.cashier.psp.adapters import ADAPTERS
from services.cashier.routing import adapter_for


@dataclass(frozen=True)
class WebhookOutcome:
    duplicate: bool
    result: str  # applied | duplicate | unknown_reference; a notice (chargeback, ...) also ignored


async def handle_webhook(rt: Runtime, psp: str, body: bytes, headers: Mapping[str, str]) -> WebhookOutcome:
    """A PSP's signed notification: verify, record once per event id, apply to its attempt.

    Raises InvalidSignature (the edge answers 401). The receipt and the state change commit together,
    so a webhook that failed half-way is retried by the PSP and applied then.
    """
    if psp not in ADAPTERS:
        raise InvalidSignature("unknown PSP")
    try:
        adapter = adapter_for(rt.settings, psp)
    except PaymentUnavailable as exc:
        raise InvalidSignature("PSP not configured") from exc
    event: WebhookEvent = adapter.verify_webhook(body, headers)
    if event.transfer is not None:  # a crypto deposit seen on chain: no attempt of ours to answer about
        return WebhookOutcome(*await crypto_deposits.on_transfer(rt, psp, event))
    if psp == CRYPTO_PROCESSOR and crypto_refunds.is_refund(event.reference):  # a held deposit's refund payout
        return WebhookOutcome(*await crypto_refunds.on_payout(rt, psp, event))
    attempt_id: uuid.UUID | None
    try:
        attempt_id = uuid.UUID(event.reference)
    except ValueError:
        attempt_id = None
    answer = PspAnswer(
        event.status,
        psp_reference=event.psp_reference,
        decline_reason=event.decline_reason,
        raw={"event_id": event.event_id, "type": event.event_type, "sequence": event.sequence},
    )
    async with rt.database.transaction() as db:
        found = await db.get(PaymentAttempt, attempt_id) if attempt_id else None
        locked: tuple[Payment, PaymentAttempt] | None = None
        if found is not None and found.psp == psp:  # a PSP only speaks about its own attempts
            # The payment's locks first, then the receipt: inserting the receipt takes a KEY SHARE lock on
            # the attempt it names, which must never be held while waiting for the payment (the cashier's
            # lock order, in the package docstring).
            locked = await lock_attempt(db, found.payment_id, found.id)
        receipt_id = await record_receipt(
            db,
            psp,
            event,
            attempt_id=locked[1].id if locked else None,
            result="applied" if locked else "unknown_reference",
        )
        if receipt_id is None:
            return WebhookOutcome(True, "duplicate")
        if locked is None:
            log.warning("psp_webhook_unknown_reference", psp=psp, event_id=event.event_id)
            return WebhookOutcome(False, "unknown_reference")
        payment, attempt = locked
        repay_debt = rt.settings.deposits_repay_debt
        result = "applied"
        if event.notice is not None:  # a chargeback, its reversal, a returned payout: not the attempt's outcome
            result, follow = await chargebacks.apply_notice(db, payment, attempt, event.notice, repay_debt=repay_debt)
            if result != "applied":
                receipt = await db.get(PspWebhookReceipt, receipt_id)
                assert receipt is not None
                receipt.result = result
        else:
            follow = await _apply(db, payment, attempt, answer, source="webhook", repay_debt=repay_debt)
            if psp == CRYPTO_PROCESSOR and answer.status == "succeeded" and payment.kind == "withdrawal":
                await crypto_fees.on_payout(db, payment, event.payload)  # the network fee it charged
        payment_id = payment.id
    await _run_follow_up(rt, follow, payment_id)
    return WebhookOutcome(False, result)
