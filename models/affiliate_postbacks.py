"""Affiliate postbacks: server-to-server calls to a partner's URL when one of its players registers, makes a
first deposit or qualifies for CPA (services/affiliates/postbacks).

A partner has one signing secret (HMAC-SHA256 over each request) and one `ref_salt` that turns a player id
into the opaque `player_ref` the partner sees (never the player id or personal data). A delivery is one
call to make, unique per (config, event id) and per (config, player); each try is an attempt row.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, Column, DateTime, ForeignKey, Identity, Integer, Text, text
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class PostbackTrigger(StrEnum):
    REGISTRATION = "registration"
    FIRST_DEPOSIT = "first_deposit"
    QUALIFICATION = "qualification"


class PostbackMethod(StrEnum):
    GET = "GET"
    POST = "POST"


class DeliveryStatus(StrEnum):
    PENDING = "pending"  # waits for its next try (`next_attempt_at`)
    SENDING = "sending"  # a worker holds it until `next_attempt_at` (its lease), then it is due again
    DELIVERED = "delivered"  # the partner answered 2xx: never sent again
    FAILED = "failed"  # every try failed: staff may retry it


class AffiliatePostbackSecret(SQLModel, table=True):
    __tablename__ = "affiliate_postback_secrets"

    affiliate_id: uuid.UUID = Field(sa_column=Column(ForeignKey("affiliates.id", ondelete="CASCADE"), primary_key=True))
    secret: str = Field(max_length=128)
    # Never rotated: the partner's `player_ref` of a player stays the same for ever.
    ref_salt: str = Field(max_length=64)
    rotated_by: uuid.UUID | None = None
    rotated_at: datetime = created_at_field()


class AffiliatePostbackConfig(SQLModel, table=True):
    __tablename__ = "affiliate_postback_configs"

    id: uuid.UUID = id_field()
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")  # None: every brand of the partner
    trigger: str = Field(max_length=16)
    method: str = Field(default=PostbackMethod.GET.value, max_length=8)
    url_template: str = Field(max_length=2000)
    active: bool = Field(default=True, sa_column=Column(Boolean, nullable=False, server_default=text("true")))
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class AffiliatePostbackDelivery(SQLModel, table=True):
    __tablename__ = "affiliate_postback_deliveries"

    id: uuid.UUID = id_field()
    config_id: uuid.UUID = Field(foreign_key="affiliate_postback_configs.id")
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    trigger: str = Field(max_length=16)
    method: str = Field(max_length=8)
    url: str = Field(max_length=4000)
    body: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    status: str = Field(default=DeliveryStatus.PENDING.value, max_length=16)
    attempts: int = Field(default=0, sa_column=Column(Integer, nullable=False, server_default=text("0")))
    max_attempts: int = Field(sa_column=Column(Integer, nullable=False))
    event_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    next_attempt_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    delivered_at: datetime | None = timestamp_field()
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = created_at_field()


class AffiliatePostbackAttempt(SQLModel, table=True):
    __tablename__ = "affiliate_postback_attempts"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    delivery_id: uuid.UUID = Field(
        sa_column=Column(ForeignKey("affiliate_postback_deliveries.id", ondelete="CASCADE"), nullable=False)
    )
    attempt: int = Field(sa_column=Column(Integer, nullable=False))
    started_at: datetime = Field(sa_column=Column(DateTime(timezone=True), nullable=False))
    latency_ms: int = Field(sa_column=Column(Integer, nullable=False))
    http_status: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    succeeded: bool = Field(sa_column=Column(Boolean, nullable=False))
    error: str | None = Field(default=None, max_length=500)
