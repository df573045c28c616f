"""Unsubscribe links: one signed token per message, and what following it does.

The token is the message id and an HMAC-SHA256 of it under `crm_unsubscribe_secret` (truncated to 128
bits), both base64url: it names one message and cannot be forged or altered, and it carries nothing
personal. `/crm/unsubscribe/{token}` (integrations/crm_unsubscribe.py) shows a small page on GET and
unsubscribes on POST, which is also the RFC 8058 one-click POST a mail client sends
(`List-Unsubscribe-Post: List-Unsubscribe=One-Click`). Following a link never logs the player in and
never reveals who they are; it only withdraws consent:
- one-click (or the page's first button): the message's channel for the message's product;
- the page's second button: the message's channel for every product.
Unsubscribing is idempotent (a second POST changes nothing) and is never refused (an erased or closed
account simply has nothing left to withdraw).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import SYSTEM
from core.settings import Settings, get_settings
from models.crm import CrmMessage
from services import audit, wallet
from services.crm import consents

PATH = "/crm/unsubscribe/"
_DOMAIN = b"croupier.crm.unsubscribe:"


class _Message(Protocol):
    @property
    def id(self) -> uuid.UUID: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(value: str) -> bytes:
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))


def _mac(secret: str, message_id: uuid.UUID) -> bytes:
    return hmac.new(secret.encode(), _DOMAIN + message_id.bytes, hashlib.sha256).digest()[:16]


def token(message_id: uuid.UUID, settings: Settings | None = None) -> str:
    secret = (settings or get_settings()).crm_unsubscribe_secret
    return f"{_b64(message_id.bytes)}.{_b64(_mac(secret, message_id))}"


def message_of(value: str, settings: Settings | None = None) -> uuid.UUID | None:
    """The message a token names, or None when it is not one of ours (malformed, altered, forged)."""
    if len(value) > 64:
        return None
    head, _, mac = value.partition(".")
    try:
        message_id = uuid.UUID(bytes=_unb64(head))
        given = _unb64(mac)
    except (ValueError, TypeError):
        return None
    secret = (settings or get_settings()).crm_unsubscribe_secret
    return message_id if hmac.compare_digest(given, _mac(secret, message_id)) else None


def unsubscribe_url(message: _Message, settings: Settings | None = None) -> str:
    """The link to put in the message's body."""
    settings = settings or get_settings()
    return f"{settings.public_base_url.rstrip('/')}{PATH}{token(message.id, settings)}"


def unsubscribe_headers(message: _Message, settings: Settings | None = None) -> dict[str, str]:
    """The e-mail headers of RFC 2369 and RFC 8058 (one-click): the channel adds them to every message."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(message, settings)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


@dataclass(frozen=True)
class Unsubscribed:
    channel: str
    products: tuple[str, ...]


async def describe(db: AsyncSession, message_id: uuid.UUID) -> CrmMessage | None:
    found: CrmMessage | None = await db.get(CrmMessage, message_id)
    return found


async def unsubscribe(db: AsyncSession, message_id: uuid.UUID, *, every_product: bool) -> Unsubscribed | None:
    """Withdraw the consent the message relied on (in the caller's transaction). None: no such message."""
    message = await describe(db, message_id)
    if message is None:
        return None
    products = consents.PRODUCTS if every_product else (message.product,)
    products = tuple(p for p in products if p in consents.PRODUCTS)
    player = (await wallet.lock_player_money(db, message.player_id, standing=True)).player
    assert player is not None
    changes = [consents.ConsentChange(product, message.channel, False) for product in products]
    current = {(c.product, c.channel): c for c in await consents.consents_of(db, player)}
    if changes and any(current[(c.product, c.channel)].granted for c in changes):
        await consents.write(db, player, changes, source=consents.Source.UNSUBSCRIBE)
        await audit.append(
            db,
            actor=SYSTEM,
            action="crm.unsubscribed",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after={"channel": message.channel, "products": list(products), "message_id": str(message.id)},
        )
    return Unsubscribed(message.channel, products)
