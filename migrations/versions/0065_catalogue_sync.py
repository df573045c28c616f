"""catalogue sync: each provider's game-list URL, a game's features, certified jurisdictions and withdrawal, and
the report of every sync run

Revision ID: 0065
Revises: 0064

A provider's game list is pulled on a schedule (services/providers/catalogue_sync.py, docs/catalogue-sync.md);
each run (succeeded or failed) is a `catalogue_sync_runs` row with what it added, changed, withdrew and restored.
A game the list stops naming is withdrawn: switched off and stamped `withdrawn_at`, never deleted (its rounds and
transactions point at it); it comes back on when the list names it again.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0065"
down_revision: str | None = "0064"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("game_providers", sa.Column("game_list_url", sa.String(500), nullable=True))
    op.add_column(
        "games",
        sa.Column("features", postgresql.ARRAY(sa.String(32)), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column(
        "games",
        sa.Column("jurisdictions", postgresql.ARRAY(sa.String(16)), nullable=False, server_default=sa.text("'{}'")),
    )
    op.add_column("games", sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "catalogue_sync_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("game_providers.id"), nullable=False),
        sa.Column("provider_code", sa.String(32), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("changed", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("withdrawn", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("restored", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("unchanged", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("report", postgresql.JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("error", sa.Text(), nullable=True),
        sa.CheckConstraint("status IN ('succeeded', 'failed')", name="ck_catalogue_sync_runs_status"),
        sa.CheckConstraint("trigger IN ('schedule', 'cli', 'staff')", name="ck_catalogue_sync_runs_trigger"),
    )
    op.create_index("ix_catalogue_sync_runs_started", "catalogue_sync_runs", ["started_at", "id"])
    op.create_index("ix_catalogue_sync_runs_provider", "catalogue_sync_runs", ["provider_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_catalogue_sync_runs_provider", "catalogue_sync_runs")
    op.drop_index("ix_catalogue_sync_runs_started", "catalogue_sync_runs")
    op.drop_table("catalogue_sync_runs")
    op.drop_column("games", "withdrawn_at")
    op.drop_column("games", "jurisdictions")
    op.drop_column("games", "features")
    op.drop_column("game_providers", "game_list_url")
