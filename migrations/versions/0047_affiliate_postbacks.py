"""affiliate postbacks: partners' signing secrets, postback configs, deliveries and their attempts

Revision ID: 0047
Revises: 0046

models/affiliate_postbacks.py describes the tables. A delivery is unique per (config, event id) — the
consumer that enqueues it is idempotent by event id — and per (config, player), since each trigger
(registration, first deposit, qualification) happens once per player. Every attempt is a row of its own.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0047"
down_revision: str | None = "0046"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.create_table(
        "affiliate_postback_secrets",
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("secret", sa.String(128), nullable=False),
        sa.Column("ref_salt", sa.String(64), nullable=False),
        sa.Column("rotated_by", sa.Uuid(), nullable=True),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_table(
        "affiliate_postback_configs",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=True),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False, server_default="GET"),
        sa.Column("url_template", sa.String(2000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.text("true")),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint(
            "trigger IN ('registration', 'first_deposit', 'qualification')", name="ck_affiliate_postback_configs_trigger"
        ),
        sa.CheckConstraint("method IN ('GET', 'POST')", name="ck_affiliate_postback_configs_method"),
    )
    op.create_index(
        "ix_affiliate_postback_configs_affiliate", "affiliate_postback_configs", ["affiliate_id", "trigger"]
    )
    op.create_table(
        "affiliate_postback_deliveries",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("config_id", sa.Uuid(), sa.ForeignKey("affiliate_postback_configs.id"), nullable=False),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("event_id", sa.BigInteger(), nullable=False),
        sa.Column("trigger", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("url", sa.String(4000), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("max_attempts", sa.Integer(), nullable=False),
        sa.Column("event_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'delivered', 'failed')", name="ck_affiliate_postback_deliveries_status"
        ),
        sa.CheckConstraint("max_attempts >= 5", name="ck_affiliate_postback_deliveries_tries"),
        sa.UniqueConstraint("config_id", "event_id", name="uq_affiliate_postback_deliveries_event"),
        sa.UniqueConstraint("config_id", "player_id", name="uq_affiliate_postback_deliveries_player"),
    )
    # The worker's queue: what is due, oldest first (delivered and failed ones leave the index).
    op.create_index(
        "ix_affiliate_postback_deliveries_due",
        "affiliate_postback_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'sending')"),
    )
    op.create_index(
        "ix_affiliate_postback_deliveries_affiliate", "affiliate_postback_deliveries", ["affiliate_id", "created_at"]
    )
    op.create_index("ix_affiliate_postback_deliveries_player", "affiliate_postback_deliveries", ["player_id"])
    op.create_table(
        "affiliate_postback_attempts",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Uuid(),
            sa.ForeignKey("affiliate_postback_deliveries.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("latency_ms", sa.Integer(), nullable=False),
        sa.Column("http_status", sa.Integer(), nullable=True),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(500), nullable=True),
        sa.UniqueConstraint("delivery_id", "attempt", name="uq_affiliate_postback_attempts_attempt"),
    )


def downgrade() -> None:
    for table in (
        "affiliate_postback_attempts",
        "affiliate_postback_deliveries",
        "affiliate_postback_configs",
        "affiliate_postback_secrets",
    ):
        op.drop_table(table)
