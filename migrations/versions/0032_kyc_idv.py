"""identity verification at an outside provider: applicants and webhook receipts

Revision ID: 0032
Revises: 0031

models/kyc_idv.py describes each table: one applicant per player and provider (its status there and the
review result applied last), and one receipt per verified webhook delivery.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0032"
down_revision: str | None = "0031"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "kyc_idv_applicants",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("applicant_id", sa.String(100), nullable=False),
        sa.Column("level_name", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_at", _TS, nullable=True),
        sa.Column("review_answer", sa.String(8), nullable=True),
        sa.Column("reject_type", sa.String(8), nullable=True),
        sa.Column("reject_labels", postgresql.JSONB(), nullable=False),
        sa.Column("reviewed_at", _TS, nullable=True),
        sa.Column("created_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("player_id", "provider", name="uq_kyc_idv_applicants_player"),
        sa.UniqueConstraint("provider", "applicant_id", name="uq_kyc_idv_applicants_applicant"),
        sa.CheckConstraint("status IN ('init', 'pending', 'on_hold', 'completed')", name="ck_kyc_idv_applicants_status"),
        sa.CheckConstraint(
            "review_answer IS NULL OR review_answer IN ('GREEN', 'RED')", name="ck_kyc_idv_applicants_answer"
        ),
    )
    op.create_table(
        "kyc_idv_webhook_receipts",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("delivery_id", sa.String(200), nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("applicant_id", sa.String(100), nullable=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=True),
        sa.Column("result", sa.String(32), nullable=False),
        sa.Column("event_at", _TS, nullable=True),
        sa.Column("payload", postgresql.JSONB(), nullable=False),
        sa.Column("received_at", _TS, nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("provider", "delivery_id", name="uq_kyc_idv_webhook_receipts_delivery"),
    )
    op.create_index(
        op.f("ix_kyc_idv_webhook_receipts_player_id"), "kyc_idv_webhook_receipts", ["player_id"]
    )


def downgrade() -> None:
    op.drop_table("kyc_idv_webhook_receipts")
    op.drop_table("kyc_idv_applicants")
