"""The transactional outbox: events written in the same transaction as the change they describe."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, timestamp_field


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_unpublished", "id", postgresql_where="published_at IS NULL"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    topic: str = Field(max_length=64)  # e.g. "wallet.balance_changed"
    key: str = Field(max_length=64)  # routing key, e.g. the player id
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()
    published_at: datetime | None = timestamp_field()
