"""payment routing: the cashier's routing and cascade rules, PSP terms, payment limits and BIN rules in the database

Revision ID: 0060
Revises: 0059

One row per version (services/cashier/routing_config.py); the highest is live. None is seeded: with no row the
built-in rules (services/cashier/routing.py DEFAULT_RULES) are live, and the first staff edit stores them with
its change as version 1. The PSP_ROUTING environment setting is gone.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0060"
down_revision: str | None = "0059"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "payment_routing_versions",
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("document", postgresql.JSONB, nullable=False),
        sa.Column("change", sa.String(200), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("created_by", sa.Uuid, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("version >= 1", name="ck_payment_routing_versions_version"),
    )


def downgrade() -> None:
    op.drop_table("payment_routing_versions")
