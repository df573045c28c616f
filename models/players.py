"""Players (the PAM's account table)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Date, DateTime, Index, UniqueConstraint, func
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class PlayerStatus(StrEnum):
    ACTIVE = "active"
    BLOCKED = "blocked"
    CLOSED = "closed"


class Player(SQLModel, table=True):
    __tablename__ = "players"
    __table_args__ = (
        UniqueConstraint("brand_id", "email", name="uq_players_brand_email"),
        CheckConstraint("status IN ('active', 'blocked', 'closed')", name="ck_players_status"),
        CheckConstraint("email = lower(email)", name="ck_players_email_lower"),
        Index("ix_players_brand_created", "brand_id", "created_at", "id"),
        # One person across brands (services/rg/matching.py): each key is looked up on its own.
        Index("ix_players_match_email", "match_email", postgresql_where="match_email IS NOT NULL"),
        Index("ix_players_match_name", "match_name", "date_of_birth", postgresql_where="match_name IS NOT NULL"),
        Index("ix_players_match_phone", "match_phone", postgresql_where="match_phone IS NOT NULL"),
    )

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id", index=True)
    email: str = Field(max_length=254)
    password_hash: str
    first_name: str | None = Field(default=None, max_length=100)
    last_name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=32)
    # The postal address (optional; the country is `country`), as the player wrote it.
    address_line1: str | None = Field(default=None, max_length=200)
    address_line2: str | None = Field(default=None, max_length=200)
    city: str | None = Field(default=None, max_length=100)
    postal_code: str | None = Field(default=None, max_length=16)
    date_of_birth: date = Field(sa_column=Column(Date, nullable=False))
    country: str = Field(max_length=2)
    currency: str = Field(max_length=8)
    marketing_consent: bool = False
    # For messages and quiet hours (services/crm): a language code and an IANA time zone name.
    language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
    time_zone: str = Field(default="UTC", max_length=64, sa_column_kwargs={"server_default": "UTC"})
    # The responsible-gambling rules that apply (services/rg/jurisdictions.toml), fixed at registration.
    jurisdiction: str = Field(default="DEFAULT", max_length=16, sa_column_kwargs={"server_default": "DEFAULT"})
    reality_check_minutes: int | None = None  # the player's choice; null: the jurisdiction's default
    status: str = Field(default=PlayerStatus.ACTIVE.value, max_length=16)
    status_reason: str | None = None
    # The person's match keys (services/rg/matching.py), kept in step with email, names and phone.
    match_email: str | None = Field(default=None, max_length=254)
    match_name: str | None = Field(default=None, max_length=220)
    match_phone: str | None = Field(default=None, max_length=32)
    # Set by an erasure (services/privacy/erasure.py): the direct identifiers were replaced by `pseudonym`.
    erased_at: datetime | None = Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))
    pseudonym: str | None = Field(default=None, max_length=40)
    created_at: datetime = created_at_field()
    updated_at: datetime = Field(
        default=None,
        sa_column=Column(DateTime(timezone=True), nullable=False, server_default=func.now(), onupdate=func.now()),
    )


class PlayerNote(SQLModel, table=True):
    """A staff member's note on a player: append-only (a correction is a new note), audited."""

    __tablename__ = "player_notes"
    __table_args__ = (
        CheckConstraint("length(body) BETWEEN 1 AND 2000", name="ck_player_notes_body"),
        Index("ix_player_notes_player", "player_id", "created_at", "id"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    author_id: uuid.UUID = Field(foreign_key="staff_users.id")
    body: str
    created_at: datetime = created_at_field()
