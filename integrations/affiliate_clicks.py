"""The affiliate click endpoint: `GET /a/{code}` (services/affiliates/clicks.py decides, this only answers).

Any query parameters `sub1` … `sub5` are the partner's sub-ids (`sub1` is the `sub_id` statements group by).
Answers: 302 to the link's landing path on the brand's site with `?click=<click id>` and a first-party cookie
`croupier_click` (the same id, for as long as the brand's attribution window) that the registration form sends
back as `affiliateClick`; 404 page for an unknown or archived link or a closed partner; 429 page when the IP
clicked too often. Never a 500 for anything a visitor can type.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from core.logging import request_id_var
from core.runtime import Runtime
from services.affiliates import clicks

router = APIRouter(include_in_schema=False)
COOKIE = "croupier_click"
_PAGE = "<!doctype html><html lang=en><meta charset=utf-8><title>{title}</title><h1>{title}</h1><p>{text}</p></html>"
NOT_FOUND = _PAGE.format(title="Link not found", text="This link does not exist or is no longer active.")
TOO_MANY = _PAGE.format(title="Too many clicks", text="Please wait a minute and try again.")
_NO_STORE = {"Cache-Control": "no-store"}


@router.get("/a/{code}")
async def click(code: str, request: Request) -> Response:
    from server import client_meta  # the server's own reading of the client (trusted proxy hops)

    rt: Runtime = request.app.state.rt
    meta = client_meta(request, rt.settings, request_id_var.get())
    outcome = await clicks.record(rt, code, meta, dict(request.query_params))
    if isinstance(outcome, clicks.Throttled):
        return HTMLResponse(TOO_MANY, 429, headers={**_NO_STORE, "Retry-After": str(outcome.retry_after)})
    if isinstance(outcome, clicks.Gone):
        return HTMLResponse(NOT_FOUND, 404, headers=_NO_STORE)
    response = RedirectResponse(outcome.location, 302, headers=_NO_STORE)
    if outcome.click_id is not None:
        response.set_cookie(
            COOKIE,
            str(outcome.click_id),
            max_age=outcome.cookie_max_age,
            httponly=False,  # the brand's registration form reads it to send `affiliateClick`
            secure=rt.settings.secure_cookies,
            samesite="lax",
            path="/",
        )
    return response
