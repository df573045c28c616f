"""Reading a document's content: KYC staff only, every read audited, the bytes checked on the way out.

A KYC officer's client gets a content link (`content_link`: signed, bound to the officer and the document,
valid KYC_LINK_SECONDS) to put in an <img> or <iframe>, which cannot send a bearer token. Serving it
(`read_with_link`) checks the signature, then the officer again — still active, still holding a KYC role
for the document's brand — records the read in the audit log in the same transaction that fetches the
row, opens the sealed object (a changed byte fails AES-GCM's tag) and compares the plaintext's SHA-256
with the row's. Nothing is served that did not pass all of that.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import col, select

from authz.subjects import RequestMeta, Viewer
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.runtime import Runtime
from core.storage import StorageUnavailable
from core.storage.sealing import SealBroken
from models.kyc_documents import KycDocument
from models.staff import StaffRole, StaffStatus, StaffUser
from services import audit
from services.kyc import documents_links
from services.kyc.documents import KYC_ROLES, get_readable, reads_documents
from services.kyc.documents_vault import StorageDown, associated_data, vault_of

log = get_logger(__name__)
CONTENT_PATH = "/kyc/documents/content/"


class DocumentDamaged(DomainError):
    code = ErrorCode.INVALID_STATE


@dataclass(frozen=True)
class Content:
    document: KycDocument
    data: bytes


def content_link(rt: Runtime, viewer: Viewer, document_id: uuid.UUID, brand_id: uuid.UUID) -> tuple[str, datetime]:
    """A short-lived URL of the document's bytes for this KYC officer (the read itself is audited). No query:
    the caller read the document through `readable_documents`; the brand is checked again here anyway."""
    if not viewer.is_staff or viewer.id is None or not reads_documents(viewer):
        raise DomainError("Only KYC officers read documents.", code=ErrorCode.NOT_ALLOWED)
    if viewer.brand_id is not None and viewer.brand_id != brand_id:
        raise DomainError("No such document.", code=ErrorCode.NOT_FOUND)
    token, link = documents_links.sign(
        vault_of(rt).keys, "view", viewer.id, str(document_id), seconds=rt.settings.kyc_link_seconds
    )
    return f"{rt.settings.public_base_url}{CONTENT_PATH}{token}", link.expires_at


async def read_with_link(rt: Runtime, token: str, meta: RequestMeta) -> Content:
    link = documents_links.verify(vault_of(rt).keys, token, "view")
    try:
        document_id = uuid.UUID(link.target)
    except ValueError as exc:
        raise documents_links.LinkInvalid("This link is invalid or has expired; ask for a new one.") from exc
    async with rt.database.session() as db:
        brand_id = await db.scalar(select(KycDocument.brand_id).where(col(KycDocument.id) == document_id))
        roles = set(
            (
                await db.scalars(
                    select(StaffRole.role)
                    .join(StaffUser, col(StaffUser.id) == col(StaffRole.staff_id))
                    .where(
                        col(StaffRole.staff_id) == link.subject,
                        col(StaffUser.status) == StaffStatus.ACTIVE.value,
                        or_(col(StaffRole.brand_id).is_(None), col(StaffRole.brand_id) == brand_id),
                    )
                )
            ).all()
        )
    viewer = Viewer(kind="staff", id=link.subject, brand_id=brand_id, roles=frozenset(roles & KYC_ROLES), meta=meta)
    return await read(rt, viewer, document_id)


async def read(rt: Runtime, viewer: Viewer, document_id: uuid.UUID) -> Content:
    """The document's bytes for a KYC reader; the read is audited (committed before the bytes leave)."""
    if not reads_documents(viewer):
        raise DomainError("Only KYC officers read documents.", code=ErrorCode.NOT_ALLOWED)
    vault = vault_of(rt)
    async with rt.database.transaction() as db:
        document = await get_readable(db, viewer, document_id)
        await audit.append(
            db,
            actor=viewer,
            action="kyc_document.read",
            target_type="player",
            target_id=document.player_id,
            brand_id=document.brand_id,
            after={"document_id": str(document.id), "kind": document.kind, "sha256": document.sha256},
        )
    if document.storage_backend != vault.store.backend:
        raise StorageDown(
            f"The document is in {document.storage_backend} storage; this server reads {vault.store.backend}."
        )
    try:
        sealed = await vault.store.get(document.object_key)
        data = vault.keys.open(sealed, associated_data(document.id))
    except StorageUnavailable as exc:
        log.warning("kyc_storage_unavailable", operation="get", document=str(document.id), error=str(exc))
        raise StorageDown("The document store is unavailable; try again later.") from exc
    except SealBroken as exc:
        log.error("kyc_document_seal_broken", document=str(document.id), error=str(exc))
        raise DocumentDamaged("The stored document fails its integrity check; it is not served.") from exc
    import hashlib

    if hashlib.sha256(data).hexdigest() != document.sha256:
        log.error("kyc_document_digest_mismatch", document=str(document.id))
        raise DocumentDamaged("The stored document fails its integrity check; it is not served.")
    return Content(document, data)
