"""ledger verify checkpoints: where the last clean verify got to, so the next can check only what is new

Revision ID: 0022
Revises: 0021

`ledger_verify_checkpoints`: one row per clean `croupier ledger verify` (full or incremental). `posting_id`
is the settled high-water mark: every posting with an id at or below it was committed (or rolled back for
good) before the run checked it, so an incremental run checks the postings above it and the accounts and
transactions they touch. `settled_at` is the database's clock at that moment: rows of the other tables
(ledger transactions, provider transactions, payments) created or changed since then, less a margin, are
the cross-table checks' new rows. Only a clean run writes a row; the newest row is the checkpoint.

Indexes so an incremental run reads only new rows of the other tables: provider transactions by the
ledger transaction they name (btree) and by creation time (BRIN: the table is append-only, so a few
bytes per range of pages and next to nothing per insert on the wallet path), payments by last change,
bonus wagers by their ledger transaction.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ledger_verify_checkpoints",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("mode", sa.String(16), nullable=False),
        sa.Column("posting_id", sa.BigInteger(), nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("postings_checked", sa.BigInteger(), nullable=False),
        sa.Column("transactions_checked", sa.BigInteger(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("mode IN ('full', 'incremental')", name="ck_ledger_verify_checkpoints_mode"),
    )
    op.create_index("ix_provider_transactions_ledger_transaction", "provider_transactions", ["ledger_transaction_id"])
    op.create_index(
        "ix_provider_transactions_created_brin", "provider_transactions", ["created_at"], postgresql_using="brin"
    )
    op.create_index("ix_payments_updated", "payments", ["updated_at"])
    op.create_index("ix_bonus_wagers_ledger_transaction", "bonus_wagers", ["ledger_transaction_id"])


def downgrade() -> None:
    op.drop_index("ix_bonus_wagers_ledger_transaction", table_name="bonus_wagers")
    op.drop_index("ix_payments_updated", table_name="payments")
    op.drop_index("ix_provider_transactions_created_brin", table_name="provider_transactions")
    op.drop_index("ix_provider_transactions_ledger_transaction", table_name="provider_transactions")
    op.drop_table("ledger_verify_checkpoints")
