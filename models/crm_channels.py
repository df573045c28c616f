"""CRM channels: message templates (migration 0054).

A template is one message of a brand (`key`, e.g. `welcome`) in one language: a subject, an HTML body and a
text body, Jinja2 sources rendered in a sandbox (services/crm/channels/templates.py). Marketing edits them;
each save bumps `version`. A message whose player's language has no template falls back to the brand's
`default_language`.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field


class CrmTemplate(SQLModel, table=True):
    __tablename__ = "crm_templates"
    __table_args__ = (UniqueConstraint("brand_id", "key", "language", name="uq_crm_templates_brand_key_language"),)

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    key: str = Field(max_length=80)
    language: str = Field(max_length=8)
    subject: str = Field(max_length=200)
    body_html: str = Field(sa_column=Column(Text, nullable=False))
    body_text: str = Field(sa_column=Column(Text, nullable=False))
    version: int = 1
    updated_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()
