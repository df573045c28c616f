"""jackpots: definitions, pools per level, commitments, stakes, contributions by day, wins, reseeds

Revision ID: 0040
Revises: 0039

models/jackpots.py describes each table. Written by services/jackpots only (the `jackpots` consumer and the
win path); `jackpot_pools.amount` equals its ledger account's balance (`croupier ledger verify` checks it).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0040"
down_revision: str | None = "0039"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def _id() -> sa.Column:  # type: ignore[type-arg]
    return sa.Column("id", sa.Uuid(), primary_key=True)


def _money(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.BigInteger(), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "jackpots",
        _id(),
        sa.Column("code", sa.String(64), nullable=False, unique=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=True),
        sa.Column("brand_ids", postgresql.JSONB(), nullable=False),
        sa.Column("games", postgresql.JSONB(), nullable=False),
        sa.Column("providers", postgresql.JSONB(), nullable=False),
        _money("min_bet"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("kind IN ('local', 'network')", name="ck_jackpots_kind"),
        sa.CheckConstraint("type IN ('fixed', 'progressive')", name="ck_jackpots_type"),
        sa.CheckConstraint("status IN ('active', 'paused', 'closed')", name="ck_jackpots_status"),
        sa.CheckConstraint("kind <> 'local' OR brand_id IS NOT NULL", name="ck_jackpots_local_brand"),
        sa.CheckConstraint("min_bet >= 0", name="ck_jackpots_min_bet"),
    )
    op.create_table(
        "jackpot_pools",
        _id(),
        sa.Column("jackpot_id", sa.Uuid(), sa.ForeignKey("jackpots.id"), nullable=False, index=True),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        _money("seed_amount"),
        sa.Column("contribution_ppm", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        _money("cap_amount", nullable=True),
        sa.Column("drop_window_seconds", sa.Integer(), nullable=True),
        _money("amount"),
        _money("remainder"),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("seeded_at", _TS, nullable=True),
        sa.Column("account_id", sa.Uuid(), sa.ForeignKey("ledger_accounts.id"), nullable=False),
        sa.Column("seed_account_id", sa.Uuid(), sa.ForeignKey("ledger_accounts.id"), nullable=False),
        _money("contributed_total"),
        _money("won_total"),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("jackpot_id", "level", name="uq_jackpot_pools_level"),
        sa.CheckConstraint("trigger IN ('amount', 'time', 'provider')", name="ck_jackpot_pools_trigger"),
        sa.CheckConstraint("contribution_ppm BETWEEN 0 AND 1000000", name="ck_jackpot_pools_rate"),
        sa.CheckConstraint("seed_amount >= 0", name="ck_jackpot_pools_seed"),
        sa.CheckConstraint("remainder >= 0 AND remainder < 1000000", name="ck_jackpot_pools_remainder"),
        sa.CheckConstraint("trigger <> 'amount' OR cap_amount > seed_amount", name="ck_jackpot_pools_cap"),
        sa.CheckConstraint("trigger <> 'time' OR drop_window_seconds > 0", name="ck_jackpot_pools_window"),
        sa.CheckConstraint("cap_amount IS NULL OR amount <= cap_amount", name="ck_jackpot_pools_under_cap"),
    )
    op.create_table(
        "jackpot_commitments",
        _id(),
        sa.Column("pool_id", sa.Uuid(), sa.ForeignKey("jackpot_pools.id"), nullable=False, index=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        _money("drop_point"),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("published_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("revealed_at", _TS, nullable=True),
        sa.UniqueConstraint("pool_id", "generation", name="uq_jackpot_commitments_generation"),
    )
    op.create_table(
        "jackpot_stakes",
        sa.Column("jackpot_id", sa.Uuid(), sa.ForeignKey("jackpots.id"), primary_key=True),
        sa.Column("reference", sa.String(200), primary_key=True),
        sa.Column("player_id", sa.Uuid(), nullable=True),
        sa.Column("brand_id", sa.Uuid(), nullable=True),
        sa.Column("currency", sa.String(8), nullable=False),
        _money("stake"),
        _money("stake_base"),
        sa.Column("fx_rate", sa.String(80), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("rolled_back", sa.Boolean(), nullable=False),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "jackpot_days",
        sa.Column("pool_id", sa.Uuid(), sa.ForeignKey("jackpot_pools.id"), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        _money("contributed"),
        _money("taken_back"),
        _money("bets"),
        _money("rollbacks"),
    )
    op.create_table(
        "jackpot_wins",
        _id(),
        sa.Column("pool_id", sa.Uuid(), sa.ForeignKey("jackpot_pools.id"), nullable=False, index=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        _money("amount"),
        _money("amount_before"),
        _money("amount_after"),
        _money("drop_point", nullable=True),
        _money("paid_amount"),
        sa.Column("paid_currency", sa.String(8), nullable=False),
        sa.Column("fx_rate", sa.String(80), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("ledger_transaction_id", sa.Uuid(), sa.ForeignKey("ledger_transactions.id"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("details", postgresql.JSONB(), nullable=True),
        sa.Column("won_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("pool_id", "generation", name="uq_jackpot_wins_generation"),
        sa.CheckConstraint("amount > 0", name="ck_jackpot_wins_amount"),
    )
    op.create_table(
        "jackpot_seeds",
        _id(),
        sa.Column("pool_id", sa.Uuid(), sa.ForeignKey("jackpot_pools.id"), nullable=False, index=True),
        sa.Column("generation", sa.Integer(), nullable=False),
        _money("amount"),
        sa.Column("ledger_transaction_id", sa.Uuid(), sa.ForeignKey("ledger_transactions.id"), nullable=True),
        sa.Column("seeded_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("pool_id", "generation", name="uq_jackpot_seeds_generation"),
    )


def downgrade() -> None:
    for table in (
        "jackpot_seeds",
        "jackpot_wins",
        "jackpot_days",
        "jackpot_stakes",
        "jackpot_commitments",
        "jackpot_pools",
        "jackpots",
    ):
        op.drop_table(table)
