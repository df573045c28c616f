"""crm journeys: journeys as versioned data, each player's runs through them and the log of their steps

Revision ID: 0055
Revises: 0054

models/crm_journeys.py describes the tables (services/crm/journeys/ the rules).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0055"
down_revision: str | None = "0054"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.create_table(
        "crm_journeys",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("key", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
        sa.Column("trigger_kind", sa.String(24), nullable=False),
        sa.Column("definition", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("superseded_by", sa.Uuid(), sa.ForeignKey("crm_journeys.id"), nullable=True),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("activated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('draft', 'active', 'paused', 'archived')", name="ck_crm_journeys_status"),
        sa.CheckConstraint("version >= 1", name="ck_crm_journeys_version"),
        sa.UniqueConstraint("key", "version", name="uq_crm_journeys_key_version"),
    )
    # One live (active or paused) version per journey.
    op.create_index(
        "uq_crm_journeys_live",
        "crm_journeys",
        ["key"],
        unique=True,
        postgresql_where=sa.text("status IN ('active', 'paused')"),
    )
    op.create_index(
        "ix_crm_journeys_trigger", "crm_journeys", ["trigger_kind"], postgresql_where=sa.text("status = 'active'")
    )
    op.create_index("ix_crm_journeys_brand", "crm_journeys", ["brand_id", "created_at"])

    op.create_table(
        "crm_journey_runs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("journey_id", sa.Uuid(), sa.ForeignKey("crm_journeys.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("trigger_key", sa.String(120), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=True),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("step", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("variant", sa.String(40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('active', 'completed', 'exited', 'skipped')", name="ck_crm_journey_runs_status"),
        sa.UniqueConstraint("journey_id", "trigger_key", name="uq_crm_journey_runs_trigger"),
    )
    op.create_index(
        "ix_crm_journey_runs_due", "crm_journey_runs", ["due_at"], postgresql_where=sa.text("status = 'active'")
    )
    op.create_index("ix_crm_journey_runs_player", "crm_journey_runs", ["player_id", "decided_at"])
    op.create_index("ix_crm_journey_runs_journey", "crm_journey_runs", ["journey_id", "decided_at"])

    op.create_table(
        "crm_journey_steps",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("run_id", sa.Uuid(), sa.ForeignKey("crm_journey_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("message_id", sa.Uuid(), nullable=True),
        sa.Column("bonus_id", sa.Uuid(), nullable=True),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint(
            "outcome IN ('done', 'waiting', 'deferred', 'skipped', 'suppressed', 'exited', 'failed')",
            name="ck_crm_journey_steps_outcome",
        ),
    )
    op.create_index("ix_crm_journey_steps_run", "crm_journey_steps", ["run_id", "id"])
    op.create_index(
        "ix_crm_journey_steps_sends",
        "crm_journey_steps",
        ["at"],
        postgresql_where=sa.text("kind = 'send' AND outcome = 'done'"),
    )


def downgrade() -> None:
    op.drop_table("crm_journey_steps")
    op.drop_table("crm_journey_runs")
    op.drop_table("crm_journeys")
