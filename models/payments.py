"""Payments (deposits and withdrawals), their attempts at PSPs, and received PSP webhooks.

A payment is what the player asked for; an attempt is one try at one PSP (the cascade makes
several). Money never moves here: the ledger moves it (services/wallet.py), keyed by the payment id,
so a payment is credited or paid out at most once whatever the attempts and webhooks say.
Invariants the database enforces: amounts are positive minor units; one idempotency key per
player; one attempt number per payment; a PSP event id is processed once; the two approvers of a
four-eyes withdrawal differ.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class PaymentKind(StrEnum):
    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"


class PaymentStatus(StrEnum):
    # Deposits: created → pending (3-D Secure, PSP processing) → succeeded | failed. A deposit a risk rule
    # holds (services/risk): created → held → created again when risk staff release it (then on as above),
    # or failed when they decline it. No PSP is asked while it is held; no money has moved.
    CREATED = "created"
    HELD = "held"
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Withdrawals: requested (held) → approved → processing → paid | rejected | failed (hold voided).
    # A player who lacks the KYC level required of them: waiting_for_kyc (held) → requested once reached.
    REQUESTED = "requested"
    WAITING_FOR_KYC = "waiting_for_kyc"
    APPROVED = "approved"
    PROCESSING = "processing"
    PAID = "paid"
    REJECTED = "rejected"
    CANCELLED = "cancelled"  # withdrawn by the player before it was sent (the hold is voided)
    RETURNED = "returned"  # paid, then the bank sent it back: the money is in cash again (chargebacks.py)


TERMINAL_STATUSES = frozenset(
    {
        PaymentStatus.SUCCEEDED,
        PaymentStatus.FAILED,
        PaymentStatus.PAID,
        PaymentStatus.REJECTED,
        PaymentStatus.CANCELLED,
        PaymentStatus.RETURNED,
    }
)


class PaymentMethod(StrEnum):
    CARD = "card"
    EWALLET = "ewallet"
    BANK_TRANSFER = "bank_transfer"
    CRYPTO = "crypto"  # through a crypto processor only (services/cashier/crypto): an address, not a token


class AttemptOutcome(StrEnum):
    SENDING = "sending"  # written before the PSP is called: a crash leaves a trace to reconcile
    PENDING = "pending"  # the PSP accepted it and will answer later (3-D Secure, async payout)
    SUCCEEDED = "succeeded"
    DECLINED = "declined"  # a hard refusal (card refused, account closed): the cascade stops
    TECHNICAL_FAILURE = "technical_failure"  # timeout, 5xx, unreachable: the cascade moves on
    REFUNDED = "refunded"  # a late success of an attempt the cascade had left: given back


class Payment(SQLModel, table=True):
    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("player_id", "idempotency_key", name="uq_payments_player_idempotency_key"),
        CheckConstraint("amount > 0", name="ck_payments_amount_positive"),
        CheckConstraint("kind IN ('deposit', 'withdrawal')", name="ck_payments_kind"),
        CheckConstraint(
            "status IN ('created', 'pending', 'succeeded', 'failed', 'requested', 'approved', 'processing', "
            "'paid', 'rejected', 'cancelled', 'waiting_for_kyc', 'returned', 'held')",
            name="ck_payments_status",
        ),
        CheckConstraint(
            "approved_by IS NULL OR first_approved_by IS NULL OR approved_by <> first_approved_by",
            name="ck_payments_four_eyes",
        ),
        Index("ix_payments_brand_status", "brand_id", "status", "created_at", "id"),
        Index("ix_payments_player_created", "player_id", "created_at", "id"),
        Index(
            "ix_payments_open",
            "status",
            "updated_at",
            postgresql_where="status IN ('created', 'pending', 'approved', 'processing')",
        ),
    )

    id: uuid.UUID = id_field()
    kind: str = Field(max_length=16)
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # minor units, positive
    method: str = Field(max_length=32)
    country: str = Field(max_length=2)
    status: str = Field(max_length=16)
    idempotency_key: str = Field(max_length=200)
    # A PSP vault token (never card data); kept so the cascade can present it to the next PSP.
    instrument_token: str | None = Field(default=None, max_length=128)
    # The card's fingerprint as the PSP's vault reports it (one per card number and merchant, whatever the token):
    # the closed loop matches a card's payments by it (services/cashier/closed_loop.py). None: not a card, or the
    # vault said none.
    instrument_fingerprint: str | None = Field(default=None, max_length=128)
    psp: str | None = Field(default=None, max_length=32)  # the PSP of the current or winning attempt
    redirect_url: str | None = Field(default=None, max_length=500)
    hold_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_holds.id")
    transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    failure_code: str | None = Field(default=None, max_length=32)
    failure_message: str | None = Field(default=None, max_length=500)
    first_approved_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    rejected_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    decision_reason: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
    completed_at: datetime | None = timestamp_field()


class PaymentAttempt(SQLModel, table=True):
    __tablename__ = "payment_attempts"
    __table_args__ = (
        UniqueConstraint("payment_id", "seq", name="uq_payment_attempts_seq"),
        CheckConstraint(
            "outcome IN ('sending', 'pending', 'succeeded', 'declined', 'technical_failure', 'refunded')",
            name="ck_payment_attempts_outcome",
        ),
        Index("ix_payment_attempts_reference", "psp", "psp_reference"),
    )

    id: uuid.UUID = id_field()  # also our reference at the PSP (their idempotency key)
    payment_id: uuid.UUID = Field(foreign_key="payments.id", index=True)
    seq: int
    psp: str = Field(max_length=32)
    operation: str = Field(max_length=16)  # deposit | payout
    outcome: str = Field(max_length=24)
    psp_reference: str | None = Field(default=None, max_length=100)
    request_summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    response_summary: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class PspWebhookReceipt(SQLModel, table=True):
    """Every verified webhook, once per (PSP, event id): a replay finds its receipt and does nothing."""

    __tablename__ = "psp_webhook_receipts"
    __table_args__ = (UniqueConstraint("psp", "event_id", name="uq_psp_webhook_receipts_event"),)

    id: uuid.UUID = id_field()
    psp: str = Field(max_length=32)
    event_id: str = Field(max_length=100)
    event_type: str = Field(max_length=64)
    attempt_id: uuid.UUID | None = Field(default=None, foreign_key="payment_attempts.id")
    result: str = Field(max_length=32)  # applied | ignored | unknown_reference
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = created_at_field()
