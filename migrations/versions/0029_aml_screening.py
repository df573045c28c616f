"""sanctions and PEP screening: list versions, players' last screening, screening alerts

Revision ID: 0029
Revises: 0028
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0029"
down_revision: str | None = "0028"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "aml_list_versions",
        sa.Column("version", sa.String(64), primary_key=True),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("entities", sa.Integer(), nullable=False),
        sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "aml_player_screenings",
        sa.Column("player_id", postgresql.UUID(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("list_version", sa.String(64), nullable=False),
        sa.Column("player_fingerprint", sa.String(64), nullable=False),
        sa.Column("matches", sa.Integer(), nullable=False),
        sa.Column("screened_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    op.create_index("ix_aml_player_screenings_version", "aml_player_screenings", ["list_version", "player_id"])
    op.create_table(
        "aml_screening_alerts",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("player_id", postgresql.UUID(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("brand_id", postgresql.UUID(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("entity_id", sa.String(200), nullable=False),
        sa.Column("list_version", sa.String(64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("entity", postgresql.JSONB(), nullable=False),
        sa.Column("why", postgresql.JSONB(), nullable=False),
        sa.Column("player_fingerprint", sa.String(64), nullable=False),
        sa.Column("entity_fingerprint", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("decided_by", postgresql.UUID(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decision_reason", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('open', 'false_positive', 'confirmed')", name="ck_aml_alerts_state"),
        sa.CheckConstraint("score >= 0 AND score <= 1", name="ck_aml_alerts_score"),
        sa.CheckConstraint("(state = 'open') = (decided_at IS NULL)", name="ck_aml_alerts_decided"),
    )
    op.create_index(
        "uq_aml_alerts_open_pair",
        "aml_screening_alerts",
        ["player_id", "entity_id"],
        unique=True,
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_index("ix_aml_screening_alerts_queue", "aml_screening_alerts", ["state", "created_at", "id"])
    op.create_index("ix_aml_screening_alerts_player", "aml_screening_alerts", ["player_id", "entity_id"])


def downgrade() -> None:
    op.drop_table("aml_screening_alerts")
    op.drop_table("aml_player_screenings")
    op.drop_table("aml_list_versions")
