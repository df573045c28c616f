"""A provider reports a jackpot win: `POST /providers/{provider_code}/jackpot/win`, an extension beside the Hub88
wallet contract, which has no jackpot field (a win transaction is a plain credit; `meta` is free-form).

Signed as the provider's wallet calls are (`X-Hub88-Signature`: base64 RSA-SHA256 over the raw body, checked
with the provider's public key before anything is parsed). Body (JSON):

    {"pool_id": "<uuid>", "user": "<player id>", "reference": "<the provider's id of the win>",
     "generation": <the pot the provider saw, optional>}

Answer, HTTP 200: `{"status": "RS_OK", "win_id", "generation", "amount" (the pot, in its pool's currency),
"paid_amount", "paid_currency"}`; the same reference again answers the first win and pays nothing. Refusals: the
wallet's request statuses (RS_ERROR_INVALID_PARTNER, RS_ERROR_INVALID_SIGNATURE, RS_ERROR_WRONG_SYNTAX), and
`RS_ERROR_JACKPOT_ALREADY_WON` (that pot was won), `RS_ERROR_JACKPOT_REFUSED` with the reason (no such pool,
not a provider pool, a jackpot whose providers do not include this one, no such player of its brands). It never
touches the bet's path: the pot is paid by services/jackpots under the pool's row lock, in a transaction of its own.
"""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from core import json_body
from core.errors import DomainError
from core.logging import get_logger
from core.runtime import Runtime
from integrations import hub88

log = get_logger(__name__)
router = APIRouter(include_in_schema=False)
ALREADY_WON = "RS_ERROR_JACKPOT_ALREADY_WON"
REFUSED = "RS_ERROR_JACKPOT_REFUSED"


def _answer(status: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"status": status, **extra})


@router.post("/providers/{provider_code}/jackpot/win")
async def jackpot_win(provider_code: str, request: Request) -> JSONResponse:
    from services.jackpots import admin, pools

    rt: Runtime = request.app.state.rt
    raw = await request.body()
    if len(raw) > hub88.MAX_BODY_BYTES:
        return _answer(hub88.WRONG_SYNTAX)
    try:
        provider, pem, _ = await hub88._provider(rt, provider_code, fresh=True)
    except hub88.Refused as refused:
        return _answer(refused.status)
    if not hub88.verify_signature(pem, raw, request.headers.get(hub88.SIGNATURE_HEADER)):
        log.warning("jackpot_win_bad_signature", provider=provider_code)
        return _answer(hub88.INVALID_SIGNATURE)
    try:
        body = json_body.parse_object(raw, storable=True)
        pool_id, player_id = uuid.UUID(str(body["pool_id"])), uuid.UUID(str(body["user"]))
        reference, generation = body["reference"], body.get("generation")
        if not isinstance(reference, str) or not 0 < len(reference) <= 150:
            raise ValueError("reference")
        if generation is not None and (not isinstance(generation, int) or isinstance(generation, bool)):
            raise ValueError("generation")
    except (json_body.BodyRefused, KeyError, ValueError, TypeError):
        return _answer(hub88.WRONG_SYNTAX)
    try:
        async with rt.database.transaction() as db:
            win = await admin.report_provider_win(
                db, pool_id=pool_id, player_id=player_id, provider=provider.code, reference=reference,
                rates=rt.settings.stated_rates, generation=generation,
            )  # fmt: skip
    except pools.AlreadyWon as refused:
        return _answer(ALREADY_WON, message=refused.message)
    except DomainError as refused:
        return _answer(REFUSED, message=refused.message)
    return _answer(
        "RS_OK", win_id=str(win.id), generation=win.generation, amount=win.amount, paid_amount=win.paid_amount,
        paid_currency=win.paid_currency,
    )  # fmt: skip
