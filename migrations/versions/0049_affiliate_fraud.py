"""affiliate fraud: flags on a partner's sub-id whose players look like fraud, pending staff review

Revision ID: 0049
Revises: 0048

One open flag per (partner, brand, sub-id) at a time (a partial unique index: two sweeps, or two replicas,
raise it once). `sub_id` is '' for the players a partner sent without one. `player_ids` are the players the
flag's evidence names: a later sweep raises a new flag only for players no earlier flag of the sub-id named
(so a cleared flag is not raised again on the same evidence). services/affiliates/fraud.py writes it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0049"
down_revision: str | None = "0048"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affiliate_subid_flags",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("sub_id", sa.String(100), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="open"),
        sa.Column("reasons", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column("evidence", postgresql.JSONB(), nullable=False),
        sa.Column("player_ids", postgresql.ARRAY(sa.Uuid()), nullable=False),
        sa.Column("withheld", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.Uuid(), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.String(500), nullable=True),
        sa.Column("released", sa.Integer(), nullable=True),
        sa.Column("rejected", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'cleared', 'confirmed')", name="ck_affiliate_subid_flags_status"),
        sa.CheckConstraint(
            "(status = 'open') = (reviewed_at IS NULL)", name="ck_affiliate_subid_flags_reviewed_when_closed"
        ),
    )
    op.create_index(
        "uq_affiliate_subid_flags_open",
        "affiliate_subid_flags",
        ["affiliate_id", "brand_id", "sub_id"],
        unique=True,
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_index("ix_affiliate_subid_flags_subid", "affiliate_subid_flags", ["affiliate_id", "sub_id", "status"])
    op.create_index("ix_affiliate_subid_flags_queue", "affiliate_subid_flags", ["status", "raised_at", "id"])


def downgrade() -> None:
    op.drop_table("affiliate_subid_flags")
