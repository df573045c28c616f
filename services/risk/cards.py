"""What a PSP vault token says about its card: BIN and fingerprint, asked of the PSP's vault
(`GET /vault/tokens/{token}`, as Stripe's payment methods carry `card.fingerprint` and the IIN), never
the number. Asked before the deposit's transaction (no transaction waits on the PSP); a vault that does
not answer within `LOOKUP_SECONDS` gives no facts, and the deposit goes on without the card's
list check and signal (a PSP outage must not stop deposits; the miss is logged)."""

from __future__ import annotations

import httpx

from core.logging import get_logger
from core.settings import Settings
from services.risk.signals import CardFacts, card_bin

log = get_logger(__name__)
LOOKUP_SECONDS = 2.0


async def describe(settings: Settings, token: str | None) -> CardFacts | None:
    if not token or settings.psp_base_url is None:
        return None
    try:
        async with httpx.AsyncClient(base_url=settings.psp_base_url, timeout=LOOKUP_SECONDS) as http:
            response = await http.get(f"/vault/tokens/{token}")
        if response.status_code != 200:
            log.warning("risk.card_lookup_refused", status=response.status_code)
            return None
        body = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("risk.card_lookup_failed", error=type(exc).__name__)
        return None
    fingerprint = str(body.get("fingerprint") or "")[:128] or None
    return CardFacts(bin=card_bin(str(body.get("bin") or "")), fingerprint=fingerprint, last4=body.get("last4"))
