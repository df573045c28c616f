"""Chargebacks and their disputes (services/cashier/chargebacks.py).

One row per chargeback a PSP announced (`psp`, `chargeback_id` unique): what it took back from the player's
cash and what it booked as debt, the ledger transactions of the chargeback and of its reversal, and the
dispute with its evidence. States: open → evidence_submitted → won (the PSP reversed it: the money came
back exactly as it left) | lost (the debt stays the player's).

A reversal that arrives before its chargeback is kept here too (`chargeback_transaction_id` NULL, state
won): the chargeback, when it comes, is booked and at once reversed.
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


class DisputeState(StrEnum):
    OPEN = "open"
    EVIDENCE_SUBMITTED = "evidence_submitted"
    WON = "won"
    LOST = "lost"


class Dispute(SQLModel, table=True):
    __tablename__ = "disputes"
    __table_args__ = (
        UniqueConstraint("psp", "chargeback_id", name="uq_disputes_chargeback"),
        CheckConstraint("amount > 0", name="ck_disputes_amount_positive"),
        CheckConstraint("cash_debited >= 0 AND debt_booked >= 0", name="ck_disputes_split"),
        CheckConstraint("state IN ('open', 'evidence_submitted', 'won', 'lost')", name="ck_disputes_state"),
        Index("ix_disputes_brand_state", "brand_id", "state", "created_at", "id"),
        Index("ix_disputes_player", "player_id", "created_at"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    payment_id: uuid.UUID = Field(foreign_key="payments.id", index=True)
    psp: str = Field(max_length=32)
    chargeback_id: str = Field(max_length=100)  # the PSP's own id of the chargeback
    reason_code: str | None = Field(default=None, max_length=64)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    cash_debited: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    debt_booked: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    state: str = Field(max_length=24)
    chargeback_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    reversal_transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    evidence: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    note: str | None = Field(default=None, max_length=2000)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    opened_at: datetime | None = timestamp_field()
    decided_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
