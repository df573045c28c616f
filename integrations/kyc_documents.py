"""REST routes of KYC documents, for what GraphQL over JSON cannot carry well: raw bytes.

- `PUT|POST /kyc/uploads/{token}`: a player's client sends one file's bytes (the body, any content type:
  the type is sniffed) to the signed link `createKycUploadLink` gave it. 200 with the document (the same
  bytes again: the same document); a refusal is `{"errors": [{"code", "message"}]}` with 4xx — 403 for a
  bad, expired or used link, 413 too large, 415 a type not accepted, 422 empty, damaged or too many pages.
- `GET /kyc/documents/content/{token}`: a KYC officer's content link (`KycDocument.contentUrl`): the bytes
  with their sniffed type, inline, never cached (`no-store`) or sniffed again (`nosniff`), framed only by
  this origin (CSP `frame-ancestors`; images also sandboxed).
  Every read is audited before the bytes leave (services/kyc/documents_reading.py).
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse

from authz.subjects import RequestMeta
from core.errors import DomainError, ErrorCode
from core.logging import request_id_var
from core.runtime import Runtime
from schema.base import to_global_id
from services.kyc import documents, documents_reading

router = APIRouter(include_in_schema=False)

STATUS_FOR_CODE = {
    ErrorCode.UPLOAD_LINK_INVALID: 403,
    ErrorCode.NOT_ALLOWED: 403,
    ErrorCode.ACCOUNT_CLOSED: 403,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.DOCUMENT_TOO_LARGE: 413,
    ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED: 415,
    ErrorCode.DOCUMENT_EMPTY: 422,
    ErrorCode.DOCUMENT_CORRUPT: 422,
    ErrorCode.DOCUMENT_TOO_MANY_PAGES: 422,
    ErrorCode.INVALID_STATE: 409,
    ErrorCode.DOCUMENT_STORAGE_UNAVAILABLE: 503,
}
# Framed only by this origin's back office. An image opens sandboxed, with nothing but itself allowed; a PDF
# is left to the browser's PDF viewer (which a sandboxed document may not load), its scripts never run
# with this origin's rights there.
CSP_IMAGE = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox; frame-ancestors 'self'"
CSP_PDF = "frame-ancestors 'self'"
EXTENSIONS = {
    "application/pdf": "pdf",
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "image/heic": "heic",
}


def refusal(error: DomainError) -> JSONResponse:
    body = {"errors": [{"code": error.code.value, "field": error.field, "message": error.message}]}
    return JSONResponse(body, status_code=STATUS_FOR_CODE.get(error.code, 400), headers={"Cache-Control": "no-store"})


async def _body(request: Request, limit: int) -> bytes | None:
    """The body, or None once it exceeds `limit` (read no further than that)."""
    stated = request.headers.get("content-length")
    if stated and stated.isdigit() and int(stated) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


@router.api_route("/kyc/uploads/{token}", methods=["PUT", "POST"])
async def upload(token: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    limit = rt.settings.kyc_document_max_bytes
    try:
        content = await _body(request, limit)
        if content is None:
            raise DomainError(f"The file is larger than {limit} bytes.", code=ErrorCode.DOCUMENT_TOO_LARGE)
        document = await documents.upload_with_link(rt, token, content)
    except DomainError as exc:
        return refusal(exc)
    return JSONResponse(
        {
            "document": {
                "id": str(to_global_id("KycDocument", document.id)),
                "kind": document.kind.upper(),
                "status": document.status.upper(),
                "mimeType": document.mime_type,
                "sizeBytes": document.size_bytes,
                "pages": document.pages,
                "sha256": document.sha256,
            }
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/kyc/documents/content/{token}")
async def content(token: str, request: Request) -> Response:
    rt: Runtime = request.app.state.rt
    meta = RequestMeta(
        ip=request.client.host if request.client else None,
        user_agent=request.headers.get("user-agent"),
        request_id=request_id_var.get(),
    )
    try:
        found = await documents_reading.read_with_link(rt, token, meta)
    except DomainError as exc:
        return refusal(exc)
    document = found.document
    name = f"{document.kind}-{document.id}.{EXTENSIONS.get(document.mime_type, 'bin')}"
    return Response(
        found.data,
        media_type=document.mime_type,
        headers={
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'inline; filename="{name}"',
            "Referrer-Policy": "no-referrer",
            "Cross-Origin-Resource-Policy": "same-origin",
            "Content-Security-Policy": CSP_PDF if document.mime_type == "application/pdf" else CSP_IMAGE,
        },
    )
