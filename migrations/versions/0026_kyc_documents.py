"""KYC documents: uploaded files (metadata; the encrypted bytes live in object storage) and document requests

Revision ID: 0026
Revises: 0025

`kyc_documents`: one row per distinct file a player uploaded (the same bytes twice are one row), with its
sniffed type, size, pages, SHA-256, where its encrypted object is and which key encrypted it, and the KYC
officer's decision. `kyc_document_requests`: a document a KYC officer asked the player for.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KINDS = "kind IN ('identity', 'address', 'source_of_funds', 'selfie', 'other')"


def upgrade() -> None:
    op.create_table(
        "kyc_documents",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("player_id", postgresql.UUID(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("brand_id", postgresql.UUID(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, server_default="pending"),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=True),
        sa.Column("storage_backend", sa.String(8), nullable=False),
        sa.Column("object_key", sa.String(300), nullable=False),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("upload_link", postgresql.UUID(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("decided_by", postgresql.UUID(), sa.ForeignKey("staff_users.id"), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.String(500), nullable=True),
        sa.UniqueConstraint("player_id", "sha256", name="uq_kyc_documents_player_sha256"),
        sa.UniqueConstraint("upload_link", name="uq_kyc_documents_upload_link"),
        sa.CheckConstraint(KINDS, name="ck_kyc_documents_kind"),
        sa.CheckConstraint("status IN ('pending', 'approved', 'rejected', 'expired')", name="ck_kyc_documents_status"),
        sa.CheckConstraint("size_bytes > 0", name="ck_kyc_documents_size"),
        sa.CheckConstraint("pages IS NULL OR pages > 0", name="ck_kyc_documents_pages"),
        sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_kyc_documents_sha256"),
        sa.CheckConstraint("storage_backend IN ('file', 's3')", name="ck_kyc_documents_backend"),
        sa.CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL) OR status = 'expired'", name="ck_kyc_documents_decided"
        ),
    )
    op.create_index("ix_kyc_documents_queue", "kyc_documents", ["status", "uploaded_at", "id"])
    op.create_index("ix_kyc_documents_player", "kyc_documents", ["player_id", "uploaded_at", "id"])
    op.create_index(
        "ix_kyc_documents_expiry", "kyc_documents", ["expires_at"], postgresql_where=sa.text("status = 'approved'")
    )
    op.create_table(
        "kyc_document_requests",
        sa.Column("id", postgresql.UUID(), primary_key=True),
        sa.Column("player_id", postgresql.UUID(), sa.ForeignKey("players.id"), nullable=False),
        sa.Column("brand_id", postgresql.UUID(), sa.ForeignKey("brands.id"), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", postgresql.UUID(), sa.ForeignKey("staff_users.id"), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("document_id", postgresql.UUID(), sa.ForeignKey("kyc_documents.id"), nullable=True),
        sa.CheckConstraint(KINDS, name="ck_kyc_document_requests_kind"),
        sa.CheckConstraint("length(reason) BETWEEN 1 AND 500", name="ck_kyc_document_requests_reason"),
    )
    op.create_index(
        "ix_kyc_document_requests_open",
        "kyc_document_requests",
        ["player_id", "kind"],
        postgresql_where=sa.text("fulfilled_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_table("kyc_document_requests")
    op.drop_table("kyc_documents")
