"""crm channels: message templates per brand, key and language; a brand's default language; what a sent
message said (its subject, and an inbox message's bodies)

Revision ID: 0054
Revises: 0053

models/crm_channels.py describes the templates; services/crm/channels the rest. Templates are edited by
marketing in the database (a new version on every save); `brands.default_language` is the language a
message falls back to when no template exists in the player's own; `crm_messages.subject` keeps what was
sent (the log shows it), `body_text`/`body_html` an inbox message's rendered bodies (the inbox shows them).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0054"
down_revision: str | None = "0053"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_NOW = sa.text("now()")


def upgrade() -> None:
    op.add_column("brands", sa.Column("default_language", sa.String(8), nullable=False, server_default="en"))
    op.create_table(
        "crm_templates",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("brand_id", sa.Uuid(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body_html", sa.Text(), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False, server_default=sa.text("1")),
        sa.Column("updated_by", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=_NOW),
        sa.CheckConstraint("key ~ '^[a-z0-9][a-z0-9_.-]*$'", name="ck_crm_templates_key"),
        sa.CheckConstraint("language ~ '^[a-z]{2,3}(-[A-Za-z0-9]{2,4})?$'", name="ck_crm_templates_language"),
        sa.UniqueConstraint("brand_id", "key", "language", name="uq_crm_templates_brand_key_language"),
    )
    op.add_column("crm_messages", sa.Column("subject", sa.String(200), nullable=True))
    op.add_column("crm_messages", sa.Column("body_text", sa.Text(), nullable=True))
    op.add_column("crm_messages", sa.Column("body_html", sa.Text(), nullable=True))
    # The inbox: a player's sent inbox messages, newest first.
    op.create_index(
        "ix_crm_messages_inbox",
        "crm_messages",
        ["player_id", "sent_at", "id"],
        postgresql_where=sa.text("channel = 'inbox' AND status = 'sent'"),
    )


def downgrade() -> None:
    op.drop_index("ix_crm_messages_inbox", table_name="crm_messages")
    op.drop_column("crm_messages", "body_html")
    op.drop_column("crm_messages", "body_text")
    op.drop_column("crm_messages", "subject")
    op.drop_table("crm_templates")
    op.drop_column("brands", "default_language")
