"""Opens and clicks: a 1x1 pixel per email and a signed redirect per link, stamped on the message.

- The pixel is `/crm/o/<token>.gif`, the redirect `/crm/c/<token>?u=<target>`: the token is the message id
  and an HMAC-SHA256 (under CRM_LINK_SECRET) of the purpose, the id and, for a click, the target URL — so
  nobody can stamp another message, nor make the platform an open redirect to a URL it did not send.
- Links are rewritten at render time, in the HTML body only (the text body keeps the links as written: a
  click there is not counted), and only http(s) links; the unsubscribe link is left alone.
- Stamping keeps the first open and the first click; a click counts as an open too (images off).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from html import escape, unescape
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.settings import Settings

PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
_HREF = re.compile(r"""href=(["'])(https?://[^"']+)\1""", re.IGNORECASE)


def _sign(settings: Settings, purpose: str, message_id: uuid.UUID, target: str = "") -> str:
    key = settings.crm_link_secret.encode()
    digest = hmac.new(key, f"{purpose}:{message_id}:{target}".encode(), hashlib.sha256).digest()[:16]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _token(settings: Settings, purpose: str, message_id: uuid.UUID, target: str = "") -> str:
    return f"{message_id.hex}.{_sign(settings, purpose, message_id, target)}"


def _base(settings: Settings) -> str:
    return settings.public_base_url.rstrip("/")


def pixel_url(settings: Settings, message_id: uuid.UUID) -> str:
    return f"{_base(settings)}/crm/o/{_token(settings, 'open', message_id)}.gif"


def click_url(settings: Settings, message_id: uuid.UUID, target: str) -> str:
    return f"{_base(settings)}/crm/c/{_token(settings, 'click', message_id, target)}?u={quote(target, safe='')}"


def verify(settings: Settings, token: str, purpose: str, target: str = "") -> uuid.UUID | None:
    """The message id of a valid token, else None (constant-time comparison)."""
    raw_id, _, signature = token.partition(".")
    try:
        message_id = uuid.UUID(hex=raw_id)
    except ValueError:
        return None
    expected = _sign(settings, purpose, message_id, target)
    return message_id if hmac.compare_digest(signature.encode(), expected.encode()) else None


def instrument(settings: Settings, message_id: uuid.UUID, html: str, *, keep: frozenset[str]) -> str:
    """The HTML body with its http(s) links through the click redirect (except `keep`, e.g. the unsubscribe
    link) and the open pixel at the end of the body."""

    def rewrite(match: re.Match[str]) -> str:
        target = unescape(match.group(2))
        if target in keep or target.startswith(f"{_base(settings)}/crm/"):
            return match.group(0)
        quote_char = match.group(1)
        return f"href={quote_char}{escape(click_url(settings, message_id, target))}{quote_char}"

    body = _HREF.sub(rewrite, html)
    pixel = f'<img src="{escape(pixel_url(settings, message_id))}" width="1" height="1" alt="" style="display:none">'
    closing = body.lower().rfind("</body>")
    return body[:closing] + pixel + body[closing:] if closing >= 0 else body + pixel


async def stamp_open(db: AsyncSession, message_id: uuid.UUID) -> None:
    await db.execute(
        text("UPDATE crm_messages SET opened_at = :at WHERE id = :id AND opened_at IS NULL AND status = 'sent'"),
        {"id": message_id, "at": clock.now()},
    )


async def stamp_click(db: AsyncSession, message_id: uuid.UUID) -> None:
    await db.execute(
        text(
            "UPDATE crm_messages SET clicked_at = coalesce(clicked_at, :at), opened_at = coalesce(opened_at, :at) "
            "WHERE id = :id AND status = 'sent' AND (clicked_at IS NULL OR opened_at IS NULL)"
        ),
        {"id": message_id, "at": clock.now()},
    )
