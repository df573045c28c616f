"""Payment routing versions (services/cashier/routing_config.py): the cashier's routing and cascade rules, PSP
terms, payment limits and card BIN rules as one document per version. A version is never changed once stored:
each staff edit stores a new one (the highest is live), so the history of who changed what, when and why stays
readable (the audit log holds the same with the change itself)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Column, Integer
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field


class PaymentRoutingVersion(SQLModel, table=True):
    __tablename__ = "payment_routing_versions"

    version: int = Field(sa_column=Column(Integer, primary_key=True, autoincrement=False))
    document: dict[str, Any] = Field(sa_column=Column(JSONB, nullable=False))
    change: str = Field(max_length=200)  # what this version changed, e.g. "rule cards saved"
    reason: str = Field(max_length=500)
    created_by: uuid.UUID | None = Field(default=None)  # the staff member (None: the command line)
    created_at: datetime = created_at_field()
