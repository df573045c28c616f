"""jackpots: what each stake put into each pot (and which pot), what rollbacks could not take back; one win per
provider reference

Revision ID: 0050
Revises: 0049

`jackpot_stakes.given` maps each pool the stake fed to `[generation, minor units it put in]` (after the cap's
clip), so a rollback takes back only that, and only from the same pot; `forgone` is what it could not take back
because that pot had dropped (the house's loss, never taken from the next pot), per stake and per pool-day
(`jackpot_days.forgone`). Rows written before this revision have no `given` (services/jackpots/consumer.py
treats their rollbacks as forgone). A provider's win reference pays one win, whatever pool it names.

Closing a jackpot refunds each pot to its seed account: `jackpot_refunds`, one per pool (the pot it ended,
what went back, the ledger transaction, the reason); the undropped pot's commitment is revealed as void
(`jackpot_commitments.voided_at`); the pool row is marked (`jackpot_pools.closed_at`) so a consumer batch
that waited for its lock sees it closed.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0050"
down_revision: str | None = "0049"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("jackpot_stakes", sa.Column("given", postgresql.JSONB(), nullable=True))
    op.add_column("jackpot_stakes", sa.Column("forgone", sa.BigInteger(), server_default="0", nullable=False))
    op.add_column("jackpot_days", sa.Column("forgone", sa.BigInteger(), server_default="0", nullable=False))
    op.create_index(
        "uq_jackpot_wins_provider_reference", "jackpot_wins", ["reference"], unique=True,
        postgresql_where=sa.text("trigger = 'provider'"),
    )  # fmt: skip
    op.add_column("jackpot_commitments", sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("jackpot_pools", sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "jackpot_refunds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("pool_id", sa.Uuid(), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("ledger_transaction_id", sa.Uuid(), nullable=True),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("refunded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["pool_id"], ["jackpot_pools.id"]),
        sa.ForeignKeyConstraint(["ledger_transaction_id"], ["ledger_transactions.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pool_id", name="uq_jackpot_refunds_pool"),
    )


def downgrade() -> None:
    op.drop_table("jackpot_refunds")
    op.drop_column("jackpot_pools", "closed_at")
    op.drop_column("jackpot_commitments", "voided_at")
    op.drop_index("uq_jackpot_wins_provider_reference", table_name="jackpot_wins")
    op.drop_column("jackpot_days", "forgone")
    op.drop_column("jackpot_stakes", "forgone")
    op.drop_column("jackpot_stakes", "given")
