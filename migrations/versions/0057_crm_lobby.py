"""crm lobby: a segment's lobby layout (category order, featured games, optionally per A/B variant) and the
popular games per brand, segment and country, computed periodically

Revision ID: 0057
Revises: 0056

models/crm_lobby.py describes the tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0057"
down_revision: str | None = "0056"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_EMPTY = sa.text("'[]'::jsonb")


def upgrade() -> None:
    op.create_table(
        "crm_lobby_layouts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("segment_id", sa.Uuid(), sa.ForeignKey("crm_segments.id"), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("experiment_id", sa.Uuid(), sa.ForeignKey("crm_experiments.id"), nullable=True),
        sa.Column("variant", sa.String(40), nullable=True),
        sa.Column("category_order", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("featured", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("status IN ('active', 'archived')", name="ck_crm_lobby_layouts_status"),
        sa.CheckConstraint("(experiment_id IS NULL) = (variant IS NULL)", name="ck_crm_lobby_layouts_variant"),
        sa.UniqueConstraint("brand_id", "name", name="uq_crm_lobby_layouts_brand_name"),
    )
    op.create_index(
        "ix_crm_lobby_layouts_segment",
        "crm_lobby_layouts",
        ["segment_id"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.create_table(
        "crm_lobby_popular",
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), primary_key=True),
        sa.Column("segment_id", sa.Uuid(), primary_key=True),
        sa.Column("country", sa.String(2), primary_key=True),
        sa.Column("rank", sa.Integer(), primary_key=True),
        sa.Column("game_id", sa.Uuid(), sa.ForeignKey("games.id"), nullable=False),
        sa.Column("players", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )


def downgrade() -> None:
    op.drop_table("crm_lobby_popular")
    op.drop_table("crm_lobby_layouts")
