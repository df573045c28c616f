"""chargebacks and returned payouts: disputes, the player's debt account, a returned withdrawal, report sums

Revision ID: 0035
Revises: 0034

models/disputes.py describes the disputes table; a player's `debt` ledger account (created on first use)
never rises above zero (what they owe, negated); a paid withdrawal the bank sent back is `returned`; the
cashier days count chargebacks, their reversals and returned payouts (services/cashier/chargebacks.py).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0035"
down_revision: str | None = "0034"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)
_STATUSES = (
    "status IN ('created', 'pending', 'succeeded', 'failed', 'requested', 'approved', 'processing', "
    "'paid', 'rejected', 'cancelled', 'waiting_for_kyc'"
)
_REPORT_SUMS = ("chargebacks", "chargeback_count", "chargebacks_reversed", "payouts_returned")


def upgrade() -> None:
    op.create_table(
        "disputes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("payment_id", sa.Uuid(), sa.ForeignKey("payments.id"), nullable=False),
        sa.Column("psp", sa.String(32), nullable=False),
        sa.Column("chargeback_id", sa.String(100), nullable=False),
        sa.Column("reason_code", sa.String(64), nullable=True),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("cash_debited", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("debt_booked", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("chargeback_transaction_id", sa.Uuid(), sa.ForeignKey("ledger_transactions.id"), nullable=True),
        sa.Column("reversal_transaction_id", sa.Uuid(), sa.ForeignKey("ledger_transactions.id"), nullable=True),
        sa.Column("evidence", postgresql.JSONB(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        sa.Column("decided_by", sa.Uuid(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("opened_at", _TS, nullable=True),
        sa.Column("decided_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("psp", "chargeback_id", name="uq_disputes_chargeback"),
        sa.CheckConstraint("amount > 0", name="ck_disputes_amount_positive"),
        sa.CheckConstraint("cash_debited >= 0 AND debt_booked >= 0", name="ck_disputes_split"),
        sa.CheckConstraint("state IN ('open', 'evidence_submitted', 'won', 'lost')", name="ck_disputes_state"),
    )
    op.create_index("ix_disputes_brand_state", "disputes", ["brand_id", "state", "created_at", "id"])
    op.create_index("ix_disputes_player", "disputes", ["player_id", "created_at"])
    op.create_index(op.f("ix_disputes_payment_id"), "disputes", ["payment_id"])
    op.create_check_constraint("ck_ledger_accounts_debt_owed", "ledger_accounts", "purpose <> 'debt' OR balance <= 0")
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    op.create_check_constraint("ck_payments_status", "payments", _STATUSES + ", 'returned')")
    for name in _REPORT_SUMS:
        op.add_column("report_cashier_days", sa.Column(name, sa.BigInteger(), nullable=False, server_default="0"))


def downgrade() -> None:
    for name in reversed(_REPORT_SUMS):
        op.drop_column("report_cashier_days", name)
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    # The earlier schema has no `returned`: such a withdrawal reads as paid (its money is back in cash, as the
    # ledger says).
    op.execute("UPDATE payments SET status = 'paid' WHERE status = 'returned'")
    op.create_check_constraint("ck_payments_status", "payments", _STATUSES + ")")
    op.drop_constraint("ck_ledger_accounts_debt_owed", "ledger_accounts", type_="check")
    op.drop_table("disputes")
