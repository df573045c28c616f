"""Suppression in one place — MINIMAL STAND-IN written by crmchan so the channels can be built and tested;
crmsupp's module of the same name and signatures replaces it at merge (ISSUE20.md, part 2).

`refusal` answers whether a player may be reached (None) or why not (a reason code); `check` is `refusal` plus
a `crm_suppressions` row when refused. The checks here: the account (blocked or closed: ACCOUNT_CLOSED), an
exclusion in force (services/rg/exclusions.active: SELF_EXCLUDED, TIMED_OUT, REGISTER_HIT for a register's),
the old marketing flag and the consent row of (product, channel) (none: NO_CONSENT; withdrawn: UNSUBSCRIBED).
`unsubscribe_url` / `unsubscribe_headers` give the email channel its link and RFC 8058 headers.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.settings import get_settings
from models.crm import CrmMessage, Purpose
from models.players import PlayerStatus
from models.rg import ExclusionKind
from services.rg import exclusions

SELF_EXCLUDED = "SELF_EXCLUDED"
TIMED_OUT = "TIMED_OUT"
REGISTER_HIT = "REGISTER_HIT"
NO_CONSENT = "NO_CONSENT"
UNSUBSCRIBED = "UNSUBSCRIBED"
ACCOUNT_CLOSED = "ACCOUNT_CLOSED"

_PLAYER = "SELECT status, marketing_consent FROM players WHERE id = :p"
_CONSENT = "SELECT granted FROM crm_consents WHERE player_id = :p AND product = :product AND channel = :channel"


async def refusal(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    purpose: Purpose,
    channel: str | None,
    product: str,
    offer_jurisdictions: list[str] | None = None,
) -> str | None:
    player = (await db.execute(text(_PLAYER), {"p": player_id})).first()
    if player is None or player.status != PlayerStatus.ACTIVE:
        return ACCOUNT_CLOSED
    exclusion = await exclusions.active(db, player_id)
    if exclusion is not None:
        if exclusion.source.startswith("register:"):
            return REGISTER_HIT
        return TIMED_OUT if exclusion.kind == ExclusionKind.TIME_OUT else SELF_EXCLUDED
    if not player.marketing_consent:
        return NO_CONSENT
    if channel is not None:
        granted = await db.scalar(text(_CONSENT), {"p": player_id, "product": product, "channel": channel})
        if granted is None:
            return NO_CONSENT
        if not granted:
            return UNSUBSCRIBED
    return None


async def check(
    db: AsyncSession,
    player_id: uuid.UUID,
    *,
    purpose: Purpose,
    channel: str | None,
    product: str,
    source_kind: str,
    source_id: uuid.UUID | None,
    message_id: uuid.UUID | None = None,
    offer_jurisdictions: list[str] | None = None,
) -> str | None:
    reason = await refusal(
        db, player_id, purpose=purpose, channel=channel, product=product, offer_jurisdictions=offer_jurisdictions
    )
    if reason is not None:
        await db.execute(
            text(
                "INSERT INTO crm_suppressions (brand_id, player_id, purpose, channel, product, reason, source_kind, "
                "source_id, message_id) SELECT brand_id, id, :purpose, :channel, :product, :reason, :kind, :source, "
                ":message FROM players WHERE id = :p"
            ),
            {
                "p": player_id,
                "purpose": purpose.value,
                "channel": channel,
                "product": product,
                "reason": reason,
                "kind": source_kind,
                "source": source_id,
                "message": message_id,
            },
        )
    return reason


def _token(message: CrmMessage) -> str:
    key = get_settings().crm_link_secret.encode()
    digest = hmac.new(key, f"unsubscribe:{message.id}".encode(), hashlib.sha256).digest()[:16]
    return f"{message.id.hex}.{base64.urlsafe_b64encode(digest).decode().rstrip('=')}"


def unsubscribe_url(message: CrmMessage) -> str:
    """The message's signed unsubscribe link (GET shows a page, POST unsubscribes: RFC 8058)."""
    return f"{get_settings().public_base_url.rstrip('/')}/crm/unsubscribe/{_token(message)}"


def unsubscribe_headers(message: CrmMessage) -> dict[str, str]:
    """`List-Unsubscribe` and `List-Unsubscribe-Post` for an email (RFC 2369, RFC 8058 one-click)."""
    return {"List-Unsubscribe": f"<{unsubscribe_url(message)}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
