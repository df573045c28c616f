"""KYC documents: players upload (multipart or a signed link) and read their own; KYC officers work the
queue, read content through short-lived links and decide. Thin: every rule is in services/kyc/."""

from __future__ import annotations

import uuid

from sqlmodel import col

from core.errors import DomainError, ErrorCode, forbidden
from core.pagination import paginate
from models import kyc_documents as m
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, node_uuid
from schema.context import Info
from schema.kyc_documents import (
    CreateKycUploadLinkInput,
    KycDocument,
    KycDocumentPayload,
    KycDocumentRequest,
    KycDocumentRequestPayload,
    KycUploadLink,
    KycUploadLinkPayload,
    RequestKycDocumentInput,
    ReviewKycDocumentInput,
    UploadKycDocumentInput,
)
from schema.players import Player
from services.kyc import documents, documents_reading, documents_review

_KEYS = (col(m.KycDocument.uploaded_at), col(m.KycDocument.id))


async def _page(
    info: Info, stmt: object, first: int | None, after: str | None, last: int | None, before: str | None
) -> Connection[KycDocument]:
    async with info.context.rt.database.session() as db:
        page = await paginate(db, stmt, _KEYS, first=first, after=after, last=last, before=before)  # type: ignore[arg-type]
    return Connection.of(page, KycDocument.from_model)


async def my_kyc_documents(
    info: Info, first: int | None = None, after: str | None = None, last: int | None = None, before: str | None = None
) -> Connection[KycDocument]:
    """The player's own documents, newest first."""
    viewer = info.context.viewer
    if not viewer.is_player:
        raise forbidden("Only players have their own documents.")
    return await _page(info, documents.readable_documents(viewer), first, after, last, before)


async def my_kyc_document_requests(info: Info) -> list[KycDocumentRequest]:
    """The documents KYC asked the player for and still waits for."""
    viewer = info.context.viewer
    if not viewer.is_player:
        raise forbidden("Only players have their own document requests.")
    stmt = (
        documents.readable_requests(viewer)
        .where(col(m.KycDocumentRequest.fulfilled_at).is_(None))
        .order_by(col(m.KycDocumentRequest.requested_at).desc())
        .limit(100)
    )
    async with info.context.rt.database.session() as db:
        rows = (await db.scalars(stmt)).all()
    return [KycDocumentRequest.from_model(row) for row in rows]


async def kyc_documents(
    info: Info,
    status: m.DocumentStatus | None = m.DocumentStatus.PENDING,
    kind: m.DocumentKind | None = None,
    player_id: str | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[KycDocument]:
    """The KYC queue (default: pending), or one player's documents (`playerId`, any status when null)."""
    stmt = documents.readable_documents(info.context.viewer)
    if status is not None:
        stmt = stmt.where(col(m.KycDocument.status) == status.value)
    if kind is not None:
        stmt = stmt.where(col(m.KycDocument.kind) == kind.value)
    if player_id is not None:
        stmt = stmt.where(col(m.KycDocument.player_id) == node_uuid(player_id, "Player"))
    return await _page(info, stmt, first, after, last, before)


async def document_player(info: Info, player_id: str) -> Player | None:
    found = await info.context.loaders.readable_player(info.context.viewer).load(uuid.UUID(player_id))
    return Player.from_model(found) if found is not None else None


async def content_url(info: Info, document_id: str, brand_id: str) -> str | None:
    try:
        url, _ = documents_reading.content_link(
            info.context.rt, info.context.viewer, uuid.UUID(document_id), uuid.UUID(brand_id)
        )
    except DomainError as exc:
        raise forbidden(exc.message) from exc
    return url


@payload_errors(KycDocumentPayload)
async def upload_kyc_document(info: Info, input: UploadKycDocumentInput) -> KycDocumentPayload:
    require_subject(info)
    viewer = info.context.viewer
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only players upload their documents.", code=ErrorCode.NOT_ALLOWED)
    limit = info.context.rt.settings.kyc_document_max_bytes
    content = await input.file.read(limit + 1)  # type: ignore[attr-defined]  # (starlette's UploadFile) one byte over refuses
    row = await documents.upload(info.context.rt, player_id=viewer.id, kind=input.kind, content=content)
    return KycDocumentPayload(document=KycDocument.from_model(row))


@payload_errors(KycUploadLinkPayload)
async def create_kyc_upload_link(info: Info, input: CreateKycUploadLinkInput) -> KycUploadLinkPayload:
    require_subject(info)
    rt = info.context.rt
    url, link = documents.create_upload_link(rt, info.context.viewer, input.kind)
    return KycUploadLinkPayload(
        link=KycUploadLink(url=url, expires_at=link.expires_at, max_bytes=rt.settings.kyc_document_max_bytes)
    )


@payload_errors(KycDocumentPayload)
async def review_kyc_document(info: Info, input: ReviewKycDocumentInput) -> KycDocumentPayload:
    require_subject(info)
    row = await documents_review.review(
        info.context.rt,
        info.context.viewer,
        node_uuid(input.document_id, "KycDocument"),
        input.decision,
        input.reason,
        expires_at=input.expires_at,
    )
    return KycDocumentPayload(document=KycDocument.from_model(row))


@payload_errors(KycDocumentRequestPayload)
async def request_kyc_document(info: Info, input: RequestKycDocumentInput) -> KycDocumentRequestPayload:
    require_subject(info)
    row = await documents_review.request_document(
        info.context.rt, info.context.viewer, node_uuid(input.player_id, "Player"), input.kind, input.reason
    )
    return KycDocumentRequestPayload(request=KycDocumentRequest.from_model(row))
