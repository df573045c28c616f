"""KYC levels: each player's level and requirement, the triggers that raised it, reviews, provider checks;
withdrawals wait in `waiting_for_kyc`

Revision ID: 0030
Revises: 0029

`kyc_states`: one row per player who has met KYC (created the first time a trigger, a check or staff
touches them; no row reads as the profile's first level). `kyc_requirements`: each trigger that fired,
once per (player, trigger, level). `kyc_reviews`: officers' decision per (player, level), four eyes
enforced by a CHECK. `kyc_checks`: identity-verification provider results. `payments.status` gains
`waiting_for_kyc` (a held withdrawal waiting for the player's level).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0030"
down_revision: str | None = "0029"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STATUSES = (
    "status IN ('created', 'pending', 'succeeded', 'failed', 'requested', 'approved', 'processing', "
    "'paid', 'rejected', 'cancelled'"
)


def upgrade() -> None:
    op.create_table(
        "kyc_states",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("required_level", sa.String(32), nullable=False),
        sa.Column("required_rank", sa.Integer(), nullable=False),
        sa.Column("required_trigger", sa.String(32), nullable=True),
        sa.Column("required_details", postgresql.JSONB(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("restricted", sa.Boolean(), nullable=False),
        sa.Column("restricted_reason", sa.String(500), nullable=True),
        sa.Column("high_risk", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("level_rank >= 0 AND required_rank >= 0", name="ck_kyc_states_ranks"),
        sa.CheckConstraint(
            "status IN ('verified', 'action_required', 'pending_review', 'restricted')", name="ck_kyc_states_status"
        ),
    )
    op.create_index("ix_kyc_states_queue", "kyc_states", ["brand_id", "status", "updated_at", "player_id"])
    op.create_table(
        "kyc_requirements",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("trigger", sa.String(32), nullable=False),
        sa.Column("gates", postgresql.JSONB(), nullable=False),
        sa.Column("details", postgresql.JSONB(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("player_id", "trigger", "level", name="uq_kyc_requirements_trigger"),
    )
    op.create_index(op.f("ix_kyc_requirements_player_id"), "kyc_requirements", ["player_id"])
    op.create_table(
        "kyc_reviews",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("level", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_approved_by", sa.Uuid(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("decided_by", sa.Uuid(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.Column("requested", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("player_id", "level", name="uq_kyc_reviews_level"),
        sa.CheckConstraint(
            "status IN ('pending', 'first_approval', 'approved', 'rejected', 'more_requested')",
            name="ck_kyc_reviews_status",
        ),
        sa.CheckConstraint(
            "decided_by IS NULL OR first_approved_by IS NULL OR decided_by <> first_approved_by",
            name="ck_kyc_reviews_four_eyes",
        ),
    )
    op.create_table(
        "kyc_checks",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("provider", sa.String(32), nullable=False),
        sa.Column("result", sa.String(8), nullable=False),
        sa.Column("reference", sa.String(100), nullable=True),
        sa.Column("recorded_by_type", sa.String(16), nullable=False),
        sa.Column("recorded_by_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("result IN ('passed', 'failed')", name="ck_kyc_checks_result"),
    )
    op.create_index(op.f("ix_kyc_checks_player_id"), "kyc_checks", ["player_id"])
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    op.create_check_constraint("ck_payments_status", "payments", _STATUSES + ", 'waiting_for_kyc')")


def downgrade() -> None:
    op.drop_constraint("ck_payments_status", "payments", type_="check")
    # The earlier schema has no `waiting_for_kyc`: such a withdrawal is held like a requested one, and finance
    # decides it as one.
    op.execute("UPDATE payments SET status = 'requested' WHERE status = 'waiting_for_kyc'")
    op.create_check_constraint("ck_payments_status", "payments", _STATUSES + ")")
    op.drop_table("kyc_checks")
    op.drop_table("kyc_reviews")
    op.drop_table("kyc_requirements")
    op.drop_table("kyc_states")
