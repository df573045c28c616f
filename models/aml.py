"""Sanctions and PEP screening (services/aml): the lists loaded, each player's last screening, the alerts."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, DateTime, Float, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class AlertState(StrEnum):
    OPEN = "open"
    FALSE_POSITIVE = "false_positive"
    CONFIRMED = "confirmed"


class ScreeningListVersion(SQLModel, table=True):
    """A version of the lists (the SHA-256 of their files) the first time it was screened against."""

    __tablename__ = "aml_list_versions"

    version: str = Field(primary_key=True, max_length=64)
    source: str = Field(max_length=1000)
    entities: int
    loaded_at: datetime = created_at_field()


class PlayerScreening(SQLModel, table=True):
    """A player's last screening: against which list version, with which details (their fingerprint)."""

    __tablename__ = "aml_player_screenings"
    __table_args__ = (Index("ix_aml_player_screenings_version", "list_version", "player_id"),)

    player_id: uuid.UUID = Field(primary_key=True, foreign_key="players.id")
    list_version: str = Field(max_length=64)
    player_fingerprint: str = Field(max_length=64)
    matches: int
    screened_at: datetime = created_at_field()


class ScreeningAlert(SQLModel, table=True):
    """A match above the threshold, for staff to review. One open alert per (player, entity); a decided
    one stays as it was decided, and a later match of the same pair with the same details stays quiet."""

    __tablename__ = "aml_screening_alerts"
    __table_args__ = (
        CheckConstraint("state IN ('open', 'false_positive', 'confirmed')", name="ck_aml_alerts_state"),
        CheckConstraint("score >= 0 AND score <= 1", name="ck_aml_alerts_score"),
        CheckConstraint("(state = 'open') = (decided_at IS NULL)", name="ck_aml_alerts_decided"),
        Index("uq_aml_alerts_open_pair", "player_id", "entity_id", unique=True, postgresql_where="state = 'open'"),
        Index("ix_aml_screening_alerts_queue", "state", "created_at", "id"),
        Index("ix_aml_screening_alerts_player", "player_id", "entity_id"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    entity_id: str = Field(max_length=200)
    list_version: str = Field(max_length=64)
    score: float = Field(sa_column=Column(Float, nullable=False))
    entity: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))  # the entity as listed then
    why: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))  # which names and fields matched
    player_fingerprint: str = Field(max_length=64)
    entity_fingerprint: str = Field(max_length=64)
    state: str = Field(default=AlertState.OPEN.value, max_length=16)
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    decided_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    decision_reason: str | None = None
    created_at: datetime = created_at_field()
