"""The transactional outbox (events written in the same transaction as the change they describe) and
the bookkeeping of its consumers (which events each has processed or parked)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime, Index, SmallInteger, Text, func
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, timestamp_field


class OutboxEvent(SQLModel, table=True):
    __tablename__ = "outbox_events"
    __table_args__ = (Index("ix_outbox_unpublished", "id", postgresql_where="published_at IS NULL"),)

    id: int | None = Field(default=None, sa_column=Column(BigInteger, primary_key=True, autoincrement=True))
    topic: str = Field(max_length=64)  # the event's type in the catalogue, e.g. "ledger.game_bet"
    key: str = Field(max_length=64)  # its subject and routing key, e.g. "player:<id>"
    brand_id: uuid.UUID | None = None
    schema_version: int = Field(default=0, sa_column=Column(SmallInteger, nullable=False, server_default="0"))
    payload: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()
    published_at: datetime | None = timestamp_field()


class EventConsumer(SQLModel, table=True):
    """Every event with an id at or below `cursor` has been processed or parked by this consumer."""

    __tablename__ = "event_consumers"

    name: str = Field(primary_key=True, max_length=64)
    cursor: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    updated_at: datetime = created_at_field()


class ConsumerProcessed(SQLModel, table=True):
    __tablename__ = "consumer_processed"

    consumer: str = Field(primary_key=True, max_length=64)
    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True))


class ConsumerParked(SQLModel, table=True):
    """A poison event: its consumer failed on it repeatedly and set it aside (reported, retriable)."""

    __tablename__ = "consumer_parked"

    consumer: str = Field(primary_key=True, max_length=64)
    event_id: int = Field(sa_column=Column(BigInteger, primary_key=True))
    error: str = Field(sa_column=Column(Text, nullable=False))
    parked_at: datetime = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
    retried_at: datetime | None = timestamp_field()


class SinkInflight(SQLModel, table=True):
    """The events a sink is handing to its broker right now (written before it publishes)."""

    __tablename__ = "sink_inflight"

    consumer: str = Field(primary_key=True, max_length=64)
    event_ids: list[int] = Field(sa_column=Column(ARRAY(BigInteger), nullable=False))
    since: datetime = Field(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now())
    )
