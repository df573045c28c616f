"""Closed-loop exceptions (services/cashier/closed_loop.py, docs/closed-loop.md).

A row waives `amount` minor units of one loop share of a player's currency — the money that deposits
through one method and instrument brought in and that withdrawals would otherwise have to send back
there first — granted by staff with a reason (audited). Revoking it (staff again, with a reason) puts
the amount back into the share. Rows are never deleted.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, Column, Index
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class ClosedLoopException(SQLModel, table=True):
    __tablename__ = "closed_loop_exceptions"
    __table_args__ = (
        CheckConstraint("amount > 0", name="ck_closed_loop_exceptions_amount_positive"),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL)", name="ck_closed_loop_exceptions_revoked_together"
        ),
        Index("ix_closed_loop_exceptions_player", "player_id", "currency", "created_at"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    currency: str = Field(foreign_key="currencies.code", max_length=8)
    method: str = Field(max_length=32)
    # The share's instrument key (closed_loop.instrument_key): a PSP vault token, a crypto asset, or ""
    # for deposits that named none (a bank transfer without an account token).
    instrument: str = Field(max_length=128)
    amount: int = Field(sa_column=Column(BigInteger, nullable=False))  # minor units waived
    reason: str = Field(max_length=500)
    granted_by: uuid.UUID = Field(foreign_key="staff_users.id")
    created_at: datetime = created_at_field()
    revoked_at: datetime | None = timestamp_field()
    revoked_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    revoke_reason: str | None = Field(default=None, max_length=500)
