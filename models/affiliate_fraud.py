"""Affiliate fraud: a flag on a partner's sub-id whose players look like fraud (linked accounts, deposits
without play, one device), which withholds the CPA of the sub-id's players until staff review it
(services/affiliates/fraud.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, Column, DateTime, Index, Integer, String, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import id_field, timestamp_field


class SubIdFlagStatus(StrEnum):
    OPEN = "open"  # the sub-id's CPAs are withheld
    CLEARED = "cleared"  # a false positive: the withheld CPAs are qualified again
    CONFIRMED = "confirmed"  # fraud: the withheld CPAs are rejected


class AffiliateSubIdFlag(SQLModel, table=True):
    __tablename__ = "affiliate_subid_flags"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'cleared', 'confirmed')", name="ck_affiliate_subid_flags_status"),
        CheckConstraint(
            "(status = 'open') = (reviewed_at IS NULL)", name="ck_affiliate_subid_flags_reviewed_when_closed"
        ),
        Index(
            "uq_affiliate_subid_flags_open",
            "affiliate_id",
            "brand_id",
            "sub_id",
            unique=True,
            postgresql_where=text("status = 'open'"),
        ),
        Index("ix_affiliate_subid_flags_subid", "affiliate_id", "sub_id", "status"),
        Index("ix_affiliate_subid_flags_queue", "status", "raised_at", "id"),
    )

    id: uuid.UUID = id_field()
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    sub_id: str = Field(max_length=100)  # '' for the players sent without a sub-id
    status: str = Field(default=SubIdFlagStatus.OPEN.value, max_length=16)
    reasons: list[str] = Field(sa_column=Column(ARRAY(String(32)), nullable=False))
    evidence: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    player_ids: list[uuid.UUID] = Field(sa_column=Column(ARRAY(Uuid()), nullable=False))
    withheld: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    raised_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    reviewed_by: uuid.UUID | None = None
    reviewed_at: datetime | None = timestamp_field()
    review_note: str | None = Field(default=None, max_length=500)
    released: int | None = None  # cleared: the CPAs qualified again
    rejected: int | None = None  # confirmed: the CPAs rejected
