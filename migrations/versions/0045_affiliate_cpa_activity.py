"""affiliate_cpa_activity: what an attributed player did towards their CPA (deposits, stakes, rollbacks)

Revision ID: 0045
Revises: 0044

The `affiliate-cpa` consumer (services/affiliates/cpa.py) writes one row per deposit, stake or stake rollback
of an attributed player who has not qualified yet, keyed by the event's id (a redelivered event writes
nothing), and decides the qualification from the rows in time order, so events arriving out of order
decide the same. The rows stay as the figures behind a qualification.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0045"
down_revision: str | None = "0044"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affiliate_cpa_activity",
        sa.Column("event_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('deposit', 'stake', 'rollback')", name="ck_affiliate_cpa_activity_kind"),
        sa.CheckConstraint("amount >= 0", name="ck_affiliate_cpa_activity_amount"),
    )
    op.create_index("ix_affiliate_cpa_activity_player", "affiliate_cpa_activity", ["player_id", "at"])


def downgrade() -> None:
    op.drop_table("affiliate_cpa_activity")
