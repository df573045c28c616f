"""crm foundation: a player's language and time zone, segments and their members, tags, consents, the
message queue and delivery log, and the suppression log

Revision ID: 0051
Revises: 0050

models/crm.py describes the tables. These are the tables several CRM parts share (segments are read by
journeys, lobbies and content; consents and the suppression log by every send and offer; messages are
queued by journeys and staff and sent by the channels); each part adds its own tables in its own migration.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0051"
down_revision: str | None = "0050"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")
_EMPTY = sa.text("'{}'::jsonb")


def upgrade() -> None:
    op.add_column("players", sa.Column("language", sa.String(8), nullable=False, server_default="en"))
    op.add_column("players", sa.Column("time_zone", sa.String(64), nullable=False, server_default="UTC"))

    op.create_table(
        "crm_segments",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("rules", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("status", sa.String(16), nullable=False, server_default="active"),
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("created_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("kind IN ('dynamic', 'static')", name="ck_crm_segments_kind"),
        sa.CheckConstraint("status IN ('active', 'archived')", name="ck_crm_segments_status"),
        sa.UniqueConstraint("brand_id", "name", name="uq_crm_segments_brand_name"),
    )
    op.create_table(
        "crm_segment_members",
        sa.Column("segment_id", sa.Uuid(), sa.ForeignKey("crm_segments.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
    )
    op.create_index("ix_crm_segment_members_player", "crm_segment_members", ["player_id"])

    op.create_table(
        "crm_player_tags",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("tag", sa.String(40), primary_key=True),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("tagged_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("tag ~ '^[a-z0-9][a-z0-9_-]*$'", name="ck_crm_player_tags_tag"),
    )

    op.create_table(
        "crm_consents",
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), primary_key=True),
        sa.Column("product", sa.String(24), primary_key=True),
        sa.Column("channel", sa.String(16), primary_key=True),
        sa.Column("granted", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(24), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("channel IN ('email', 'sms', 'push', 'inbox')", name="ck_crm_consents_channel"),
    )

    op.create_table(
        "crm_messages",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("product", sa.String(24), nullable=False),
        sa.Column("template", sa.String(80), nullable=False),
        sa.Column("language", sa.String(8), nullable=True),
        sa.Column("context", postgresql.JSONB(), nullable=False, server_default=_EMPTY),
        sa.Column("status", sa.String(16), nullable=False, server_default="queued"),
        sa.Column("reason", sa.String(40), nullable=True),
        sa.Column("idempotency_key", sa.String(200), nullable=False, unique=True),
        sa.Column("source_kind", sa.String(24), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("clicked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("channel IN ('email', 'sms', 'push', 'inbox')", name="ck_crm_messages_channel"),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed', 'suppressed', 'cancelled')", name="ck_crm_messages_status"
        ),
    )
    op.create_index("ix_crm_messages_due", "crm_messages", ["due_at"], postgresql_where=sa.text("status = 'queued'"))
    op.create_index("ix_crm_messages_player", "crm_messages", ["player_id", "created_at"])
    op.create_index("ix_crm_messages_brand", "crm_messages", ["brand_id", "created_at"])

    op.create_table(
        "crm_suppressions",
        sa.Column("id", sa.BigInteger(), sa.Identity(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("player_id", sa.Uuid(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("purpose", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("product", sa.String(24), nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("source_kind", sa.String(24), nullable=False),
        sa.Column("source_id", sa.Uuid(), nullable=True),
        sa.Column("message_id", sa.Uuid(), sa.ForeignKey("crm_messages.id"), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("purpose IN ('message', 'offer')", name="ck_crm_suppressions_purpose"),
    )
    op.create_index("ix_crm_suppressions_player", "crm_suppressions", ["player_id", "at"])
    op.create_index("ix_crm_suppressions_source", "crm_suppressions", ["source_kind", "source_id"])


def downgrade() -> None:
    op.drop_table("crm_suppressions")
    op.drop_table("crm_messages")
    op.drop_table("crm_consents")
    op.drop_table("crm_player_tags")
    op.drop_table("crm_segment_members")
    op.drop_table("crm_segments")
    op.drop_column("players", "time_zone")
    op.drop_column("players", "language")
