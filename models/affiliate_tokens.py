"""Scoped API tokens of affiliate partners (services/affiliates/tokens.py, docs/affiliate-api.md).

A token is `caf_` followed by a high-entropy URL-safe secret. Only its SHA-256 is kept (`token_hash`), with
its first characters (`prefix`) so a partner can tell its tokens apart; the secret itself is shown once, at
creation. A token acts for one partner with the scopes it was given, until it expires or is revoked.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Column, Index, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class Scope(StrEnum):
    """What a token may do; a portal user's sign-in holds them all (authz/policy.csv maps each to a role)."""

    STATS_READ = "stats:read"
    LINKS_READ = "links:read"
    LINKS_WRITE = "links:write"
    COMMISSIONS_READ = "commissions:read"
    POSTBACKS_READ = "postbacks:read"


class AffiliateApiToken(SQLModel, table=True):
    __tablename__ = "affiliate_api_tokens"
    __table_args__ = (
        CheckConstraint("cardinality(scopes) > 0", name="ck_affiliate_api_tokens_scopes"),
        CheckConstraint("expires_at > created_at", name="ck_affiliate_api_tokens_expiry"),
        Index("ix_affiliate_api_tokens_affiliate", "affiliate_id", "created_at"),
    )

    id: uuid.UUID = id_field()
    affiliate_id: uuid.UUID = Field(foreign_key="affiliates.id")
    name: str = Field(max_length=120)
    prefix: str = Field(max_length=16)
    token_hash: str = Field(max_length=64, unique=True)  # hex SHA-256 of the whole token
    scopes: list[str] = Field(sa_column=Column(ARRAY(String(32)), nullable=False))
    expires_at: datetime = timestamp_field(nullable=False)
    last_used_at: datetime | None = timestamp_field()
    revoked_at: datetime | None = timestamp_field()
    created_by: uuid.UUID | None = Field(default=None, foreign_key="affiliate_users.id")
    created_at: datetime = created_at_field()
