"""Responsible gambling: limits, activity counters, exclusions, reality checks, history and risk flags."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, CheckConstraint, Column, Date, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class LimitKind(StrEnum):
    DEPOSIT = "deposit"
    LOSS = "loss"  # stakes minus wins
    WAGER = "wager"  # stakes
    SESSION_TIME = "session_time"  # seconds logged in


class LimitPeriod(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class ExclusionKind(StrEnum):
    TIME_OUT = "time_out"
    SELF_EXCLUSION = "self_exclusion"


class RgFlagStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class RgLimit(SQLModel, table=True):
    """One limit of a player: the amount in force, and a pending increase or removal waiting out its
    cooling-off (then the player confirms it). Money limits are in the player's currency."""

    __tablename__ = "rg_limits"
    __table_args__ = (
        UniqueConstraint("player_id", "kind", "period", name="uq_rg_limits_player_kind_period"),
        CheckConstraint("kind IN ('deposit', 'loss', 'wager', 'session_time')", name="ck_rg_limits_kind"),
        CheckConstraint("period IN ('day', 'week', 'month')", name="ck_rg_limits_period"),
        CheckConstraint("amount IS NULL OR amount > 0", name="ck_rg_limits_amount"),
        CheckConstraint("pending_amount IS NULL OR pending_amount > 0", name="ck_rg_limits_pending_amount"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id", index=True)
    kind: str = Field(max_length=16)
    period: str = Field(max_length=8)
    currency: str | None = Field(default=None, max_length=8)  # null for session time
    amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))  # null: none in force
    pending_amount: int | None = Field(default=None, sa_column=Column(BigInteger, nullable=True))
    pending_removal: bool = False
    pending_requested_at: datetime | None = timestamp_field()
    pending_effective_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
    updated_at: datetime | None = timestamp_field()


class RgActivityDay(SQLModel, table=True):
    """What a player deposited, staked and won on one local day (the jurisdiction's time zone).

    Written in the same database transaction as the ledger movement it counts, so limits read
    exactly what the ledger holds. A rollback counts on the day of what it undoes."""

    __tablename__ = "rg_activity_days"

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    currency: str = Field(max_length=8, primary_key=True)
    day: date = Field(sa_column=Column(Date, primary_key=True))
    deposited: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    wagered: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))
    won: int = Field(default=0, sa_column=Column(BigInteger, nullable=False, server_default="0"))


class RgExclusion(SQLModel, table=True):
    """A time-out or self-exclusion. Never shortened: `ends_at` null means permanent."""

    __tablename__ = "rg_exclusions"
    __table_args__ = (
        CheckConstraint("kind IN ('time_out', 'self_exclusion')", name="ck_rg_exclusions_kind"),
        CheckConstraint("ends_at IS NULL OR ends_at > starts_at", name="ck_rg_exclusions_window"),
        Index("ix_rg_exclusions_player", "player_id", "starts_at"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    kind: str = Field(max_length=16)
    starts_at: datetime = timestamp_field(nullable=False)
    ends_at: datetime | None = timestamp_field()
    source: str = Field(max_length=32)  # player | staff | system | register:<name>
    # Extended from another account of the same person (services/rg/matching.py): the exclusion it copies.
    origin_exclusion_id: uuid.UUID | None = Field(default=None, foreign_key="rg_exclusions.id")
    origin_player_id: uuid.UUID | None = Field(default=None, foreign_key="players.id")
    created_at: datetime = created_at_field()


class RgRealityCheck(SQLModel, table=True):
    """The reality check of one login session: when the next one is due, and whether it was pushed."""

    __tablename__ = "rg_reality_checks"

    session_id: uuid.UUID = Field(foreign_key="auth_sessions.id", primary_key=True, ondelete="CASCADE")
    player_id: uuid.UUID = Field(foreign_key="players.id", index=True)
    interval_seconds: int
    interval_started_at: datetime = timestamp_field(nullable=False)  # login, or the last answer
    next_due_at: datetime = timestamp_field(nullable=False, index=True)
    notified_for: datetime | None = timestamp_field()  # the due time last pushed to the player


class RgEvent(SQLModel, table=True):
    """The RG history of a player: every limit change, exclusion, reality check answer and intervention."""

    __tablename__ = "rg_events"
    __table_args__ = (Index("ix_rg_events_player", "player_id", "created_at", "id"),)

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    kind: str = Field(max_length=48)
    actor_type: str = Field(max_length=16)
    actor_id: uuid.UUID | None = None
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()


class RgFlag(SQLModel, table=True):
    """A risk pattern spotted on a player, waiting in the RG queue for a person (one open per kind)."""

    __tablename__ = "rg_flags"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'resolved')", name="ck_rg_flags_status"),
        Index("uq_rg_flags_open", "player_id", "kind", unique=True, postgresql_where="status = 'open'"),
        Index("ix_rg_flags_queue", "status", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    kind: str = Field(max_length=32)
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    status: str = Field(default="open", max_length=16)
    created_at: datetime = created_at_field()
    resolved_at: datetime | None = timestamp_field()
    resolved_by: uuid.UUID | None = None
    resolution: str | None = None
