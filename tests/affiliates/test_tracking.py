"""Tracking: a click on `/a/{code}` is recorded and redirected; a registration carrying it is attributed once,
in its own transaction, with `affiliate.attributed`; what does not count attributes nobody and refuses nothing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.clock import clock
from models.affiliates import AffiliateStatus
from services.affiliates import links, partners
from services.affiliates.tracking import tracking
from tests.affiliates.conftest import MakePartner, click, events_of


async def _clicks(rt: Any) -> list[Any]:
    async with rt.database.session() as db:
        return list((await db.execute(text("SELECT * FROM affiliate_clicks ORDER BY clicked_at"))).all())


async def _attribution(rt: Any, player_id: uuid.UUID) -> Any:
    async with rt.database.session() as db:
        return (
            await db.execute(text("SELECT * FROM affiliate_attributions WHERE player_id = :p"), {"p": player_id})
        ).first()


async def test_a_click_is_recorded_and_redirected_with_its_id_and_cookie(
    rt: Any, client: Any, make_partner: MakePartner
) -> None:
    partner = await make_partner(landing="/welcome?lang=en")
    response = await client.get(
        f"/a/{partner.link_code}",
        params={"sub1": "spring", "sub2": "banner-7", "sub9": "ignored", "other": "x"},
        headers={"User-Agent": "Mozilla/5.0 test"},
        follow_redirects=False,
    )
    assert response.status_code == 302
    [row] = await _clicks(rt)
    assert response.headers["location"] == f"/welcome?lang=en&click={row.id}"
    assert response.cookies["croupier_click"] == str(row.id)
    assert row.affiliate_id == partner.id
    assert row.link_id == partner.link_id
    assert row.sub_id == "spring"
    assert row.sub_ids == {"sub1": "spring", "sub2": "banner-7"}
    assert row.ip == "203.0.113.7"
    assert row.user_agent == "Mozilla/5.0 test"


async def test_unknown_archived_and_closed_links_answer_a_404_page(
    rt: Any, client: Any, make_partner: MakePartner
) -> None:
    for code in ("nope", "x" * 200, "%00", "a%20b", "%C3%A9"):
        response = await click(client, code)
        assert response.status_code == 404, code
        assert "Link not found" in response.text
    partner = await make_partner()
    await links.archive(rt, SYSTEM, partner.id, partner.link_id)
    assert (await click(client, partner.link_code)).status_code == 404
    other = await make_partner()
    await partners.set_status(rt, SYSTEM, other.id, AffiliateStatus.CLOSED, "contract ended")
    assert (await click(client, other.link_code)).status_code == 404
    assert await _clicks(rt) == []


async def test_a_suspended_partners_link_lands_without_recording(
    rt: Any, client: Any, make_partner: MakePartner
) -> None:
    partner = await make_partner()
    await partners.set_status(rt, SYSTEM, partner.id, AffiliateStatus.SUSPENDED, "review")
    response = await click(client, partner.link_code, sub1="a")
    assert response.status_code == 302
    assert response.headers["location"] == "/welcome"
    assert "croupier_click" not in response.cookies
    assert await _clicks(rt) == []


async def test_clicks_are_rate_limited_per_ip(rt: Any, client: Any, make_partner: MakePartner) -> None:
    partner = await make_partner()
    limit = tracking().clicks_per_ip_per_minute
    for _ in range(limit):
        assert (await click(client, partner.link_code)).status_code == 302
    refused = await click(client, partner.link_code)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert len(await _clicks(rt)) == limit


async def test_a_registration_with_a_click_is_attributed_once_with_its_event(
    rt: Any, client: Any, make_partner: MakePartner, make_player: Any
) -> None:
    partner = await make_partner()
    clicked = await click(client, partner.link_code, sub1="s-1", sub3="c")
    click_id = clicked.cookies["croupier_click"]
    player = await make_player(affiliateClick=click_id)
    row = await _attribution(rt, player.uuid)
    assert row.affiliate_id == partner.id
    assert row.link_id == partner.link_id
    assert str(row.click_id) == click_id
    assert row.sub_id == "s-1"
    assert row.sub_ids == {"sub1": "s-1", "sub3": "c"}
    [event] = await events_of(rt, "affiliate.attributed")
    assert event["player_id"] == str(player.uuid)
    assert event["affiliate_id"] == str(partner.id)
    assert event["affiliate_code"] == partner.code
    assert event["link_id"] == str(partner.link_id)
    assert event["click_id"] == click_id
    assert event["sub_id"] == "s-1"
    assert event["sub_ids"] == {"sub1": "s-1", "sub3": "c"}
    # The same click again (a second account from the same cookie, a replayed URL): one click is one visitor, so
    # it attributes nobody else — never many players paid for one click.
    second = await make_player(affiliateClick=click_id)
    assert await _attribution(rt, second.uuid) is None
    assert len(await events_of(rt, "affiliate.attributed")) == 1


async def test_clicks_that_do_not_count_attribute_nobody_and_refuse_nothing(
    rt: Any, client: Any, make_partner: MakePartner, make_player: Any, other_brand: Any
) -> None:
    partner = await make_partner()
    click_id = (await click(client, partner.link_code)).cookies["croupier_click"]
    unknown = await make_player(affiliateClick=str(uuid.uuid4()))
    garbage = await make_player(affiliateClick="not-a-click")
    elsewhere = await make_player(brand_code="northstar", country="SE", currency="SEK", affiliateClick=click_id)
    clock.advance(tracking().window("royal") + timedelta(minutes=1))
    too_late = await make_player(affiliateClick=click_id)
    for player in (unknown, garbage, elsewhere, too_late):
        assert await _attribution(rt, player.uuid) is None
    assert await events_of(rt, "affiliate.attributed") == []


async def test_a_suspended_partners_earlier_click_attributes_nobody(
    rt: Any, client: Any, make_partner: MakePartner, make_player: Any
) -> None:
    partner = await make_partner()
    click_id = (await click(client, partner.link_code)).cookies["croupier_click"]
    await partners.set_status(rt, SYSTEM, partner.id, AffiliateStatus.SUSPENDED, "review")
    player = await make_player(affiliateClick=click_id)
    assert await _attribution(rt, player.uuid) is None


async def test_a_click_on_a_link_archived_since_attributes_nobody(
    rt: Any, client: Any, make_partner: MakePartner, make_player: Any
) -> None:
    partner = await make_partner()
    click_id = (await click(client, partner.link_code)).cookies["croupier_click"]
    await links.archive(rt, SYSTEM, partner.id, partner.link_id)
    player = await make_player(affiliateClick=click_id)
    assert await _attribution(rt, player.uuid) is None
    assert await events_of(rt, "affiliate.attributed") == []
