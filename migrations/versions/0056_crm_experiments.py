"""crm experiments: A/B tests of journeys, campaigns and lobby layouts, and each player's assignment

Revision ID: 0056
Revises: 0055

models/crm_experiments.py describes the tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0056"
down_revision: str | None = "0055"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "crm_experiments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("subject_kind", sa.String(16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("variants", postgresql.JSONB(), nullable=False),
        sa.Column("holdout_ppm", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("metric", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("winner", sa.String(40), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("subject_kind IN ('journey', 'campaign', 'lobby')", name="ck_crm_experiments_subject"),
        sa.CheckConstraint("status IN ('draft', 'running', 'stopped')", name="ck_crm_experiments_status"),
        sa.CheckConstraint("holdout_ppm BETWEEN 0 AND 999999", name="ck_crm_experiments_holdout"),
        sa.UniqueConstraint("brand_id", "name", name="uq_crm_experiments_brand_name"),
    )
    op.create_index("ix_crm_experiments_subject", "crm_experiments", ["subject_kind", "subject_id"])
    op.create_table(
        "crm_experiment_assignments",
        sa.Column(
            "experiment_id", sa.Uuid(), sa.ForeignKey("crm_experiments.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("variant", sa.String(40), nullable=True),
        sa.Column("exposed_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_index("ix_crm_experiment_assignments_player", "crm_experiment_assignments", ["player_id"])


def downgrade() -> None:
    op.drop_table("crm_experiment_assignments")
    op.drop_table("crm_experiments")
