"""Short-lived signed links: a player's upload link (one file of one kind, for KYC_LINK_SECONDS) and a KYC
officer's content link (one document's bytes, bound to that officer, for KYC_LINK_SECONDS).

A link's token is `<claims>.<signature>`, both base64url: the claims are JSON (purpose, subject, target,
link id, expiry, signing key id); the signature is an HMAC-SHA256 under a key derived from the document
key ring's key `k` (core/storage/sealing.py), so no extra secret needs configuring and a key dropped from
the ring voids its links. Checks: signature (constant time), purpose, expiry on the platform clock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.storage.sealing import KeyRing

Purpose = Literal["upload", "view"]
_SIGNING = b"kyc-links"


class LinkInvalid(DomainError):
    code = ErrorCode.UPLOAD_LINK_INVALID


@dataclass(frozen=True)
class Link:
    purpose: Purpose
    subject: uuid.UUID  # the player (upload) or the staff member (view)
    target: str  # the document kind (upload) or the document id (view)
    link_id: uuid.UUID
    expires_at: datetime


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(keys: KeyRing, purpose: Purpose, subject: uuid.UUID, target: str, *, seconds: int) -> tuple[str, Link]:
    expires_at = (clock.now() + timedelta(seconds=seconds)).replace(microsecond=0)
    link = Link(purpose, subject, target, uuid.uuid4(), expires_at)
    claims = {
        "p": purpose,
        "s": str(subject),
        "t": target,
        "l": str(link.link_id),
        "e": int(expires_at.timestamp()),
        "k": keys.active,
    }
    body = _b64(json.dumps(claims, separators=(",", ":")).encode())
    key = keys.signing_key(keys.active, _SIGNING)
    assert key is not None
    return f"{body}.{_b64(hmac.digest(key, body.encode(), 'sha256'))}", link


def verify(keys: KeyRing, token: str, purpose: Purpose) -> Link:
    """The link's claims, or LinkInvalid (the same message whatever is wrong: no oracle for forgers)."""
    refused = LinkInvalid("This link is invalid or has expired; ask for a new one.")
    body, _, signature = token.partition(".")
    try:
        claims = json.loads(_unb64(body))
        key = keys.signing_key(str(claims["k"]), _SIGNING)
        if key is None or not hmac.compare_digest(_unb64(signature), hmac.digest(key, body.encode(), "sha256")):
            raise refused
        link = Link(
            claims["p"],
            uuid.UUID(claims["s"]),
            str(claims["t"]),
            uuid.UUID(claims["l"]),
            datetime.fromtimestamp(int(claims["e"]), UTC),
        )
    except (binascii.Error, ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
        raise refused from exc
    if link.purpose != purpose or link.expires_at <= clock.now():
        raise refused
    return link
