"""What an uploaded file is, judged from its bytes alone (never its name or the client's content type),
and whether it is acceptable: not empty, within the size limit, an allowed type (PDF, JPEG, PNG, WebP,
HEIC), and for a PDF, one that parses and has at most the page limit. Pure: nothing is stored here."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
from dataclasses import dataclass

from core.errors import DomainError, ErrorCode

PDF = "application/pdf"
ALLOWED = (PDF, "image/jpeg", "image/png", "image/webp", "image/heic")
# The ISO base-media brands of HEIF images (HEIC is HEVC-coded HEIF).
_HEIF_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"}


class Refused(DomainError):
    """The file itself is not acceptable (its code says why)."""


@dataclass(frozen=True)
class Inspected:
    mime_type: str
    size_bytes: int
    pages: int | None
    sha256: str


def sniff(content: bytes) -> str | None:
    """The media type the bytes are, of the allowed ones; None for anything else."""
    if content.startswith(b"%PDF-"):
        return PDF
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if content[:4] == b"RIFF" and content[8:12] == b"WEBP":
        return "image/webp"
    if content[4:8] == b"ftyp" and content[8:12] in _HEIF_BRANDS:
        return "image/heic"
    return None


def pdf_pages(content: bytes) -> int:
    """The page count of a PDF, or Refused(DOCUMENT_CORRUPT): it does not parse, or is password-protected."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a malformed file is the player's, not an operator's issue
    try:
        reader = PdfReader(io.BytesIO(content), strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise Refused(
                "The PDF is password-protected; upload it without a password.", code=ErrorCode.DOCUMENT_CORRUPT
            )
        pages = len(reader.pages)
    except Refused:
        raise
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError, RecursionError, OSError) as exc:
        raise Refused("The PDF is damaged and cannot be read.", code=ErrorCode.DOCUMENT_CORRUPT) from exc
    if pages < 1:
        raise Refused("The PDF has no pages.", code=ErrorCode.DOCUMENT_CORRUPT)
    return pages


def inspect_now(content: bytes, *, max_bytes: int, max_pages: int) -> Inspected:
    if not content:
        raise Refused("The file is empty.", code=ErrorCode.DOCUMENT_EMPTY, field="file")
    if len(content) > max_bytes:
        raise Refused(f"The file is larger than {max_bytes} bytes.", code=ErrorCode.DOCUMENT_TOO_LARGE, field="file")
    mime_type = sniff(content)
    if mime_type is None:
        raise Refused(
            "Upload a PDF, JPEG, PNG, WebP or HEIC file.", code=ErrorCode.DOCUMENT_TYPE_NOT_ALLOWED, field="file"
        )
    pages = pdf_pages(content) if mime_type == PDF else None
    if pages is not None and pages > max_pages:
        raise Refused(
            f"The PDF has {pages} pages; at most {max_pages} are accepted.",
            code=ErrorCode.DOCUMENT_TOO_MANY_PAGES,
            field="file",
        )
    return Inspected(mime_type, len(content), pages, hashlib.sha256(content).hexdigest())


async def inspect(content: bytes, *, max_bytes: int, max_pages: int) -> Inspected:
    """`inspect_now` in a thread: parsing a PDF of megabytes is CPU the event loop should not wait on."""
    return await asyncio.to_thread(inspect_now, content, max_bytes=max_bytes, max_pages=max_pages)
