"""URL templates, their macros, the partner's opaque player reference, and the request signature.

A template is an http(s) URL with macros in braces. Every value is percent-encoded into the URL, so a sub-id
cannot add a parameter or change the host. An unknown macro is refused when the config is saved, not when a
postback is due. `player_ref` is HMAC-SHA256(partner's `ref_salt`, player id), cut to 32 hex digits: stable
for a partner, different between partners, and it reveals nothing of the player.

The signature (header `X-Croupier-Signature: t=<unix seconds>,v1=<hex>`) is HMAC-SHA256 with the partner's
secret over `<t>.<METHOD>.<URL>.<body>` — the exact request line and body sent — so a partner checks it
without parsing anything first, and rejects an old `t` to refuse replays.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
import secrets
import string
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from core.errors import DomainError, ErrorCode
from models.affiliate_postbacks import PostbackMethod, PostbackTrigger

MACROS = (
    "click_id",
    "sub1",
    "sub2",
    "sub3",
    "sub4",
    "sub5",
    "player_ref",
    "event",
    "amount",
    "currency",
    "event_id",
)
SIGNATURE_HEADER = "X-Croupier-Signature"
EVENT_ID_HEADER = "X-Croupier-Event-Id"
_MAX_URL = 2000
_FORMATTER = string.Formatter()


@dataclass(frozen=True)
class Facts:
    """What a postback may tell the partner about one event (no personal data)."""

    event: PostbackTrigger
    event_id: int
    player_ref: str
    click_id: str | None = None
    sub_ids: Mapping[str, str] | None = None
    amount: str | None = None  # a decimal string in the currency's units
    currency: str | None = None

    def values(self) -> dict[str, str]:
        subs = self.sub_ids or {}
        return {
            "click_id": self.click_id or "",
            **{f"sub{n}": str(subs.get(f"sub{n}") or "") for n in range(1, 6)},
            "player_ref": self.player_ref,
            "event": self.event.value,
            "amount": self.amount or "",
            "currency": self.currency or "",
            "event_id": str(self.event_id),
        }


def macros_of(template: str) -> list[str]:
    """The macros a template names, refusing a malformed one (an unclosed brace, a format spec)."""
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise DomainError(f"The template has a stray brace: {exc}.", field="urlTemplate") from exc
    names = []
    for _, name, spec, conversion in parts:
        if name is None:
            continue
        if spec or conversion or name not in MACROS:
            allowed = ", ".join("{" + m + "}" for m in MACROS)
            raise DomainError(f"Unknown macro {{{name}}}: the macros are {allowed}.", field="urlTemplate")
        names.append(name)
    return names


def validate_template(template: str, *, require_https: bool) -> str:
    """A template staff may save: http(s), a host, known macros only, none in the scheme or host."""
    template = template.strip()
    if not template or len(template) > _MAX_URL:
        raise DomainError(f"A URL of at most {_MAX_URL} characters.", field="urlTemplate")
    macros_of(template)
    parts = urlsplit(template)
    schemes = ("https",) if require_https else ("http", "https")
    if parts.scheme not in schemes:
        raise DomainError(f"The URL must start with {' or '.join(s + '://' for s in schemes)}.", field="urlTemplate")
    if not parts.hostname or "{" in parts.netloc:
        raise DomainError("The URL needs a fixed host (no macro in it).", field="urlTemplate")
    try:
        parts.port  # noqa: B018  (urlsplit checks the port only when read; httpx refuses a bad one at send time)
    except ValueError as exc:
        raise DomainError("The URL's port must be a number from 1 to 65535.", field="urlTemplate") from exc
    if require_https and _internal(parts.hostname):
        raise DomainError("The URL must reach the partner, not an internal address.", field="urlTemplate")
    if parts.username or parts.password:
        raise DomainError("No credentials in the URL: the signature authenticates the call.", field="urlTemplate")
    return template


def internal_address(address: str) -> bool:
    """An IP address that is not public: loopback, private, link-local (cloud metadata), shared, unspecified,
    reserved — IPv4 mapped into IPv6 included. Not an address at all: False."""
    try:
        parsed = ipaddress.ip_address(address.partition("%")[0])
    except ValueError:
        return False
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        parsed = parsed.ipv4_mapped
    return not parsed.is_global


def _internal(host: str) -> bool:
    """A host written as an internal address, or localhost: refused when a production config is saved. A name
    resolving to an internal address is refused when sent (services/affiliates/postbacks/network.py)."""
    if host == "localhost" or host.endswith(".localhost"):
        return True
    return internal_address(host)


def render(template: str, facts: Facts) -> str:
    """The URL to call: every macro replaced by its percent-encoded value."""
    values = {name: quote(value, safe="") for name, value in facts.values().items()}
    return template.format_map(values)


def body_of(method: PostbackMethod, facts: Facts) -> str | None:
    """POST configs send the facts as JSON too (sorted keys, so the signed bytes are reproducible)."""
    if method is PostbackMethod.GET:
        return None
    return json.dumps(facts.values(), sort_keys=True, separators=(",", ":"))


def player_ref(ref_salt: str, player_id: uuid.UUID) -> str:
    return hmac.new(ref_salt.encode(), str(player_id).encode(), hashlib.sha256).hexdigest()[:32]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def new_salt() -> str:
    return secrets.token_hex(32)


def signed_payload(timestamp: int, method: str, url: str, body: str | None) -> bytes:
    return f"{timestamp}.{method}.{url}.{body or ''}".encode()


def signature(secret: str, timestamp: int, method: str, url: str, body: str | None) -> str:
    """The header value for one request."""
    digest = hmac.new(secret.encode(), signed_payload(timestamp, method, url, body), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


_HEADER = re.compile(r"^t=(\d+),v1=([0-9a-f]{64})$")


def verify(
    secret: str, header: str, method: str, url: str, body: str | None, *, now: int, tolerance: int = 300
) -> bool:
    """What a partner does with the header (docs, tests): the signature matches and `t` is recent."""
    found = _HEADER.match(header or "")
    if found is None or abs(now - int(found.group(1))) > tolerance:
        return False
    expected = signature(secret, int(found.group(1)), method, url, body)
    return hmac.compare_digest(expected, header)


def fingerprint(secret: str) -> str:
    """What staff see of a secret after it was shown once: its first characters."""
    return secret[:10] + "…"


def not_found(what: str) -> DomainError:
    return DomainError(f"No such {what}.", code=ErrorCode.NOT_FOUND)
