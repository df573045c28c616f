"""Opens and clicks of CRM emails (services/crm/channels/tracking.py decides, this only answers).

`GET /crm/o/<token>.gif`: the 1x1 pixel (always, so a mail client shows nothing broken), stamping the
message's first open when the token is valid. `GET /crm/c/<token>?u=<target>`: 302 to the target when the
token signs that message and that target (stamping the first click), else a 404 page — never a redirect to
a URL the platform did not send.
"""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from core.runtime import Runtime
from services.crm.channels import tracking

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store, private"}
NOT_FOUND = (
    "<!doctype html><html lang=en><meta charset=utf-8><title>Link not found</title><h1>Link not found</h1>"
    "<p>This link is not valid.</p></html>"
)


@router.get("/crm/o/{token}.gif")
async def opened(token: str, request: Request) -> Response:
    rt: Runtime = request.app.state.rt
    message_id = tracking.verify(rt.settings, token, "open")
    if message_id is not None:
        async with rt.database.transaction() as db:
            await tracking.stamp_open(db, message_id)
    return Response(tracking.PIXEL_GIF, media_type="image/gif", headers=_NO_STORE)


@router.get("/crm/c/{token}")
async def clicked(token: str, request: Request, u: str = "") -> Response:
    rt: Runtime = request.app.state.rt
    message_id = tracking.verify(rt.settings, token, "click", u)
    if message_id is None or not u.startswith(("http://", "https://")):
        return HTMLResponse(NOT_FOUND, 404, headers=_NO_STORE)
    async with rt.database.transaction() as db:
        await tracking.stamp_click(db, message_id)
    return RedirectResponse(u, 302, headers=_NO_STORE)
