"""Unsubscribe links: a signed token per message, a page on GET that changes nothing, the RFC 8058
one-click POST, and the headers the e-mail channel adds."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from services.crm import suppression, unsubscribe
from tests.crm_suppression.conftest import CONSENTS, Crm, refusal


class Message:
    def __init__(self, message_id: uuid.UUID) -> None:
        self.id = message_id


async def test_one_click_unsubscribes_the_message_s_product_and_channel_once(
    rt: Any, client: httpx.AsyncClient, gql: Any, make_player: Any, crm: Crm
) -> None:
    player = await make_player(marketingConsent=True, email="jane.doe@example.com")
    message_id = await crm.queue(player, channel="email", product="casino")
    waiting = await crm.queue(player, channel="email", product="casino")
    other_product = await crm.queue(player, channel="email", product="sports")

    headers = suppression.unsubscribe_headers(Message(message_id), rt.settings)
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url = headers["List-Unsubscribe"].strip("<>")
    assert url.startswith(rt.settings.public_base_url.rstrip("/") + "/crm/unsubscribe/")
    assert url == suppression.unsubscribe_url(Message(message_id), rt.settings)
    path = url.split("://", 1)[1].split("/", 1)[1]

    page = await client.get(f"/{path}")  # a mail scanner following the link changes nothing
    assert page.status_code == 200
    assert "casino offers and news by e-mail" in page.text
    assert "jane" not in page.text.lower()
    assert await refusal(rt, player) is None

    one_click = await client.post(
        f"/{path}",
        content="List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert one_click.status_code == 200
    assert "no longer receive" in one_click.text
    assert await refusal(rt, player) == "UNSUBSCRIBED"
    assert await refusal(rt, player, product="sports") is None  # only what the message was about
    assert await refusal(rt, player, channel="inbox") is None
    assert (await crm.message(waiting))["status"] == "cancelled"
    assert (await crm.message(waiting))["reason"] == "UNSUBSCRIBED"
    assert (await crm.message(other_product))["status"] == "queued"

    consents = (await gql(CONSENTS, token=player.token))["data"]["me"]["consents"]
    [casino_email] = [c for c in consents if (c["product"], c["channel"]) == ("casino", "email")]
    assert casino_email["source"] == "unsubscribe"
    assert casino_email["granted"] is False

    trail = await crm.conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'crm.unsubscribed'")
    again = await client.post(f"/{path}", content="List-Unsubscribe=One-Click")
    assert again.status_code == 200
    assert await crm.conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'crm.unsubscribed'") == trail


async def test_the_page_s_second_button_unsubscribes_every_product_on_the_channel(
    rt: Any, client: httpx.AsyncClient, make_player: Any, crm: Crm
) -> None:
    player = await make_player(marketingConsent=True)
    message_id = await crm.queue(player, channel="inbox", product="poker")
    path = suppression.unsubscribe_url(Message(message_id), rt.settings).split("://", 1)[1].split("/", 1)[1]
    done = await client.post(f"/{path}", data={"scope": "all"})
    assert done.status_code == 200
    for product in ("casino", "live_casino", "sports", "poker"):
        assert await refusal(rt, player, channel="inbox", product=product) == "UNSUBSCRIBED"
    assert await refusal(rt, player, channel="email") is None


async def test_forged_altered_and_unknown_links_answer_not_found(
    rt: Any, client: httpx.AsyncClient, make_player: Any, crm: Crm
) -> None:
    player = await make_player(marketingConsent=True)
    message_id = await crm.queue(player)
    token = unsubscribe.token(message_id, rt.settings)
    forged = rt.settings.model_copy(update={"crm_unsubscribe_secret": "guessed"})
    for bad in [
        unsubscribe.token(message_id, forged),
        token[:-2] + ("AA" if not token.endswith("AA") else "BB"),
        unsubscribe.token(uuid.uuid4(), rt.settings),  # well signed, no such message
        "not-a-token",
        "%00" * 10,
        "x" * 300,
    ]:
        assert (await client.get(f"/crm/unsubscribe/{bad}")).status_code == 404, bad
        assert (await client.post(f"/crm/unsubscribe/{bad}", content="List-Unsubscribe=One-Click")).status_code == 404
    assert await refusal(rt, player) is None
    too_large = await client.post(f"/crm/unsubscribe/{token}", content="x" * 5000)
    assert too_large.status_code == 413
    assert await refusal(rt, player) is None
