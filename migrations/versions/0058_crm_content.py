"""crm content: banners, promotion pages and content blocks, their versions and their schedule

Revision ID: 0058
Revises: 0057

models/crm_content.py describes the tables. An item is the identity (brand, kind, key) and its schedule; each
edit is a new version (targeting and translations); publishing makes one version live between two instants.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0058"
down_revision: str | None = "0057"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.create_table(
        "content_items",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("latest_version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("live_version", sa.Integer(), nullable=True),
        sa.Column("publish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("unpublish_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("kind IN ('banner', 'promotion', 'block')", name="ck_content_items_kind"),
        sa.CheckConstraint("status IN ('draft', 'published', 'unpublished')", name="ck_content_items_status"),
        sa.CheckConstraint(
            "status <> 'published' OR (live_version IS NOT NULL AND publish_at IS NOT NULL)",
            name="ck_content_items_published_has_version",
        ),
        sa.CheckConstraint(
            "unpublish_at IS NULL OR publish_at IS NULL OR unpublish_at > publish_at",
            name="ck_content_items_window",
        ),
    )
    op.create_index("ix_content_items_brand_kind_key", "content_items", ["brand_id", "kind", "key"])
    op.create_index(
        "ix_content_items_published",
        "content_items",
        ["brand_id"],
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_table(
        "content_versions",
        sa.Column("item_id", sa.Uuid(), sa.ForeignKey("content_items.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("segment_id", sa.Uuid(), sa.ForeignKey("crm_segments.id"), nullable=True),
        sa.Column(
            "jurisdictions",
            postgresql.ARRAY(sa.String(16)),
            nullable=False,
            server_default=sa.text("'{}'::varchar[]"),
        ),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("default_language", sa.String(8), nullable=False, server_default="en"),
        sa.Column("translations", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )


def downgrade() -> None:
    op.drop_table("content_versions")
    op.drop_index("ix_content_items_published", table_name="content_items")
    op.drop_index("ix_content_items_brand_kind_key", table_name="content_items")
    op.drop_table("content_items")
