"""register hits: a national self-exclusion register's "excluded" answer about an existing account, kept until
a later check answers otherwise (CRM suppression reads it: REGISTER_HIT)

Revision ID: 0053
Revises: 0052

models/register_hits.py describes the table.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0053"
down_revision: str | None = "0052"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rg_register_hits",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("register_name", sa.String(32), nullable=False),
        sa.Column("hit_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("cleared_at IS NULL OR cleared_at >= hit_at", name="ck_rg_register_hits_window"),
    )


def downgrade() -> None:
    op.drop_table("rg_register_hits")
