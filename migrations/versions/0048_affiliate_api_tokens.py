"""affiliate_api_tokens: partners' scoped API tokens, kept as SHA-256 hashes

Revision ID: 0048
Revises: 0047

models/affiliate_tokens.py describes the table. The secret is never stored: a token is found by the hash of
what the caller presents, and shown to its partner by name, prefix, scopes, expiry and last use.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0048"
down_revision: str | None = "0047"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "affiliate_api_tokens",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("affiliate_id", sa.Uuid(), sa.ForeignKey("affiliates.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("scopes", postgresql.ARRAY(sa.String(32)), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.Uuid(), sa.ForeignKey("affiliate_users.id"), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.text("now()")),
        sa.CheckConstraint("cardinality(scopes) > 0", name="ck_affiliate_api_tokens_scopes"),
        sa.CheckConstraint("expires_at > created_at", name="ck_affiliate_api_tokens_expiry"),
    )
    op.create_index("ix_affiliate_api_tokens_affiliate", "affiliate_api_tokens", ["affiliate_id", "created_at"])


def downgrade() -> None:
    op.drop_table("affiliate_api_tokens")
