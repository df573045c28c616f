"""KYC documents: the files players upload (identity, address, source of funds, ...), their review, and the
documents KYC officers ask a player for.

The file's bytes never live in the database: `storage_backend` + `object_key` name an object, encrypted
with the key `key_id` of the key ring (services/kyc/documents_vault.py). The same bytes uploaded twice by
one player are one document (`uq_kyc_documents_player_sha256`).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from models.base import created_at_field, id_field, timestamp_field


class DocumentKind(StrEnum):
    IDENTITY = "identity"
    ADDRESS = "address"
    SOURCE_OF_FUNDS = "source_of_funds"
    SELFIE = "selfie"
    OTHER = "other"


class DocumentStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    EXPIRED = "expired"


KINDS = tuple(kind.value for kind in DocumentKind)
STATUSES = tuple(status.value for status in DocumentStatus)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN (" + ", ".join(f"'{v}'" for v in values) + ")"


class KycDocument(SQLModel, table=True):
    __tablename__ = "kyc_documents"
    __table_args__ = (
        UniqueConstraint("player_id", "sha256", name="uq_kyc_documents_player_sha256"),
        UniqueConstraint("upload_link", name="uq_kyc_documents_upload_link"),
        CheckConstraint(_in("kind", KINDS), name="ck_kyc_documents_kind"),
        CheckConstraint(_in("status", STATUSES), name="ck_kyc_documents_status"),
        CheckConstraint("size_bytes > 0", name="ck_kyc_documents_size"),
        CheckConstraint("pages IS NULL OR pages > 0", name="ck_kyc_documents_pages"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_kyc_documents_sha256"),
        CheckConstraint("storage_backend IN ('file', 's3')", name="ck_kyc_documents_backend"),
        # A decision names who took it and when; a pending document has none.
        CheckConstraint(
            "(status = 'pending') = (decided_at IS NULL) OR status = 'expired'", name="ck_kyc_documents_decided"
        ),
        Index("ix_kyc_documents_queue", "status", "uploaded_at", "id"),
        Index("ix_kyc_documents_player", "player_id", "uploaded_at", "id"),
        Index("ix_kyc_documents_expiry", "expires_at", postgresql_where="status = 'approved'"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    kind: str = Field(max_length=32)
    status: str = Field(default=DocumentStatus.PENDING.value, max_length=16)
    expires_at: datetime | None = timestamp_field()
    sha256: str = Field(max_length=64)
    mime_type: str = Field(max_length=64)  # sniffed from the bytes, never the client's claim
    size_bytes: int
    pages: int | None = None  # PDFs
    storage_backend: str = Field(max_length=8)
    object_key: str = Field(max_length=300)
    key_id: str = Field(max_length=64)  # the key ring's key the stored object is encrypted with
    upload_link: uuid.UUID | None = None  # the signed upload link used, if any (each link stores one file)
    uploaded_at: datetime = created_at_field()
    decided_by: uuid.UUID | None = Field(default=None, foreign_key="staff_users.id")
    decided_at: datetime | None = timestamp_field()
    reason: str | None = Field(default=None, max_length=500)  # shown to the player


class KycDocumentRequest(SQLModel, table=True):
    """A KYC officer asked the player for a document of a kind; the player's next upload of it fulfils it."""

    __tablename__ = "kyc_document_requests"
    __table_args__ = (
        CheckConstraint(_in("kind", KINDS), name="ck_kyc_document_requests_kind"),
        CheckConstraint("length(reason) BETWEEN 1 AND 500", name="ck_kyc_document_requests_reason"),
        Index("ix_kyc_document_requests_open", "player_id", "kind", postgresql_where="fulfilled_at IS NULL"),
    )

    id: uuid.UUID = id_field()
    player_id: uuid.UUID = Field(foreign_key="players.id")
    brand_id: uuid.UUID = Field(foreign_key="brands.id")
    kind: str = Field(max_length=32)
    reason: str
    requested_by: uuid.UUID = Field(foreign_key="staff_users.id")
    requested_at: datetime = created_at_field()
    fulfilled_at: datetime | None = timestamp_field()
    document_id: uuid.UUID | None = Field(default=None, foreign_key="kyc_documents.id")
