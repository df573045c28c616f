"""The append-only, hash-chained audit log.

Each record carries the hash of the one before it, and `seq` has no gaps (assigned under an
advisory lock), so an edited, deleted or re-ordered record breaks the chain where `croupier audit
verify` will see it. A trigger refuses UPDATE and DELETE on the table.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class AuditRecord(SQLModel, table=True):
    __tablename__ = "audit_log"
    __table_args__ = (
        Index("ix_audit_log_actor", "actor_type", "actor_id", "seq"),
        Index("ix_audit_log_target", "target_type", "target_id", "seq"),
        Index("ix_audit_log_action", "action", "seq"),
        Index("ix_audit_log_brand", "brand_id", "seq"),
    )

    seq: int = Field(sa_column=Column(BigInteger, primary_key=True, autoincrement=False))
    at: datetime = created_at_field()
    actor_type: str = Field(max_length=16)  # player | staff | system | anonymous
    actor_id: uuid.UUID | None = None
    action: str = Field(max_length=64)
    brand_id: uuid.UUID | None = None
    target_type: str | None = Field(default=None, max_length=32)
    target_id: str | None = Field(default=None, max_length=64)
    reason: str | None = None
    ip: str | None = Field(default=None, max_length=64)
    request_id: str | None = Field(default=None, max_length=64)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSONB))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64, unique=True)
