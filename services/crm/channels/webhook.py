"""The webhook channel: SMS and push through a provider's HTTP endpoint.

Each message is one POST of a JSON body (message id, channel, player id, language, subject, text, and for
SMS the phone number) with `X-Croupier-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" under
CRM_WEBHOOK_SECRET>` and `X-Croupier-Message-Id` (the provider deduplicates a repeated try on it). A 2xx
answer delivered it; anything else, a time-out or no connection is a failed try.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from typing import Any

import httpx

from core.clock import clock
from services.crm.channels.email import SendFailed

SIGNATURE_HEADER = "X-Croupier-Signature"
MESSAGE_ID_HEADER = "X-Croupier-Message-Id"


def signature(secret: str, timestamp: int, body: str) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: str, *, now: int, tolerance: int = 300) -> bool:
    """What a provider checks (and the tests' receiver does): the signature, within `tolerance` seconds."""
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance and hmac.compare_digest(parts.get("v1", ""), expected)


async def post(
    client: httpx.AsyncClient, url: str, secret: str, message_id: uuid.UUID, body: dict[str, Any], seconds: float
) -> None:
    encoded = json.dumps(body, separators=(",", ":"), sort_keys=True)
    headers = {
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(secret, int(clock.now().timestamp()), encoded),
        MESSAGE_ID_HEADER: str(message_id),
        "User-Agent": "Croupier-CRM/1",
    }
    try:  # bounded in all (a server that trickles its answer would reset httpx's per-read time-out)
        response = await asyncio.wait_for(client.post(url, content=encoded, headers=headers, timeout=seconds), seconds)
    except (TimeoutError, httpx.HTTPError, httpx.InvalidURL, ValueError) as exc:
        timed_out = isinstance(exc, TimeoutError | httpx.TimeoutException)
        kind = "no answer in time" if timed_out else type(exc).__name__
        raise SendFailed(f"webhook: {kind}") from exc
    if not 200 <= response.status_code < 300:
        raise SendFailed(f"webhook: HTTP {response.status_code}")
