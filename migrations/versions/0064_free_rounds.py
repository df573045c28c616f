"""free rounds granted through a provider's API; where a provider's free-rounds API lives

Revision ID: 0064
Revises: 0063

`free_rounds_grants`: one per free-spins bonus granted at the provider (services/free_rounds, docs/free-rounds.md).
`game_providers.free_rounds_url`: the provider's free-rounds API base (null: free rounds reach it at launch only).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0064"
down_revision: str | None = "0063"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("game_providers", sa.Column("free_rounds_url", sa.String(length=500), nullable=True))
    op.create_table(
        "free_rounds_grants",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("bonus_id", sa.Uuid(), sa.ForeignKey("player_bonuses.id"), nullable=False),
        sa.Column("provider_id", sa.Uuid(), sa.ForeignKey("game_providers.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("games", postgresql.JSONB(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("bet", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(length=8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reward_uuid", sa.String(length=64), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("provider_answer", postgresql.JSONB(), nullable=True),
        sa.Column("cancel_reason", sa.String(length=1000), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint(
            "status IN ('pending', 'granted', 'failed', 'cancelled')", name="ck_free_rounds_grants_status"
        ),
        sa.CheckConstraint("rounds > 0 AND bet > 0", name="ck_free_rounds_grants_rounds"),
    )
    op.create_index("uq_free_rounds_grants_bonus", "free_rounds_grants", ["bonus_id"], unique=True)
    op.create_index(
        "uq_free_rounds_grants_reward",
        "free_rounds_grants",
        ["provider_id", "reward_uuid"],
        unique=True,
        postgresql_where=sa.text("reward_uuid IS NOT NULL"),
    )
    op.create_index("ix_free_rounds_grants_player", "free_rounds_grants", ["player_id", "created_at"])
    op.create_index(
        "ix_free_rounds_grants_due",
        "free_rounds_grants",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )


def downgrade() -> None:
    op.drop_table("free_rounds_grants")
    op.drop_column("game_providers", "free_rounds_url")
