"""KYC documents: players upload them, KYC officers review them, other modules ask what is approved.

Order of the package's document modules: documents_intake (what a file is, from its bytes), documents_vault
(the encrypted object store), documents_links (signed upload and content links), this module (the upload
command and the reads), documents_review (decisions and requests), documents_reading (content for KYC
officers, audited), documents_rotation and documents_expiry (maintenance).

Invariants:
- A file is inspected before anything is written; a refused file writes nothing.
- The object is stored before its row commits, and removed if the row does not commit; a crash between
  the two leaves an object no row names, which `documents_vault.sweep` removes. A row always names an
  object that opens with a key of the ring.
- One player's same bytes are one document (uq_kyc_documents_player_sha256): an upload of them again, by
  GraphQL or a link, concurrently or not, answers the existing document and stores nothing new.
- Players reach only their own documents (a SQL filter); staff only with a KYC role, in their brand.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import false, or_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.kyc_documents import DocumentKind, DocumentStatus, KycDocument, KycDocumentRequest
from models.players import Player, PlayerStatus
from services.kyc import documents_intake, documents_links
from services.kyc.documents_vault import vault_of
from services.scoping import scoped

KYC_ROLES = frozenset({"kyc_officer", "superadmin"})
UPLOAD_PATH = "/kyc/uploads/"


def reads_documents(viewer: Viewer) -> bool:
    """Staff with a KYC role (in the request's brand), and the platform itself."""
    return viewer.kind == "system" or (viewer.is_staff and bool(viewer.roles & KYC_ROLES))


async def approved_document_kinds(db: AsyncSession, player_id: uuid.UUID) -> set[str]:
    """The kinds of the player's documents approved and not expired now (what KYC levels require)."""
    now = clock.now()
    rows = await db.scalars(
        select(KycDocument.kind)
        .where(
            col(KycDocument.player_id) == player_id,
            col(KycDocument.status) == DocumentStatus.APPROVED.value,
            or_(col(KycDocument.expires_at).is_(None), col(KycDocument.expires_at) > now),
        )
        .distinct()
    )
    return set(rows.all())


def readable_documents(viewer: Viewer) -> SelectOfScalar[KycDocument]:
    """Documents this viewer may read, as SQL: a player their own, KYC staff their brand's, others none."""
    stmt = select(KycDocument)
    if viewer.is_staff and not reads_documents(viewer):
        return stmt.where(false())
    return scoped(
        stmt,
        viewer,
        player_column=col(KycDocument.player_id),
        brand_column=col(KycDocument.brand_id),
    )


def readable_requests(viewer: Viewer) -> SelectOfScalar[KycDocumentRequest]:
    stmt = select(KycDocumentRequest)
    if viewer.is_staff and not reads_documents(viewer):
        return stmt.where(false())
    return scoped(
        stmt,
        viewer,
        player_column=col(KycDocumentRequest.player_id),
        brand_column=col(KycDocumentRequest.brand_id),
    )


async def get_readable(db: AsyncSession, viewer: Viewer, document_id: uuid.UUID) -> KycDocument:
    found: KycDocument | None = await db.scalar(readable_documents(viewer).where(col(KycDocument.id) == document_id))
    if found is None:
        raise NotFound("No such document.", field="documentId")
    return found


def parse_kind(kind: str) -> DocumentKind:
    try:
        return DocumentKind(kind)
    except ValueError:
        raise DomainError(f"Unknown document kind {kind!r}.", field="kind") from None


async def upload(
    rt: Runtime, *, player_id: uuid.UUID, kind: DocumentKind, content: bytes, link_id: uuid.UUID | None = None
) -> KycDocument:
    """Store a player's document: the one command behind the GraphQL upload and the signed upload link."""
    settings = rt.settings
    inspected = await documents_intake.inspect(
        content, max_bytes=settings.kyc_document_max_bytes, max_pages=settings.kyc_document_max_pages
    )
    async with rt.database.session() as db:
        player = await db.get(Player, player_id)
        if player is None:
            raise NotFound("No such player.")
        if player.status == PlayerStatus.CLOSED.value:
            raise DomainError("The account is closed.", code=ErrorCode.ACCOUNT_CLOSED)
        existing = await _existing(db, player_id, inspected.sha256, link_id)
    if existing is not None:
        return existing
    vault = vault_of(rt)
    document_id = uuid.uuid4()
    name, key_id = await vault.put(player_id, document_id, content)
    try:
        async with rt.database.transaction() as db:
            row: dict[str, Any] = {
                "id": document_id,
                "player_id": player_id,
                "brand_id": player.brand_id,
                "kind": kind.value,
                "status": DocumentStatus.PENDING.value,
                "sha256": inspected.sha256,
                "mime_type": inspected.mime_type,
                "size_bytes": inspected.size_bytes,
                "pages": inspected.pages,
                "storage_backend": vault.store.backend,
                "object_key": name,
                "key_id": key_id,
                "upload_link": link_id,
                "uploaded_at": clock.now(),
            }
            inserted = await db.scalar(
                insert(KycDocument).values(**row).on_conflict_do_nothing().returning(col(KycDocument.id))
            )
            if inserted is not None:
                await _fulfil_requests(db, player_id, kind, document_id)
                await outbox.emit(
                    db,
                    "kyc.document_uploaded",
                    f"player:{player_id}",
                    {
                        "document_id": str(document_id),
                        "player_id": str(player_id),
                        "kind": kind.value,
                        "mime_type": inspected.mime_type,
                        "size_bytes": inspected.size_bytes,
                        "pages": inspected.pages,
                    },
                    brand_id=player.brand_id,
                )
    except BaseException:
        await vault.discard(name)
        raise
    if inserted is None:  # the same bytes (or link) committed meanwhile: theirs is the document
        await vault.discard(name)
        async with rt.database.session() as db:
            existing = await _existing(db, player_id, inspected.sha256, link_id)
        if existing is None:
            raise DomainError("The upload could not be stored; try again.", code=ErrorCode.INVALID_STATE)
        return existing
    async with rt.database.session() as db:
        stored: KycDocument = await db.get_one(KycDocument, document_id)
    return stored


async def _existing(
    db: AsyncSession, player_id: uuid.UUID, sha256: str, link_id: uuid.UUID | None
) -> KycDocument | None:
    """The player's document of these bytes; a link already used for other bytes is refused."""
    same: KycDocument | None = await db.scalar(
        select(KycDocument).where(col(KycDocument.player_id) == player_id, col(KycDocument.sha256) == sha256)
    )
    if same is not None:
        return same
    if link_id is not None:
        used = await db.scalar(select(KycDocument.id).where(col(KycDocument.upload_link) == link_id))
        if used is not None:
            raise documents_links.LinkInvalid("This upload link was used for another file; ask for a new one.")
    return None


async def _fulfil_requests(db: AsyncSession, player_id: uuid.UUID, kind: DocumentKind, document_id: uuid.UUID) -> None:
    await db.execute(
        update(KycDocumentRequest)
        .where(
            col(KycDocumentRequest.player_id) == player_id,
            col(KycDocumentRequest.kind) == kind.value,
            col(KycDocumentRequest.fulfilled_at).is_(None),
        )
        .values(fulfilled_at=clock.now(), document_id=document_id)
    )


def create_upload_link(rt: Runtime, viewer: Viewer, kind: DocumentKind) -> tuple[str, documents_links.Link]:
    """A signed URL the player's client sends one file's bytes to (PUT or POST), valid KYC_LINK_SECONDS."""
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only players upload their documents.", code=ErrorCode.NOT_ALLOWED)
    token, link = documents_links.sign(
        vault_of(rt).keys, "upload", viewer.id, kind.value, seconds=rt.settings.kyc_link_seconds
    )
    return f"{rt.settings.public_base_url}{UPLOAD_PATH}{token}", link


async def upload_with_link(rt: Runtime, token: str, content: bytes) -> KycDocument:
    link = documents_links.verify(vault_of(rt).keys, token, "upload")
    return await upload(rt, player_id=link.subject, kind=parse_kind(link.target), content=content, link_id=link.link_id)
