"""Identity verification at an outside provider (Sumsub's shape): one applicant per player per provider, and
every verified webhook once.

Invariants the database enforces: one applicant per (player, provider) and per (provider, applicant id);
one receipt per (provider, delivery id), so a redelivered webhook finds its receipt and changes nothing.
`reviewed_at` is the provider's own time of the review result applied last (`createdAtMs`): a result no
newer than it is recorded but never applied (services/kyc/idv/webhooks.py).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, Column, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class IdvApplicant(SQLModel, table=True):
    """A player's applicant at the provider: its status there and the review result applied last."""

    __tablename__ = "kyc_idv_applicants"
    __table_args__ = (
        UniqueConstraint("player_id", "provider", name="uq_kyc_idv_applicants_player"),
        UniqueConstraint("provider", "applicant_id", name="uq_kyc_idv_applicants_applicant"),
        CheckConstraint("status IN ('init', 'pending', 'on_hold', 'completed')", name="ck_kyc_idv_applicants_status"),
        CheckConstraint(
            "review_answer IS NULL OR review_answer IN ('GREEN', 'RED')", name="ck_kyc_idv_applicants_answer"
        ),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    provider: str = Field(max_length=32)
    applicant_id: str = Field(max_length=100)
    level_name: str = Field(max_length=64)
    status: str = Field(default="init", max_length=16)  # init | pending | on_hold | completed
    status_at: datetime | None = timestamp_field()  # the provider's time of the status event applied last
    review_answer: str | None = Field(default=None, max_length=8)  # GREEN | RED
    reject_type: str | None = Field(default=None, max_length=8)  # RED only: FINAL | RETRY
    reject_labels: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    reviewed_at: datetime | None = timestamp_field()  # the provider's time of the result applied last
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class IdvWebhookReceipt(SQLModel, table=True):
    """Every verified webhook, once per (provider, delivery id) — what it said and what became of it."""

    __tablename__ = "kyc_idv_webhook_receipts"
    __table_args__ = (UniqueConstraint("provider", "delivery_id", name="uq_kyc_idv_webhook_receipts_delivery"),)

    id: uuid.UUID = id_field()
    provider: str = Field(max_length=32)
    delivery_id: str = Field(max_length=200)
    event_type: str = Field(max_length=64)
    applicant_id: str | None = Field(default=None, max_length=100)
    player_id: uuid.UUID | None = Field(default=None, foreign_key="players.id", index=True)
    result: str = Field(max_length=32)  # applied | stale | ignored | unknown_applicant
    event_at: datetime | None = timestamp_field()
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    received_at: datetime = created_at_field()
