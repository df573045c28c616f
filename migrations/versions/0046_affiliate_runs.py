"""affiliate commission runs: runs, their approvals, per-deal sums, lines, and per-partner payouts

Revision ID: 0046
Revises: 0045

services/affiliates/runs/ describes the maths and the states. A CPA is paid once ever: a line that pays a
player's CPA is unique per player (a discarded draft deletes its lines, so its CPA can be paid later).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0046"
down_revision: str | None = "0045"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_ZERO = sa.text("0")


def _money(*names: str) -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False, server_default=_ZERO) for name in names]


def upgrade() -> None:
    op.create_table(
        "affiliate_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("booked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('draft', 'approved', 'booked', 'paid', 'discarded')", name="ck_affiliate_runs_state"
        ),
        sa.CheckConstraint("period_end >= period_start", name="ck_affiliate_runs_period"),
    )
    op.create_index("ix_affiliate_runs_brand", "affiliate_runs", ["brand_id", "period_start"])

    op.create_table(
        "affiliate_run_approvals",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("affiliate_runs.id"), primary_key=True),
        sa.Column("staff_id", sa.Uuid(), primary_key=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )

    op.create_table(
        "affiliate_run_deals",
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("affiliate_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("deal_id", sa.Uuid(), sa.ForeignKey("affiliate_deals.id"), primary_key=True),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("plan_id", sa.Uuid(), sa.ForeignKey("affiliate_plans.id"), nullable=False),
        sa.Column("negative_carry_over", sa.Boolean(), nullable=False),
        *_money("ngr", "carry_in", "base", "revshare", "carry_out"),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("rate_ppm", sa.Integer(), nullable=True),
        sa.CheckConstraint("carry_in <= 0 AND carry_out <= 0", name="ck_affiliate_run_deals_carry"),
        sa.CheckConstraint("revshare >= 0", name="ck_affiliate_run_deals_revshare"),
    )

    op.create_table(
        "affiliate_run_lines",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("affiliate_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=True),
        sa.Column("sub_affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=True),
        sa.Column("deal_id", sa.Uuid(), sa.ForeignKey("affiliate_deals.id"), nullable=True),
        sa.Column("plan_id", sa.Uuid(), sa.ForeignKey("affiliate_plans.id"), nullable=True),
        sa.Column("sub_id", sa.String(100), nullable=True),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("first_day", sa.Date(), nullable=True),
        sa.Column("last_day", sa.Date(), nullable=True),
        *_money("stakes", "wins", "bonus_cost", "ngr", "revshare", "cpa_amount", "second_tier_base", "second_tier"),
        sa.Column("tier", sa.Integer(), nullable=True),
        sa.Column("rate_ppm", sa.Integer(), nullable=True),
        sa.Column("cpa", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.CheckConstraint("kind IN ('player', 'second_tier')", name="ck_affiliate_run_lines_kind"),
        sa.CheckConstraint("(kind = 'player') = (player_id IS NOT NULL)", name="ck_affiliate_run_lines_player"),
        sa.CheckConstraint("cpa OR cpa_amount = 0", name="ck_affiliate_run_lines_cpa"),
    )
    op.create_index("ix_affiliate_run_lines_run", "affiliate_run_lines", ["run_id", "affiliate_id"])
    op.create_index("ix_affiliate_run_lines_player", "affiliate_run_lines", ["player_id"])
    # A player's CPA is paid once, ever.
    op.create_index(
        "uq_affiliate_run_lines_cpa", "affiliate_run_lines", ["player_id"], unique=True, postgresql_where=sa.text("cpa")
    )

    op.create_table(
        "affiliate_payouts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("affiliate_runs.id"), nullable=False),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="booked"),
        sa.Column("commission_transaction_id", sa.Uuid(), sa.ForeignKey("ledger_transactions.id"), nullable=True),
        # Each sending after a decline is a new attempt, so a new reference at the PSP (`<payout id>.<attempt>`):
        # the PSP answers a reference it has seen with its first answer, a decline included.
        sa.Column("attempt", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("psp", sa.String(32), nullable=True),
        sa.Column("psp_reference", sa.String(200), nullable=True),
        sa.Column("failure", sa.String(500), nullable=True),
        sa.Column("payout_transaction_id", sa.Uuid(), sa.ForeignKey("ledger_transactions.id"), nullable=True),
        sa.Column("paid_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("run_id", "affiliate_id", "currency", name="uq_affiliate_payouts_partner"),
        sa.CheckConstraint("amount > 0", name="ck_affiliate_payouts_amount"),
        sa.CheckConstraint("status IN ('booked', 'sending', 'paid', 'failed')", name="ck_affiliate_payouts_status"),
    )


def downgrade() -> None:
    for table in (
        "affiliate_payouts",
        "affiliate_run_lines",
        "affiliate_run_deals",
        "affiliate_run_approvals",
        "affiliate_runs",
    ):
        op.drop_table(table)
