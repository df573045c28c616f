"""closed loop: staff exceptions that waive part of a player's loop share (docs/closed-loop.md)

Revision ID: 0062
Revises: 0061

Withdrawals go back to the methods and instruments deposits came from before any other method
(services/cashier/closed_loop.py computes the shares from payments and disputes; nothing is stored for
them). Only the exceptions staff grant are kept: one row per waived share, revocable, never deleted.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0062"
down_revision: str | None = "0061"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "closed_loop_exceptions",
        sa.Column("id", postgresql.UUID(as_uuid=True), primary_key=True),
        sa.Column("brand_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", postgresql.UUID(as_uuid=True), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("currency", sa.String(8), sa.ForeignKey("currencies.code"), nullable=False),
        sa.Column("method", sa.String(32), nullable=False),
        sa.Column("instrument", sa.String(128), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("granted_by", postgresql.UUID(as_uuid=True), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", postgresql.UUID(as_uuid=True), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("revoke_reason", sa.String(500), nullable=True),
        sa.CheckConstraint("amount > 0", name="ck_closed_loop_exceptions_amount_positive"),
        sa.CheckConstraint(
            "(revoked_at IS NULL) = (revoked_by IS NULL)", name="ck_closed_loop_exceptions_revoked_together"
        ),
    )
    op.create_index(
        "ix_closed_loop_exceptions_player", "closed_loop_exceptions", ["player_id", "currency", "created_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_closed_loop_exceptions_player", "closed_loop_exceptions")
    op.drop_table("closed_loop_exceptions")
