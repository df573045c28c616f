"""GraphQL multipart requests (the GraphQL multipart request spec: `operations`, `map`, files), admitted
only as safely as JSON ones.

- CSRF: a browser sends a multipart form cross-site without a preflight, cookies attached. So a multipart
  request must carry a header no plain form can set — `Apollo-Require-Preflight`, `X-Apollo-Operation-Name`
  (what Apollo's clients send) or the CSRF header — whatever its credentials; a cookie-authenticated one
  then still needs the CSRF header, as every request does (server.get_context, RequestGate).
- Size: the body must state its Content-Length, at most the largest document plus `FORM_OVERHEAD` for the
  form's other parts; a larger one is refused before a byte is read (413). A file just over the limit
  reaches its resolver, which refuses it in the payload (DOCUMENT_TOO_LARGE) like every other bad file.
- Shape: at most `MAX_FILES` files and `MAX_FIELDS` fields, parsed by Starlette (which spools files over
  1 MiB to a temporary file).
"""

from __future__ import annotations

from typing import Any

from cross_web import HTTPException

PREFLIGHT_HEADERS = ("apollo-require-preflight", "x-apollo-operation-name")
FORM_OVERHEAD = 64 * 1024
MAX_FILES = 1
MAX_FIELDS = 4


def check_multipart(headers: Any, *, csrf_header: str, max_file_bytes: int) -> None:
    """Refuse (HTTPException) a multipart request without a preflight header or with too large a body."""
    if not any(headers.get(name) for name in (*PREFLIGHT_HEADERS, csrf_header)):
        raise HTTPException(
            400,
            f"A multipart request must carry the Apollo-Require-Preflight or {csrf_header} header "
            "(a plain cross-site form cannot).",
        )
    length = headers.get("content-length") or ""
    if not length.isdigit():
        raise HTTPException(411, "A multipart request must state its Content-Length.")
    if int(length) > max_file_bytes + FORM_OVERHEAD:
        raise HTTPException(413, f"The request is larger than a document may be ({max_file_bytes} bytes).")


async def read_form(request: Any) -> None:
    """Parse the form with our bounds before strawberry reads it (Starlette keeps the parsed form)."""
    from starlette.exceptions import HTTPException as StarletteHTTPException
    from starlette.formparsers import MultiPartException

    starlette_request = getattr(request, "_request", request)
    try:
        await starlette_request.form(max_files=MAX_FILES, max_fields=MAX_FIELDS)
    except (MultiPartException, StarletteHTTPException) as exc:
        raise HTTPException(400, f"Unable to parse the multipart body: {getattr(exc, 'detail', exc)}") from exc
