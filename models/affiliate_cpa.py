"""What an attributed player did towards their CPA: one row per deposit, stake or stake rollback, written by the
`affiliate-cpa` consumer (services/affiliates/cpa.py) until the player qualifies. Amounts are positive, in the
player's currency; a rollback gives a stake back."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index
from sqlmodel import Field, SQLModel


class ActivityKind(StrEnum):
    DEPOSIT = "deposit"
    STAKE = "stake"  # cash staked
    ROLLBACK = "rollback"  # a cash stake given back by its provider


class AffiliateCpaActivity(SQLModel, table=True):
    __tablename__ = "affiliate_cpa_activity"
    __table_args__ = (
        CheckConstraint("kind IN ('deposit', 'stake', 'rollback')", name="ck_affiliate_cpa_activity_kind"),
        CheckConstraint("amount >= 0", name="ck_affiliate_cpa_activity_amount"),
        Index("ix_affiliate_cpa_activity_player", "player_id", "at"),
    )

    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    player_id: uuid.UUID = Field(foreign_key="players.id")
    kind: str = Field(max_length=16)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
