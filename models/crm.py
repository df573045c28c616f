"""CRM: the tables its parts share (migration 0051).

- Segments: a dynamic segment's members follow its rules (kept current from the events); a static
  segment's members are an uploaded list. `crm_segment_members` is the one membership table either way,
  read by journeys, lobbies and content.
- Tags: labels on a player set by journeys or staff, usable in segment rules.
- Consents: a player's marketing consent per product and channel. A missing row is no consent.
- Messages: the send queue and the delivery log in one row per message. Journeys and staff queue a message
  (`status` queued, idempotent by `idempotency_key`); the channel's sender checks suppression right before
  it sends, then marks it sent, failed, suppressed (with `reason`) or cancelled; opens, clicks and inbox
  reads are stamped on it.
- Suppressions: every refusal to reach a player, a message or an offer, with its reason code.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Column, Identity, Text, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class SegmentKind(StrEnum):
    DYNAMIC = "dynamic"
    STATIC = "static"


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"  # through the webhook channel's provider
    PUSH = "push"  # through the webhook channel's provider
    INBOX = "inbox"  # on-site messages over GraphQL


class MessageStatus(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"
    SUPPRESSED = "suppressed"
    CANCELLED = "cancelled"


class Purpose(StrEnum):
    MESSAGE = "message"
    OFFER = "offer"


def _jsonb() -> Any:
    return Field(default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb")))


class CrmSegment(SQLModel, table=True):
    __tablename__ = "crm_segments"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    name: str = Field(max_length=120)
    kind: str = Field(max_length=16)
    rules: dict[str, Any] = _jsonb()
    status: str = Field(default="active", max_length=16)
    version: int = 1
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class CrmSegmentMember(SQLModel, table=True):
    __tablename__ = "crm_segment_members"

    segment_id: uuid.UUID = Field(foreign_key="crm_segments.id", primary_key=True)
    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    joined_at: datetime = created_at_field()


class CrmPlayerTag(SQLModel, table=True):
    __tablename__ = "crm_player_tags"

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    tag: str = Field(max_length=40, primary_key=True)
    source: str = Field(max_length=40)
    tagged_at: datetime = created_at_field()


class CrmConsent(SQLModel, table=True):
    __tablename__ = "crm_consents"

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    product: str = Field(max_length=24, primary_key=True)
    channel: str = Field(max_length=16, primary_key=True)
    granted: bool
    source: str = Field(max_length=24)
    changed_at: datetime = created_at_field()


class CrmMessage(SQLModel, table=True):
    __tablename__ = "crm_messages"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    channel: str = Field(max_length=16)
    product: str = Field(max_length=24)
    template: str = Field(max_length=80)
    language: str | None = Field(default=None, max_length=8)
    context: dict[str, Any] = _jsonb()
    status: str = Field(default=MessageStatus.QUEUED.value, max_length=16)
    reason: str | None = Field(default=None, max_length=40)
    idempotency_key: str = Field(max_length=200, unique=True)
    source_kind: str = Field(max_length=24)
    source_id: uuid.UUID | None = None
    due_at: datetime = created_at_field()
    attempts: int = 0
    lease_until: datetime | None = timestamp_field()
    last_error: str | None = Field(default=None, max_length=200)
    sent_at: datetime | None = timestamp_field()
    opened_at: datetime | None = timestamp_field()
    clicked_at: datetime | None = timestamp_field()
    read_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    # crmchan (migration 0054): what was sent — its subject, and an inbox message's rendered bodies.
    subject: str | None = Field(default=None, max_length=200)
    body_text: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    body_html: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class CrmSuppression(SQLModel, table=True):
    __tablename__ = "crm_suppressions"

    id: int | None = Field(default=None, sa_column=Column(BigInteger, Identity(), primary_key=True))
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    player_id: uuid.UUID = Field(foreign_key="players.id")
    purpose: str = Field(max_length=16)
    channel: str | None = Field(default=None, max_length=16)
    product: str = Field(max_length=24)
    reason: str = Field(max_length=40)
    source_kind: str = Field(max_length=24)
    source_id: uuid.UUID | None = None
    message_id: uuid.UUID | None = Field(default=None, foreign_key="crm_messages.id")
    at: datetime = created_at_field()


class CrmSegmentPending(SQLModel, table=True):
    """A player whose money moved (`event_id`, the latest such event), waiting until the report projection
    has counted it to have their dynamic segments re-evaluated (migration 0052)."""

    __tablename__ = "crm_segment_pending"

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    event_id: int = Field(sa_column=Column(BigInteger, nullable=False))
    since: datetime = created_at_field()
