"""report projections and reference exchange rates

Revision ID: 0020
Revises: 0019

The reports read projections that one consumer (`reports`, services/reports/projection.py) builds from
the event stream, never the ledger's hot tables: per day (the UTC day of the event's time) and brand,
play by currency, provider, game and the players' jurisdiction (`report_game_days`), each player's day (`report_player_days`),
money in and out with the bonus cost (`report_cashier_days`), and each player's registration and first
deposit (`report_players`); and rollups of them that the KPI queries read instead of every player's days
(`report_player_gaps`: players by the gap since their previous active or paying day, which counts the
players of any range; `report_cohort_days` and `report_cohort_ngr`: registration cohorts by day). A rebuild truncates them and replays the outbox.

`fx_rates` holds reference rates (units of a currency per 1 EUR, the ECB's convention) as exact
NUMERICs, imported by `croupier fx import`; conversions use the latest rate on or before a day.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _sums(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False, server_default="0") for name in names]


def upgrade() -> None:
    # Every report reads a range of days (for one brand or all of them): the day leads the keys.
    op.create_table(
        "report_game_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("provider", sa.String(200), primary_key=True),
        sa.Column("game", sa.String(200), primary_key=True),
        sa.Column("jurisdiction", sa.String(16), primary_key=True),
        *_sums(
            "stakes_cash",
            "stakes_bonus",
            "wins_cash",
            "wins_bonus",
            "bet_count",
            "win_count",
            "rollback_count",
            "stakes_rolled_back",
            "wins_rolled_back",
        ),
    )
    op.create_table(
        "report_player_days",
        sa.Column("player_id", postgresql.UUID(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), nullable=False),
        *_sums(
            "stakes",
            "wins",
            "bonus_cost",
            "deposits",
            "deposit_count",
            "withdrawals",
            "withdrawal_count",
            "bet_count",
        ),
    )
    op.create_index("ix_report_player_days_day", "report_player_days", ["day", "brand_id"])
    op.create_table(
        "report_cashier_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        *_sums(
            "deposits",
            "deposit_count",
            "withdrawals",
            "withdrawal_count",
            "adjustments",
            "deposit_attempts",
            "deposits_failed",
            "withdrawal_requests",
            "withdrawals_requested",
            "withdrawals_rejected",
            "withdrawals_cancelled",
            "payouts_failed",
            "bonus_granted",
            "bonus_cash",
            "bonus_game",
            "bonus_converted",
            "bonus_capped",
            "bonus_forfeited",
            "bonus_expired",
            "bonus_cancelled",
            "ftd_count",
            "ftd_amount",
        ),
    )
    op.create_table(
        "report_players",
        sa.Column("player_id", postgresql.UUID(), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), nullable=False),
        sa.Column("currency", sa.String(8), nullable=True),
        sa.Column("jurisdiction", sa.String(16), nullable=True),
        sa.Column("registered_on", sa.Date(), nullable=True),
        sa.Column("first_deposit_on", sa.Date(), nullable=True),
        sa.Column("first_deposit_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("first_deposit_event", sa.BigInteger(), nullable=True),
        sa.Column("first_deposit_amount", sa.BigInteger(), nullable=True),
        sa.Column("first_deposit_currency", sa.String(8), nullable=True),
    )
    op.create_index("ix_report_players_registered", "report_players", ["registered_on", "brand_id"])
    op.create_index("ix_report_players_first_deposit", "report_players", ["first_deposit_on", "brand_id"])
    # Rollups of the player days, kept by the same consumer: players by the gap since their previous
    # active (or paying) day, and registration cohorts by day (sizes, activity, first deposits, NGR).
    op.create_table(
        "report_player_gaps",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("previous", sa.Date(), primary_key=True),
        *_sums("active", "paying"),
    )
    op.create_table(
        "report_cohort_days",
        sa.Column("registered_on", sa.Date(), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        *_sums("registered", "active", "depositors"),
    )
    op.create_table(
        "report_cohort_ngr",
        sa.Column("registered_on", sa.Date(), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("currency", sa.String(8), primary_key=True),
        *_sums("ngr"),
    )
    op.create_table(
        "fx_rates",
        sa.Column("currency", sa.String(8), primary_key=True),
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("rate", sa.Numeric(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("rate > 0", name="ck_fx_rates_positive"),
    )


def downgrade() -> None:
    op.drop_table("fx_rates")
    op.drop_table("report_cohort_ngr")
    op.drop_table("report_cohort_days")
    op.drop_table("report_player_gaps")
    op.drop_index("ix_report_players_first_deposit", table_name="report_players")
    op.drop_index("ix_report_players_registered", table_name="report_players")
    op.drop_table("report_players")
    op.drop_table("report_cashier_days")
    op.drop_index("ix_report_player_days_day", table_name="report_player_days")
    op.drop_table("report_player_days")
    op.drop_table("report_game_days")
