"""Login sessions and their rotating refresh tokens.

A session is one login on one device; its refresh tokens form a family. Each refresh spends the
presented token and issues the next; presenting a spent token again is reuse (a stolen copy), and
revokes the whole session. A session's spans say when it was in use: one row per unbroken run of
access tokens (responsible gambling counts time played from them).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, Index
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_sessions"
    __table_args__ = (
        CheckConstraint("subject_type IN ('player', 'staff')", name="ck_auth_sessions_subject_type"),
        Index("ix_auth_sessions_subject", "subject_type", "subject_id", "created_at"),
    )

    id: uuid.UUID = id_field()
    subject_type: str = Field(max_length=16)
    subject_id: uuid.UUID
    brand_id: uuid.UUID | None = Field(default=None, foreign_key="brands.id")
    ip: str | None = Field(default=None, max_length=64)
    country: str | None = Field(default=None, max_length=2)
    user_agent: str | None = Field(default=None, max_length=512)
    device: str | None = Field(default=None, max_length=120)
    created_at: datetime = created_at_field()
    last_seen_at: datetime | None = timestamp_field()
    expires_at: datetime = timestamp_field(nullable=False)
    revoked_at: datetime | None = timestamp_field()
    revoke_reason: str | None = Field(default=None, max_length=64)
    # "full", or "withdrawal": a self-excluded player may still sign in to take their money out.
    scope: str = Field(default="full", max_length=16, sa_column_kwargs={"server_default": "full"})


class SessionSpan(SQLModel, table=True):
    """An unbroken run of a session's access tokens: from the token that began it to the expiry of the
    last one. A refresh before the current token expires extends the run; one after a gap (the player
    left and came back on the refresh token) starts a new run, so the gap is not counted as time in use."""

    __tablename__ = "session_spans"
    __table_args__ = (Index("ix_session_spans_session", "session_id", "ends_at"),)

    id: uuid.UUID = id_field()
    session_id: uuid.UUID = Field(foreign_key="auth_sessions.id", ondelete="CASCADE")
    started_at: datetime = timestamp_field(nullable=False)
    ends_at: datetime = timestamp_field(nullable=False)


class RefreshToken(SQLModel, table=True):
    __tablename__ = "refresh_tokens"

    id: uuid.UUID = id_field()
    session_id: uuid.UUID = Field(foreign_key="auth_sessions.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)  # sha256 hex; the token itself is never stored
    created_at: datetime = created_at_field()
    used_at: datetime | None = timestamp_field()
