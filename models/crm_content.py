"""CRM content: banners, promotion pages and content blocks (migration 0058).

- An item is what a frontend asks for: a brand's banner placement, promotion page slug or content block key
  (`kind`, `key`), with an internal `name`. Several items may share a key; the viewer gets those meant for
  them (banners: every one, by priority; a page or block: the first).
- Each save is a new row in `content_versions` (`version` 1, 2, …; never updated): who it targets (a segment,
  jurisdictions — none: everyone) and its texts per language (`translations`: language → title, body, image
  and link URLs, call to action), falling back to `default_language`.
- Publishing makes one version live (`live_version`) from `publish_at` until `unpublish_at` (open when null);
  both may lie in the future (scheduled). `status` published is the intent; what is live at an instant is
  `publish_at <= t < unpublish_at`, read at serve time, so a schedule needs no worker.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, String, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class ContentKind(StrEnum):
    BANNER = "banner"
    PROMOTION = "promotion"
    BLOCK = "block"


class ContentStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    UNPUBLISHED = "unpublished"


class ContentItem(SQLModel, table=True):
    __tablename__ = "content_items"

    id: uuid.UUID = id_field()
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    kind: str = Field(max_length=16)
    key: str = Field(max_length=80)
    name: str = Field(max_length=120)
    status: str = Field(default=ContentStatus.DRAFT.value, max_length=16)
    latest_version: int = 1
    live_version: int | None = None
    publish_at: datetime | None = timestamp_field()
    unpublish_at: datetime | None = timestamp_field()
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
    updated_at: datetime = created_at_field()


class ContentVersion(SQLModel, table=True):
    __tablename__ = "content_versions"

    item_id: uuid.UUID = Field(foreign_key="content_items.id", primary_key=True)
    version: int = Field(primary_key=True)
    segment_id: uuid.UUID | None = Field(default=None, foreign_key="crm_segments.id")
    jurisdictions: list[str] = Field(
        default_factory=list,
        sa_column=Column(ARRAY(String(16)), nullable=False, server_default=text("'{}'::varchar[]")),
    )
    priority: int = 0
    default_language: str = Field(default="en", max_length=8)
    translations: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    )
    created_by: uuid.UUID | None = None
    created_at: datetime = created_at_field()
