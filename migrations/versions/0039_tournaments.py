"""tournaments: definitions, entries with their standing, the rounds behind the scores, prizes

Revision ID: 0039
Revises: 0038

models/tournaments.py describes the tables. `tournament_entries` ranks by score DESC, reached_seq ASC NULLS
LAST, player_id ASC (its index `ix_tournament_entries_rank` in that order); `tournament_rounds` holds the
per-round totals the scores are recomputed from.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0039"
down_revision: str | None = "0038"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_ZERO = sa.text("0")


def upgrade() -> None:
    op.create_table(
        "tournaments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("scoring", sa.String(32), nullable=False),
        sa.Column("entry_mode", sa.String(16), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("buy_in", sa.BigInteger(), nullable=False, server_default=_ZERO),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False),
        sa.Column("results_hash", sa.String(64), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('scheduled', 'running', 'finished', 'settled', 'cancelled')", name="ck_tournaments_state"
        ),
        sa.CheckConstraint(
            "scoring IN ('points_per_wager', 'biggest_multiplier', 'sum_of_multipliers', 'consecutive_wins')",
            name="ck_tournaments_scoring",
        ),
        sa.CheckConstraint("entry_mode IN ('opt_in', 'automatic')", name="ck_tournaments_entry_mode"),
        sa.CheckConstraint("ends_at > starts_at", name="ck_tournaments_window"),
        sa.CheckConstraint("buy_in >= 0", name="ck_tournaments_buy_in"),
        sa.CheckConstraint("state <> 'settled' OR results_hash IS NOT NULL", name="ck_tournaments_settled_hash"),
    )
    op.create_index("ix_tournaments_brand_state", "tournaments", ["brand_id", "state", "starts_at"])

    op.create_table(
        "tournament_entries",
        sa.Column("tournament_id", sa.Uuid(), sa.ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("score", sa.BigInteger(), nullable=False, server_default=_ZERO),
        sa.Column("reached_seq", sa.BigInteger(), nullable=True),
        sa.Column("reached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("rounds_counted", sa.Integer(), nullable=False, server_default=_ZERO),
        sa.Column("buy_ins", sa.Integer(), nullable=False, server_default=_ZERO),
        sa.Column("rebuys", sa.Integer(), nullable=False, server_default=_ZERO),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("final_rank", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('active', 'refunded')", name="ck_tournament_entries_status"),
        sa.CheckConstraint("buy_ins >= 0 AND rebuys >= 0", name="ck_tournament_entries_counts"),
    )
    op.create_index(
        "ix_tournament_entries_rank",
        "tournament_entries",
        ["tournament_id", sa.text("score DESC"), sa.text("reached_seq ASC NULLS LAST"), "player_id"],
    )
    op.create_index("ix_tournament_entries_player", "tournament_entries", ["player_id"])

    op.create_table(
        "tournament_rounds",
        sa.Column("tournament_id", sa.Uuid(), sa.ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("player_id", sa.Uuid(), primary_key=True),
        sa.Column("provider", sa.String(32), primary_key=True),
        sa.Column("round_ref", sa.String(200), primary_key=True),
        sa.Column("game", sa.String(200), nullable=True),
        sa.Column("stake", sa.BigInteger(), nullable=False, server_default=_ZERO),
        sa.Column("win", sa.BigInteger(), nullable=False, server_default=_ZERO),
        sa.Column("first_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("first_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("first_seq <= last_seq", name="ck_tournament_rounds_seq"),
    )
    op.create_index("ix_tournament_rounds_player", "tournament_rounds", ["tournament_id", "player_id", "first_seq"])

    op.create_table(
        "tournament_prizes",
        sa.Column("tournament_id", sa.Uuid(), sa.ForeignKey("tournaments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("rank", sa.Integer(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("refusal_code", sa.String(32), nullable=True),
        sa.Column("ledger_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("bonus_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("kind IN ('cash', 'bonus', 'free_spins')", name="ck_tournament_prizes_kind"),
        sa.CheckConstraint("status IN ('paid', 'refused')", name="ck_tournament_prizes_status"),
        sa.CheckConstraint("amount >= 0", name="ck_tournament_prizes_amount"),
    )


def downgrade() -> None:
    op.drop_table("tournament_prizes")
    op.drop_index("ix_tournament_rounds_player", table_name="tournament_rounds")
    op.drop_table("tournament_rounds")
    op.drop_index("ix_tournament_entries_player", table_name="tournament_entries")
    op.drop_index("ix_tournament_entries_rank", table_name="tournament_entries")
    op.drop_table("tournament_entries")
    op.drop_index("ix_tournaments_brand_state", table_name="tournaments")
    op.drop_table("tournaments")
