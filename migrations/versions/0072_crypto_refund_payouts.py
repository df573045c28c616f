"""crypto refund payouts: a held deposit's refund to its sender is tracked as a payout, its later callbacks
(confirmed, failed, cancelled, dropped) applied once; a failed one holds the deposit again

Revision ID: 0072
Revises: 0069

docs/crypto.md "Held deposits". One row per refund round (a failed refund may be asked again, under a new foreign
id: the processor pays a foreign id once).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0072"
down_revision: str | None = "0069"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "crypto_refund_payouts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("transfer_id", sa.Uuid(), sa.ForeignKey("crypto_transfers.id"), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("foreign_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("psp_reference", sa.String(100), nullable=True),
        sa.Column("fee", sa.BigInteger(), nullable=True),
        sa.Column("failure", sa.String(200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("foreign_id", name="uq_crypto_refund_payouts_foreign_id"),
        sa.UniqueConstraint("transfer_id", "round", name="uq_crypto_refund_payouts_round"),
        sa.CheckConstraint(
            "status IN ('requested', 'processing', 'confirmed', 'failed')", name="ck_crypto_refund_payouts_status"
        ),
        sa.CheckConstraint("round >= 1", name="ck_crypto_refund_payouts_round"),
    )


def downgrade() -> None:
    op.drop_table("crypto_refund_payouts")
