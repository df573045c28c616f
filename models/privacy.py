"""Privacy: data-subject requests (export, erasure) and the retention markers an erasure leaves.

An erasure pseudonymises the player at once and keeps what a retention rule still requires
(services/privacy/retention.toml); each kept category is a `privacy_holds` row saying until when and
why, which the export and the back office show, and which `croupier privacy sweep` releases once due.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class RequestKind(StrEnum):
    EXPORT = "export"
    ERASURE = "erasure"


class RequestStatus(StrEnum):
    REQUESTED = "requested"  # an erasure the player asked for, waiting for the data-protection officer
    COMPLETED = "completed"
    REJECTED = "rejected"


class PrivacyRequest(SQLModel, table=True):
    """One data-subject request: who asked, for what, who carried it out and when."""

    __tablename__ = "privacy_requests"
    __table_args__ = (
        CheckConstraint("kind IN ('export', 'erasure')", name="ck_privacy_requests_kind"),
        CheckConstraint("status IN ('requested', 'completed', 'rejected')", name="ck_privacy_requests_status"),
        CheckConstraint("requested_by_type IN ('player', 'staff', 'system')", name="ck_privacy_requests_by"),
        Index("ix_privacy_requests_player", "player_id", "created_at"),
        # At most one erasure request waits per player (asking twice is one request).
        Index(
            "uq_privacy_requests_open_erasure",
            "player_id",
            unique=True,
            postgresql_where="kind = 'erasure' AND status = 'requested'",
        ),
        Index("ix_privacy_requests_open", "brand_id", "created_at", postgresql_where="status = 'requested'"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    kind: str = Field(max_length=16)
    status: str = Field(max_length=16)
    requested_by_type: str = Field(max_length=16)
    requested_by_id: uuid.UUID | None = None
    reason: str | None = Field(default=None, max_length=500)
    decided_by: uuid.UUID | None = None
    decided_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()


class PrivacyHold(SQLModel, table=True):
    """A category of a pseudonymised player's data kept under a retention rule until `retained_until`;
    `released_at` is when the sweep erased it."""

    __tablename__ = "privacy_holds"
    __table_args__ = (
        UniqueConstraint("player_id", "category", name="uq_privacy_holds_player_category"),
        Index("ix_privacy_holds_due", "retained_until", postgresql_where="released_at IS NULL"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    category: str = Field(max_length=32)
    basis: str = Field(max_length=300)
    retained_until: datetime = timestamp_field(nullable=False)
    released_at: datetime | None = timestamp_field()
    created_at: datetime = created_at_field()
