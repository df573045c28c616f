"""Manual balance adjustments by staff: a reason always, a second approver above a threshold."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class AdjustmentStatus(StrEnum):
    PENDING_APPROVAL = "pending_approval"
    APPLIED = "applied"
    REJECTED = "rejected"
    REFUSED = "refused"  # approved, but the ledger refused it (a debit beyond the balance)


class Adjustment(SQLModel, table=True):
    __tablename__ = "adjustments"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="ck_adjustments_amount"),
        CheckConstraint(
            "status IN ('pending_approval', 'applied', 'rejected', 'refused')", name="ck_adjustments_status"
        ),
        CheckConstraint("approved_by IS NULL OR approved_by <> requested_by", name="ck_adjustments_four_eyes"),
        Index("ix_adjustments_brand_status", "brand_id", "status", "created_at"),
    )

    id: uuid.UUID = id_field()
    idempotency_key: str = Field(max_length=200, unique=True)
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id", index=True)
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # signed minor units
    reason: str
    status: str = Field(max_length=24)
    requested_by: uuid.UUID = Field(foreign_key="staff_users.id")
    approved_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    decision_reason: str | None = None
    transaction_id: uuid.UUID | None = Field(default=None, foreign_key="ledger_transactions.id")
    created_at: datetime = created_at_field()
    decided_at: datetime | None = timestamp_field()
