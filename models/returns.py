"""Regulatory returns as filed (append-only: an amendment is a new revision) and scheduled exports done."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class RegulatoryReturn(SQLModel, table=True):
    __tablename__ = "regulatory_returns"
    __table_args__ = (
        UniqueConstraint("template", "brand_id", "period_start", "revision", name="uq_regulatory_returns_revision"),
        CheckConstraint("period_end >= period_start", name="ck_regulatory_returns_period"),
        CheckConstraint("revision >= 1", name="ck_regulatory_returns_revision"),
    )

    id: uuid.UUID = id_field()
    template: str = Field(max_length=64)
    jurisdiction: str = Field(max_length=16)
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    period_start: date
    period_end: date
    revision: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))  # the exact bytes filed
    sha256: str = Field(max_length=64)
    generated_at: datetime = created_at_field()
    generated_by_type: str = Field(max_length=16)
    generated_by_id: uuid.UUID | None = None


class ReportExport(SQLModel, table=True):
    """A scheduled export done: one per kind, format, destination and day."""

    __tablename__ = "report_exports"

    kind: str = Field(primary_key=True, max_length=64)
    format: str = Field(primary_key=True, max_length=16)
    destination: str = Field(primary_key=True, max_length=500)
    day: date = Field(primary_key=True)
    location: str = Field(max_length=1000)
    rows: int
    sha256: str = Field(max_length=64)
    exported_at: datetime = created_at_field()
