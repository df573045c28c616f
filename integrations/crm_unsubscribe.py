"""Unsubscribe links: `GET /crm/unsubscribe/{token}` shows a small page, `POST` unsubscribes
(services/crm/unsubscribe.py decides, this only answers).

The POST is also RFC 8058's one-click unsubscribe: a mail client posts `List-Unsubscribe=One-Click`
(form-encoded, no cookies) to the URL of the message's `List-Unsubscribe` header. A GET never changes
anything (mail scanners follow links). The page names the product and channel, never the player. An
unknown, altered or forged token answers 404; nothing a visitor can send answers 500.
"""

from __future__ import annotations

import html
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from core.runtime import Runtime
from services.crm import unsubscribe

router = APIRouter(include_in_schema=False)
_NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}
_MAX_BODY = 2048
_PAGE = (
    "<!doctype html><html lang=en><meta charset=utf-8><meta name=viewport content='width=device-width'>"
    "<title>{title}</title><h1>{title}</h1>{body}</html>"
)
NOT_FOUND = _PAGE.format(title="Link not found", body="<p>This unsubscribe link is not valid.</p>")
_LABEL = {"live_casino": "live casino", "all": "all"}
_VIA = {"email": "by e-mail", "sms": "by SMS", "push": "as push notifications", "inbox": "in your inbox"}


def _answer(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(title=title, body=body), status, headers=_NO_STORE)


def _not_found() -> HTMLResponse:
    return HTMLResponse(NOT_FOUND, 404, headers=_NO_STORE)


def _what(product: str, channel: str) -> str:
    return f"{_LABEL.get(product, product)} offers and news {_VIA.get(channel, channel)}"


@router.get(f"{unsubscribe.PATH}{{token}}")
async def page(token: str, request: Request) -> Response:
    rt: Runtime = request.app.state.rt
    if (message_id := unsubscribe.message_of(token, rt.settings)) is None:
        return _not_found()
    async with rt.database.session() as db:
        message = await unsubscribe.describe(db, message_id)
    if message is None:
        return _not_found()
    action = html.escape(f"{unsubscribe.PATH}{token}")
    body = (
        f"<p>Stop receiving {html.escape(_what(message.product, message.channel))}?</p>"
        f"<form method=post action='{action}'><button name=scope value=message>Unsubscribe</button></form>"
        f"<form method=post action='{action}'><button name=scope value=all>"
        f"Unsubscribe from {html.escape(_what('all', message.channel))}</button></form>"
    )
    return _answer("Unsubscribe", body)


@router.post(f"{unsubscribe.PATH}{{token}}")
async def unsubscribe_now(token: str, request: Request) -> Response:
    rt: Runtime = request.app.state.rt
    if (message_id := unsubscribe.message_of(token, rt.settings)) is None:
        return _not_found()
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_BODY:
            return _answer("Too large", "", 413)
    form = parse_qs(raw.decode("utf-8", "replace"))
    every_product = form.get("scope", [""])[0] == "all"
    async with rt.database.transaction() as db:
        done = await unsubscribe.unsubscribe(db, message_id, every_product=every_product)
    if done is None:
        return _not_found()
    what = _what("all" if every_product else done.products[0], done.channel) if done.products else "these messages"
    body = f"<p>You will no longer receive {html.escape(what)}.</p>"
    return _answer("Unsubscribed", body)
