"""risk: observations, signals, linked-account clusters, block and watch lists, flags

Revision ID: 0036
Revises: 0035

models/risk.py describes each table. The flows (registration, login, deposit, withdrawal) insert one
observation each and read the lists; the `risk-signals` consumer turns observations into signals and
clusters (services/risk).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0036"
down_revision: str | None = "0035"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "risk_observations",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("occasion", sa.String(16), nullable=False),
        sa.Column("reference", sa.Uuid(), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("device_id", sa.String(128), nullable=True),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("user_agent", sa.String(512), nullable=True),
        sa.Column("card_bin", sa.String(8), nullable=True),
        sa.Column("card_fingerprint", sa.String(128), nullable=True),
        sa.Column("observed_at", _TS, nullable=False),
        sa.CheckConstraint(
            "occasion IN ('registration', 'login', 'deposit', 'withdrawal')", name="ck_risk_observations_occasion"
        ),
        sa.UniqueConstraint("occasion", "reference", name="uq_risk_observations_reference"),
    )
    op.create_index("ix_risk_observations_player", "risk_observations", ["player_id", "observed_at"])
    op.create_table(
        "risk_signals",
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("first_seen", _TS, nullable=False),
        sa.Column("last_seen", _TS, nullable=False),
        sa.Column("first_event_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "player_id", name="pk_risk_signals"),
    )
    op.create_index("ix_risk_signals_player", "risk_signals", ["player_id"])
    op.create_table(
        "risk_clusters",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("cluster_id", sa.Uuid(), nullable=False),
        sa.Column("joined_at", _TS, nullable=False),
    )
    op.create_index("ix_risk_clusters_cluster", "risk_clusters", ["cluster_id", "player_id"])
    op.create_table(
        "risk_list_entries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("list", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("value", sa.String(320), nullable=False),
        sa.Column("network", postgresql.CIDR(), nullable=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=True),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("added_by", sa.Uuid(), nullable=True),
        sa.Column("added_at", _TS, nullable=False),
        sa.Column("expires_at", _TS, nullable=True),
        sa.Column("removed_by", sa.Uuid(), nullable=True),
        sa.Column("removed_at", _TS, nullable=True),
        sa.CheckConstraint("list IN ('block', 'watch')", name="ck_risk_list_entries_list"),
        sa.CheckConstraint(
            "kind IN ('email', 'email_domain', 'ip', 'device', 'card_bin', 'card_fingerprint', 'country')",
            name="ck_risk_list_entries_kind",
        ),
        sa.CheckConstraint("(kind = 'ip') = (network IS NOT NULL)", name="ck_risk_list_entries_network"),
    )
    op.create_index(
        "ix_risk_list_entries_value",
        "risk_list_entries",
        ["kind", "value"],
        postgresql_where=sa.text("removed_at IS NULL"),
    )
    op.create_index(
        "ix_risk_list_entries_network",
        "risk_list_entries",
        ["network"],
        postgresql_using="gist",
        postgresql_ops={"network": "inet_ops"},
        postgresql_where=sa.text("removed_at IS NULL AND network IS NOT NULL"),
    )
    op.create_table(
        "risk_flags",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("entry_id", sa.Uuid(), sa.ForeignKey("risk_list_entries.id"), nullable=True),
        sa.Column("occasion", sa.String(16), nullable=False),
        sa.Column("outcome", sa.String(8), nullable=False),
        sa.Column("detail", sa.String(320), nullable=False),
        sa.Column("raised_at", _TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.CheckConstraint("source IN ('list', 'disposable_email')", name="ck_risk_flags_source"),
        sa.CheckConstraint("outcome IN ('block', 'watch')", name="ck_risk_flags_outcome"),
    )
    op.create_index("ix_risk_flags_player", "risk_flags", ["player_id", "raised_at"])
    op.create_index(
        "uq_risk_flags_disposable",
        "risk_flags",
        ["player_id", "detail"],
        unique=True,
        postgresql_where=sa.text("source = 'disposable_email'"),
    )
    op.create_index("ix_risk_flags_open", "risk_flags", ["raised_at"], postgresql_where=sa.text("status = 'open'"))


def downgrade() -> None:
    op.drop_table("risk_flags")
    op.drop_table("risk_list_entries")
    op.drop_table("risk_clusters")
    op.drop_table("risk_signals")
    op.drop_table("risk_observations")
