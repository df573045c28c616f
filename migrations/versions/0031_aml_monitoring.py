"""transaction monitoring: rule versions, per-player windows, alerts, backtests

Revision ID: 0031
Revises: 0030

models/aml_monitoring.py describes each table. The `aml_monitoring` consumer keeps the windows and the
alerts (services/aml/monitoring); backtests keep their own alerts apart, tagged with their run.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0031"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "aml_monitoring_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("rules", postgresql.JSONB(), nullable=False),
        sa.Column("scenario", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.String(500), nullable=False),
        sa.Column("live", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("activated_at", _TS, nullable=True),
    )
    op.create_index(
        "uq_aml_monitoring_versions_live",
        "aml_monitoring_versions",
        ["live"],
        unique=True,
        postgresql_where=sa.text("live"),
    )
    op.create_table(
        "aml_monitoring_players",
        sa.Column("player_id", postgresql.UUID(), primary_key=True),
        sa.Column("wagered", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("fired", postgresql.JSONB(), nullable=False, server_default="{}"),
    )
    op.create_table(
        "aml_monitoring_deposits",
        sa.Column("player_id", postgresql.UUID(), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), primary_key=True),
        sa.Column("at", _TS, nullable=False),
        sa.Column("base", sa.BigInteger(), nullable=False),
        sa.Column("instrument", sa.String(200), nullable=False),
        sa.Column("wagered_before", sa.BigInteger(), nullable=False),
    )
    op.create_table(
        "aml_alerts",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("player_id", postgresql.UUID(), nullable=False),
        sa.Column("brand_id", postgresql.UUID(), nullable=True),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("hits", postgresql.JSONB(), nullable=False),
        sa.Column("event_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("decided_by", postgresql.UUID(), nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("event_id", name="uq_aml_alerts_event"),
    )
    op.create_index("ix_aml_alerts_queue", "aml_alerts", ["status", "raised_at"])
    op.create_index("ix_aml_alerts_player", "aml_alerts", ["player_id", "raised_at"])
    op.create_table(
        "aml_backtest_runs",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("baseline", sa.Integer(), nullable=True),
        sa.Column("first_event", sa.BigInteger(), nullable=False),
        sa.Column("last_event", sa.BigInteger(), nullable=False),
        sa.Column("from_at", _TS, nullable=True),
        sa.Column("to_at", _TS, nullable=True),
        sa.Column("events", sa.BigInteger(), nullable=False),
        sa.Column("summary", postgresql.JSONB(), nullable=False),
        sa.Column("runs", sa.SmallInteger(), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("finished_at", _TS, nullable=True),
    )
    op.create_table(
        "aml_backtest_alerts",
        sa.Column("run_id", postgresql.UUID(), sa.ForeignKey("aml_backtest_runs.id"), primary_key=True),
        sa.Column("version", sa.Integer(), primary_key=True),
        sa.Column("event_id", sa.BigInteger(), primary_key=True),
        sa.Column("player_id", postgresql.UUID(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(24), nullable=False),
        sa.Column("hits", postgresql.JSONB(), nullable=False),
        sa.Column("event_ids", postgresql.ARRAY(sa.BigInteger()), nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("change", sa.String(16), nullable=False),
    )


def downgrade() -> None:
    for table in (
        "aml_backtest_alerts",
        "aml_backtest_runs",
        "aml_alerts",
        "aml_monitoring_deposits",
        "aml_monitoring_players",
        "aml_monitoring_versions",
    ):
        op.drop_table(table)
