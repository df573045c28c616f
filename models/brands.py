"""Brands: an operator runs several; every player belongs to exactly one."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, String
from sqlalchemy.dialects.postgresql import ARRAY
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class Brand(SQLModel, table=True):
    __tablename__ = "brands"

    id: uuid.UUID = id_field()
    code: str = Field(max_length=32, unique=True, index=True)
    name: str = Field(max_length=120)
    minimum_age: int = Field(default=18, ge=18)
    default_currency: str = Field(max_length=8)
    # ISO 3166-1 alpha-2 countries and currency codes the brand accepts at registration.
    countries: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(2)), nullable=False))
    currencies: list[str] = Field(default_factory=list, sa_column=Column(ARRAY(String(8)), nullable=False))
    # Jurisdiction profiles the brand is licensed for (services/rg/jurisdictions.toml).
    jurisdictions: list[str] = Field(
        default_factory=lambda: ["DEFAULT"],
        sa_column=Column(ARRAY(String(16)), nullable=False, server_default="{DEFAULT}"),
    )
    created_at: datetime = created_at_field()
    # The language of a CRM message whose player's own language has no template (migration 0054).
    default_language: str = Field(default="en", max_length=8, sa_column_kwargs={"server_default": "en"})
