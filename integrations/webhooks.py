"""REST routes facing PSPs and the player's browser on its way back from a PSP.

- `POST /webhooks/psp/{psp}`: HMAC-signed notifications. 401 on a bad signature, 400 on a signed body
  the JSON gate refuses (nested too deep, a NUL character in a string: core/json_body.py) or whose values
  make no sense (`{"error", "code": "MALFORMED_WEBHOOK", "field", "reason"}`), 200 on a
  duplicate (the PSP must stop retrying), 200 once applied. An unexpected failure answers 500 and
  commits nothing, so the PSP's retry applies it later.
- `GET /cashier/return/{payment_id}`: where the 3-D Secure page sends the browser; asks the PSP for
  the outcome at once (the webhook may be late) and shows the payment's status.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core.errors import DomainError
from core.logging import get_logger
from core.runtime import Runtime
from services import cashier
from services.cashier.psp import InvalidSignature, MalformedWebhook

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)
MAX_WEBHOOK_BYTES = 64 * 1024


@router.post("/webhooks/psp/{psp}")
async def psp_webhook(psp: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    body = await request.body()
    if len(body) > MAX_WEBHOOK_BYTES:
        return JSONResponse({"error": "too large"}, status_code=413)
    try:
        outcome = await cashier.handle_webhook(rt, psp, body, request.headers)
    except InvalidSignature as exc:
        log.warning("psp_webhook_rejected", psp=psp, reason=str(exc))
        return JSONResponse({"error": "invalid signature"}, status_code=401)
    except MalformedWebhook as exc:
        log.warning("psp_webhook_malformed", psp=psp, reason=str(exc))
        refusal = {"error": "malformed body", "code": "MALFORMED_WEBHOOK", "field": exc.field, "reason": str(exc)}
        return JSONResponse(refusal, status_code=400)
    return JSONResponse({"received": True, "duplicate": outcome.duplicate, "result": outcome.result})


@router.get("/cashier/return/{payment_id}")
async def payment_return(payment_id: str, request: Request) -> JSONResponse:
    rt: Runtime = request.app.state.rt
    try:
        payment = await cashier.refresh(rt, uuid.UUID(payment_id))
    except (ValueError, DomainError):
        return JSONResponse({"error": "no such payment"}, status_code=404)
    return JSONResponse({"payment": str(payment.id), "status": payment.status})
