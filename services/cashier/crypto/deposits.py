"""Crypto deposits: the processor's callbacks about transfers to players' addresses, applied once each.

The processor reports a transfer when it enters a block and again as confirmations accumulate (or once it was
dropped from the chain). We count the confirmations ourselves (`settings.crypto_confirmations` per asset)
whatever the processor calls "confirmed". Guarantees:
- a callback is applied once per event id (its receipt in `psp_webhook_receipts`, in the same transaction);
- a transfer is recorded once per processor transaction id, and priced when first seen (quotes.py), again
  only if its quote expired before its confirmations (at the processor's rate then);
- its payment (method `crypto`, PSP `cryptopay`) is created then, `pending`, and credited through the ledger
  (services/cashier/answers.py `_apply`, keyed by the payment id) once the transfer has its confirmations and
  the card deposit's gates pass; a gate refusing holds it in suspense instead (holds.py);
- confirmations only grow: an older callback arriving late (out of order, retried) never moves anything
  back; the same set of callbacks gives the same final state in any order. A transfer dropped from the
  chain fails its payment; dropped after it was credited, it is flagged for staff (an event), never
  debited automatically (the coins may still arrive: a dropped transaction is often re-broadcast).
Locks, in the cashier's order: the transfer's row (it stands before its payment), then the payment and its
attempt (payments.lock_attempt), then the player's row and money (the gates, then the ledger inside `_apply`).
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import outbox
from core.clock import clock
from core.money import MAX_MINOR_UNITS
from core.runtime import Runtime
from models.crypto import CryptoAddress, CryptoTransfer
from models.payments import (
    AttemptOutcome,
    Payment,
    PaymentAttempt,
    PaymentKind,
    PaymentMethod,
    PaymentStatus,
)
from models.players import Player
from services.cashier.answers import _apply
from services.cashier.crypto import assets, holds, quotes
from services.cashier.payments import _event, lock_attempt, log, record_receipt
from services.cashier.psp import ChainTransfer, MalformedWebhook, PspAnswer, WebhookEvent


class RateUnavailable(RuntimeError):
    """A transfer to price with no rate to lock: the callback fails (HTTP 500) and the processor retries it."""


async def on_transfer(rt: Runtime, psp: str, event: WebhookEvent) -> tuple[bool, str]:
    """Apply one deposit callback; (duplicate, result) as the webhook route reports it."""
    transfer = event.transfer
    assert transfer is not None
    async with rt.database.session() as db:
        address = await _address(db, psp, transfer)
        needs_rate = address is not None and address.credit_currency != address.asset
        if address is not None and needs_rate:
            seen = await _seen(db, psp, transfer)
            needs_rate = (
                await quotes.valid_deposit_quote(db, address, clock.now()) is None
                if seen is None
                else _credits_now(seen, transfer) and await quotes.expired(db, seen.quote_id, clock.now())
            )
    # Outside any transaction (no database transaction waits on the processor): the rate to lock, should this
    # be the transfer's first sight with no quote of the player's still valid, or the callback that brings its
    # confirmations after its quote expired (a fresh rate then: docs/crypto.md "Quotes").
    rate_now = await quotes.current_rate(rt, address.asset, address.credit_currency) if address and needs_rate else None
    async with rt.database.transaction() as db:
        fresh = await record_receipt(
            db, psp, event, attempt_id=None, result="applied" if address else "unknown_address"
        )
        if fresh is None:
            return True, "duplicate"
        if address is None:
            log.warning("crypto_deposit_unknown_address", psp=psp, event_id=event.event_id)
            return False, "unknown_address"
        row, first_sight = await _lock_transfer(db, rt, psp, address, transfer)
        if first_sight:
            await _price(db, psp, address, row, rate_now, ttl_seconds=rt.settings.crypto_quote_ttl_seconds)
            rate_now = None  # spent: the quote just locked is valid for the confirmations this callback brings
        return False, await _advance(
            db, rt, address, row, transfer, rate_now=rate_now, repay_debt=rt.settings.deposits_repay_debt
        )


async def _address(db: AsyncSession, psp: str, transfer: ChainTransfer) -> CryptoAddress | None:
    found: CryptoAddress | None = await db.scalar(
        select(CryptoAddress).where(
            col(CryptoAddress.processor) == psp,
            col(CryptoAddress.asset) == transfer.asset,
            col(CryptoAddress.address) == transfer.address,
        )
    )
    return found


async def _seen(db: AsyncSession, psp: str, transfer: ChainTransfer) -> CryptoTransfer | None:
    found: CryptoTransfer | None = await db.scalar(
        select(CryptoTransfer).where(
            col(CryptoTransfer.processor) == psp, col(CryptoTransfer.processor_tx_id) == transfer.processor_tx_id
        )
    )
    return found


def _credits_now(row: CryptoTransfer, transfer: ChainTransfer) -> bool:
    """Whether this callback brings a transfer still to credit to its confirmations."""
    return (
        not transfer.dropped
        and row.status in ("confirming", "cancelled")
        and row.payment_id is not None
        and max(row.confirmations, transfer.confirmations) >= row.required_confirmations
    )


async def _lock_transfer(
    db: AsyncSession, rt: Runtime, psp: str, address: CryptoAddress, transfer: ChainTransfer
) -> tuple[CryptoTransfer, bool]:
    """The transfer's row, inserted at its first sight, locked (concurrent callbacks about it queue here)."""
    of = assets.ASSETS[address.asset]
    asset_amount, dust = assets.to_ledger(of, transfer.amount)
    now = clock.now()
    inserted = (
        await db.execute(
            insert(CryptoTransfer)
            .values(
                id=uuid.uuid4(),
                direction="deposit",
                processor=psp,
                processor_tx_id=transfer.processor_tx_id,
                brand_id=address.brand_id,
                player_id=address.player_id,
                address_id=address.id,
                asset=of.code,
                network=address.network,
                address=address.address,
                chain_amount=transfer.amount,
                asset_amount=asset_amount,
                dust=dust,
                txid=transfer.txid,
                sender_address=transfer.sender,
                confirmations=transfer.confirmations,
                required_confirmations=max(1, int(rt.settings.crypto_confirmations.get(of.code, 1))),
                status="confirming",
                credit_currency=address.credit_currency,
                created_at=now,
                updated_at=now,
            )
            .on_conflict_do_nothing(constraint="uq_crypto_transfers_processor_tx")
            .returning(col(CryptoTransfer.id))
        )
    ).scalar_one_or_none()
    row_id = inserted or await db.scalar(
        select(col(CryptoTransfer.id)).where(
            col(CryptoTransfer.processor) == psp, col(CryptoTransfer.processor_tx_id) == transfer.processor_tx_id
        )
    )
    row = await db.get(CryptoTransfer, row_id, with_for_update={"key_share": True}, populate_existing=True)
    assert row is not None
    return row, inserted is not None


async def _price(
    db: AsyncSession,
    psp: str,
    address: CryptoAddress,
    row: CryptoTransfer,
    rate_now: Decimal | None,
    *,
    ttl_seconds: int,
) -> None:
    """At first sight: what the transfer credits (at its locked rate for a fiat wallet), and its payment."""
    credit = row.asset_amount
    if address.credit_currency != address.asset:
        locked = await quotes.deposit_rate(db, address, row.created_at, rate_now, ttl_seconds=ttl_seconds)
        if locked is None:
            raise RateUnavailable(f"no rate for {address.asset}/{address.credit_currency}")
        row.quote_id, row.rate = locked.id, locked.rate
        credit = assets.fiat_value(row.chain_amount, locked.rate, address.credit_currency)
    if credit > MAX_MINOR_UNITS:  # more than the ledger holds: an absurd callback, refused with nothing written
        raise MalformedWebhook("transaction.amount is worth more than a wallet holds", field="transaction.amount")
    if credit <= 0:  # worth less than a minor unit of the wallet: recorded, no payment
        row.status = "too_small"
        await _transfer_event(db, row, "crypto.deposit_seen", credit=0)
        return
    player = await db.get(Player, address.player_id)
    assert player is not None
    now = clock.now()
    payment = Payment(
        kind=PaymentKind.DEPOSIT.value,
        brand_id=address.brand_id,
        player_id=address.player_id,
        currency=address.credit_currency,
        amount=credit,
        method=PaymentMethod.CRYPTO.value,
        country=player.country,
        status=PaymentStatus.PENDING.value,
        idempotency_key=f"{psp}:{row.processor_tx_id}"[:200],
        instrument_token=assets.instrument_token(assets.ASSETS[address.asset], address.address),
        psp=psp,
        created_at=now,
        updated_at=now,
    )
    db.add(payment)
    await db.flush()
    attempt = PaymentAttempt(
        payment_id=payment.id,
        seq=1,
        psp=psp,
        operation="deposit",
        outcome=AttemptOutcome.PENDING.value,
        psp_reference=(row.txid or row.processor_tx_id or "")[:100] or None,
        request_summary={
            "asset": row.asset,
            "network": row.network,
            "address": row.address,
            "chain_amount": str(row.chain_amount),
            "rate": None if row.rate is None else str(row.rate),
            "quote_id": None if row.quote_id is None else str(row.quote_id),
        },
    )
    db.add(attempt)
    row.payment_id = payment.id
    await db.flush()
    await _event(db, payment, "payment.created")
    await _event(db, payment, "payment.pending", attempt_id=str(attempt.id))
    await _transfer_event(db, row, "crypto.deposit_seen", credit=credit)


async def _advance(
    db: AsyncSession,
    rt: Runtime,
    address: CryptoAddress,
    row: CryptoTransfer,
    transfer: ChainTransfer,
    *,
    rate_now: Decimal | None,
    repay_debt: bool,
) -> str:
    """Apply what this callback says: more confirmations (credit once enough), or the transfer dropped."""
    credits_now = _credits_now(row, transfer)
    row.confirmations = max(row.confirmations, transfer.confirmations)
    row.txid = row.txid or transfer.txid
    row.sender_address = row.sender_address or transfer.sender
    row.updated_at = clock.now()
    if row.payment_id is None:
        return "applied"
    attempt_id = await db.scalar(
        select(col(PaymentAttempt.id)).where(col(PaymentAttempt.payment_id) == row.payment_id).limit(1)
    )
    assert attempt_id is not None
    payment, attempt = await lock_attempt(db, row.payment_id, attempt_id)
    reference = row.txid or row.processor_tx_id
    if transfer.dropped:
        if row.status in ("credited", "held"):  # held: in suspense, flagged the same way (nothing reversed)
            if row.status == "held":  # and neither released nor refunded until mined again (holds.py)
                holds.dropped(row)
            await _transfer_event(db, row, "crypto.deposit_dropped_after_credit", credit=payment.amount)
            return "dropped_after_credit"
        if row.status == "confirming":
            answer = PspAnswer("declined", psp_reference=reference, decline_reason="dropped from the chain")
            await _apply(db, payment, attempt, answer, source="webhook", repay_debt=repay_debt)
            row.status = "cancelled"
            await _transfer_event(db, row, "crypto.deposit_cancelled", credit=payment.amount)
        return "applied"
    if row.status == "held" and row.held_reason == holds.DROPPED:  # the chain dropped it, and mined it again
        return "applied" if await holds.mined_again(db, rt, row, payment, attempt) else "held"
    expired = credits_now and row.rate is not None and await quotes.expired(db, row.quote_id, clock.now())
    if expired and not await _reprice(db, rt, address, row, payment, attempt, rate_now):
        return "applied"
    # Only a transfer still to credit: a held one waits for its release (its money is in suspense, a credit
    # from clearing would pay it twice), one refunded or being refunded went back to its sender.
    if row.confirmations >= row.required_confirmations and row.status in ("confirming", "cancelled"):
        # A transfer dropped earlier and mined after all is credited too: the coins are here. But a drop
        # reported first may be the later fact (a reorganisation after the confirmations, its callbacks out of
        # order): such a credit is flagged as one dropped after it, the state the callbacks give in order.
        dropped_before = row.status == "cancelled"
        refused = await holds.refusal(db, rt, payment)  # the card deposit's gates: refused, held (holds.py)
        if refused is not None:
            await holds.hold(db, row, payment, refused)
            if dropped_before:  # flagged as for a credit: the drop may be the later fact
                await _transfer_event(db, row, "crypto.deposit_dropped_after_credit", credit=payment.amount)
                return "dropped_after_credit"
            return "held"
        await _apply(
            db,
            payment,
            attempt,
            PspAnswer("succeeded", psp_reference=reference),
            source="webhook",
            repay_debt=repay_debt,
        )
        row.status = "credited"
        await _transfer_event(db, row, "crypto.deposit_credited", credit=payment.amount)
        if dropped_before:
            await _transfer_event(db, row, "crypto.deposit_dropped_after_credit", credit=payment.amount)
            return "dropped_after_credit"
    return "applied"


async def _reprice(
    db: AsyncSession,
    rt: Runtime,
    address: CryptoAddress,
    row: CryptoTransfer,
    payment: Payment,
    attempt: PaymentAttempt,
    rate_now: Decimal | None,
) -> bool:
    """Confirmed after its quote expired: the pending payment's amount at the rate of now, locked in a quote
    of its own (False: worth less than a minor unit now, its payment failed as too small)."""
    if rate_now is None:  # the quote expired between the rate's question and this lock: the retry asks again
        raise RateUnavailable(f"no fresh rate for {row.asset}/{row.credit_currency}")
    locked = await quotes.lock_deposit_rate(
        db, address, clock.now(), rate_now, source="confirmed", ttl_seconds=rt.settings.crypto_quote_ttl_seconds
    )
    credit = assets.fiat_value(row.chain_amount, locked.rate, row.credit_currency)
    if credit > MAX_MINOR_UNITS:
        raise MalformedWebhook("transaction.amount is worth more than a wallet holds", field="transaction.amount")
    previous = row.rate
    row.quote_id, row.rate = locked.id, locked.rate
    attempt.request_summary = {
        **(attempt.request_summary or {}),
        "rate": str(locked.rate),
        "quote_id": str(locked.id),
        "expired_rate": None if previous is None else str(previous),
    }
    if credit <= 0:
        answer = PspAnswer("declined", psp_reference=row.txid, decline_reason="worth less than a minor unit")
        await _apply(db, payment, attempt, answer, source="webhook", repay_debt=False)
        row.status = "too_small"
        await _transfer_event(db, row, "crypto.deposit_repriced", credit=0)
        return False
    payment.amount = credit
    payment.updated_at = clock.now()
    await _transfer_event(db, row, "crypto.deposit_repriced", credit=credit)
    return True


async def _transfer_event(db: AsyncSession, row: CryptoTransfer, topic: str, *, credit: int) -> None:
    data: dict[str, Any] = {
        "transfer_id": str(row.id),
        "player_id": str(row.player_id),
        "payment_id": None if row.payment_id is None else str(row.payment_id),
        "asset": row.asset,
        "asset_amount": row.asset_amount,
        "confirmations": row.confirmations,
        "required_confirmations": row.required_confirmations,
        "status": row.status,
        "currency": row.credit_currency,
        "amount": credit,
    }
    if row.held_reason is not None:
        data["gate"] = row.held_reason
    await outbox.emit(db, topic, f"player:{row.player_id}", data, brand_id=row.brand_id)
