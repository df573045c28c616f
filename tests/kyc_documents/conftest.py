"""KYC documents: sample files made here (a PDF of N pages, a PNG), GraphQL multipart uploads over HTTP,
and the stored objects as the store holds them."""

from __future__ import annotations

import io
import json
import struct
import zlib
from pathlib import Path
from typing import Any

import httpx
import pytest

UPLOAD = """
mutation Upload($input: UploadKycDocumentInput!) {
  uploadKycDocument(input: $input) {
    document { id kind status mimeType sizeBytes pages sha256 uploadedAt reason expiresAt }
    errors { code field message }
  }
}"""
LINK = """
mutation Link($input: CreateKycUploadLinkInput!) {
  createKycUploadLink(input: $input) { link { url expiresAt maxBytes } errors { code field message } }
}"""
REVIEW = """
mutation Review($input: ReviewKycDocumentInput!) {
  reviewKycDocument(input: $input) {
    document { id status reason expiresAt decidedAt }
    errors { code field message }
  }
}"""
QUEUE = """
query Queue($status: KycDocumentStatus, $playerId: String) {
  kycDocuments(status: $status, playerId: $playerId) {
    edges { node { id kind status mimeType sha256 contentUrl player { id email } } }
  }
}"""
MINE = "{ myKycDocuments { edges { node { id kind status reason expiresAt } } } myKycDocumentRequests { kind reason } }"


def pdf(pages: int = 1) -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(width=200, height=200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def png(width: int = 2, height: int = 2, shade: int = 0) -> bytes:
    """A real PNG (browsers display it): `shade` makes distinct images of the same size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([shade % 256, 90, 200]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def upload_multipart(
    client: httpx.AsyncClient,
    token: str | None,
    content: bytes,
    *,
    kind: str = "IDENTITY",
    filename: str = "document.pdf",
    content_type: str = "application/pdf",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """The GraphQL multipart request spec: `operations`, `map`, then the file part."""
    operations = {"query": UPLOAD, "variables": {"input": {"kind": kind, "file": None}}}
    sent = {"Apollo-Require-Preflight": "true", **(headers or {})}
    if token:
        sent["Authorization"] = f"Bearer {token}"
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
        files={"0": (filename, content, content_type)},
        headers=sent,
    )
    client.cookies.clear()
    return response


async def upload(client: httpx.AsyncClient, token: str, content: bytes, **kwargs: Any) -> dict[str, Any]:
    """The payload of a multipart upload that reached the resolver."""
    response = await upload_multipart(client, token, content, **kwargs)
    assert response.status_code == 200, response.text
    body = response.json()
    assert "errors" not in body, body
    payload: dict[str, Any] = body["data"]["uploadKycDocument"]
    return payload


def stored_objects(rt: Any) -> list[Path]:
    """The document objects in the local store (the test settings' default folder)."""
    folder = Path(rt.settings.kyc_document_storage or rt.settings.data_dir / "kyc-documents")
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.fixture(autouse=True)
def clean_store(rt: Any) -> Any:
    """Each test starts with an empty local store and the default limits, and leaves them so."""
    import shutil

    settings = rt.settings
    saved = (settings.kyc_document_max_bytes, settings.kyc_document_max_pages, settings.kyc_document_storage)
    folder = Path(settings.data_dir / "kyc-documents")
    shutil.rmtree(folder, ignore_errors=True)
    yield
    settings.kyc_document_max_bytes, settings.kyc_document_max_pages, settings.kyc_document_storage = saved
    shutil.rmtree(folder, ignore_errors=True)


async def document_rows(rt: Any) -> list[Any]:
    from sqlmodel import select

    from models.kyc_documents import KycDocument

    async with rt.database.session() as db:
        return list((await db.scalars(select(KycDocument))).all())


async def events_of(rt: Any, topic: str) -> list[dict[str, Any]]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = (
            await db.execute(text("SELECT payload FROM outbox_events WHERE topic = :t ORDER BY id"), {"t": topic})
        ).all()
    return [row[0] for row in rows]
