"""`POST /webhooks/idv/{provider}`: an identity-verification provider's signed notification
(services/kyc/idv/webhooks.py). 401 on a bad or missing digest (or a provider we do not have), 400 on a
signed body that is not the expected JSON, 413 past the size limit, 200 on a duplicate and on an applicant
we do not know (the provider must stop retrying), 200 once applied. An unexpected failure answers 500 and
commits nothing, so the provider's retry applies it later.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.logging import get_logger
from core.runtime import Runtime
from integrations.webhooks import MAX_WEBHOOK_BYTES
from services.kyc.idv.client import InvalidSignature, MalformedWebhook
from services.kyc.idv.webhooks import handle_webhook

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)


@router.post("/webhooks/idv/{provider}")
async def idv_webhook(provider: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        outcome = await handle_webhook(rt, provider, body, request.headers)
    except InvalidSignature as exc:
        log.warning("idv_webhook_rejected", provider=provider[:32], reason=str(exc))
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    except MalformedWebhook as exc:
        log.warning("idv_webhook_malformed", provider=provider[:32], reason=str(exc))
        return JSONResponse({"error": "malformed body", "reason": str(exc)}, status_code=400)
    return JSONResponse({"received": True, "duplicate": outcome.duplicate, "result": outcome.result})
