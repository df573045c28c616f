"""ledger transactions by time, for the live operations figures

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25 04:21:00.000000
"""

from collections.abc import Sequence

from alembic import op


revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # services/dashboard.py reads the last minute / 15 minutes / today of ledger transactions, per brand
    # or for all: a range on created_at, with the brand checked inside the index (one index, not two,
    # to keep the bet insert cheap).
    op.create_index('ix_ledger_transactions_created', 'ledger_transactions', ['created_at', 'brand_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_ledger_transactions_created', table_name='ledger_transactions')
