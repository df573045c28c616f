"""KYC verification: each player's level and what is required of them, the triggers that raised it, the
officers' reviews of a level, and the provider checks recorded for a player.

Levels are ordered per jurisdiction profile (services/kyc/levels.toml); a row stores a level's code and
its rank in that order, so queues filter on ranks in SQL. Invariants the database enforces: one state
row per player; a level is never above what the profile has (ranks >= 0); one requirement per (player,
trigger, level), so a trigger seen twice raises nothing twice; one review per (player, level); the two
approvers of a four-eyes review differ.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Column, Index, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class KycStatus(StrEnum):
    VERIFIED = "verified"  # the player's level is at least the level required of them
    ACTION_REQUIRED = "action_required"  # the player must do something (upload, a provider check)
    PENDING_REVIEW = "pending_review"  # everything the player can do is done: an officer decides
    RESTRICTED = "restricted"  # staff restricted the account pending review


class ReviewStatus(StrEnum):
    PENDING = "pending"
    FIRST_APPROVAL = "first_approval"  # four eyes: one officer approved, a second must
    APPROVED = "approved"
    REJECTED = "rejected"
    MORE_REQUESTED = "more_requested"


class KycState(SQLModel, table=True):
    """A player's verification: the level reached, the level required (and the trigger that set it)."""

    __tablename__ = "kyc_states"
    __table_args__ = (
        CheckConstraint("level_rank >= 0 AND required_rank >= 0", name="ck_kyc_states_ranks"),
        CheckConstraint(
            "status IN ('verified', 'action_required', 'pending_review', 'restricted')", name="ck_kyc_states_status"
        ),
        Index("ix_kyc_states_queue", "brand_id", "status", "updated_at", "player_id"),
    )

    player_id: uuid.UUID = Field(foreign_key="players.id", primary_key=True)
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    level: str = Field(max_length=32)
    level_rank: int
    required_level: str = Field(max_length=32)
    required_rank: int
    required_trigger: str | None = Field(default=None, max_length=32)
    required_details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    status: str = Field(max_length=16)
    restricted: bool = False
    restricted_reason: str | None = Field(default=None, max_length=500)
    high_risk: bool = False
    # Who last lifted the high-risk mark: their approval of this player's level is only a first one (four eyes).
    high_risk_lifted_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class KycRequirement(SQLModel, table=True):
    """A trigger that fired: from then on the player needs `level` (what `gates` it holds until then)."""

    __tablename__ = "kyc_requirements"
    __table_args__ = (UniqueConstraint("player_id", "trigger", "level", name="uq_kyc_requirements_trigger"),)

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id", index=True)
    level: str = Field(max_length=32)
    level_rank: int
    trigger: str = Field(max_length=32)
    gates: list[str] = Field(default_factory=list, sa_column=Column(JSONB, nullable=False))
    details: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = created_at_field()


class KycReview(SQLModel, table=True):
    """Officers' decision on one level of one player (its history is in the audit log)."""

    __tablename__ = "kyc_reviews"
    __table_args__ = (
        UniqueConstraint("player_id", "level", name="uq_kyc_reviews_level"),
        CheckConstraint(
            "status IN ('pending', 'first_approval', 'approved', 'rejected', 'more_requested')",
            name="ck_kyc_reviews_status",
        ),
        CheckConstraint(
            "decided_by IS NULL OR first_approved_by IS NULL OR decided_by <> first_approved_by",
            name="ck_kyc_reviews_four_eyes",
        ),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    level: str = Field(max_length=32)
    status: str = Field(max_length=16)
    first_approved_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    reason: str | None = Field(default=None, max_length=500)
    requested: str | None = Field(default=None, max_length=500)  # more_requested: what the player must provide
    created_at: datetime = created_at_field()
    decided_at: datetime | None = timestamp_field()


class KycCheck(SQLModel, table=True):
    """An identity-verification provider's result for a player, recorded by staff, the CLI or a service."""

    __tablename__ = "kyc_checks"
    __table_args__ = (CheckConstraint("result IN ('passed', 'failed')", name="ck_kyc_checks_result"),)

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id", index=True)
    provider: str = Field(max_length=32)
    result: str = Field(max_length=8)
    reference: str | None = Field(default=None, max_length=100)
    recorded_by_type: str = Field(max_length=16)
    recorded_by_id: uuid.UUID | None = None
    created_at: datetime = created_at_field()
