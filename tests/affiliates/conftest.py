"""Affiliate fixtures: a partner with a link on the test brand (`royal`), made through the service as the platform
would (SYSTEM), a click on its link through `GET /a/{code}`, and the events the tests look for."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from authz.subjects import SYSTEM
from services.affiliates import links, partners
from tests.providers.conftest import aggregator, aggregator_key, hub88_provider  # noqa: F401  (fixtures)


@dataclass
class Partner:
    id: uuid.UUID
    code: str
    link_id: uuid.UUID
    link_code: str


MakePartner = Callable[..., Awaitable[Partner]]


@pytest.fixture
def make_partner(rt: Any, brand: Any) -> MakePartner:
    """A partner (code `p1`, `p2`, … unless given) on the test brand, with one link (`tag`, `landing`)."""
    counter = iter(range(1, 10_000))

    async def make(
        *,
        code: str | None = None,
        tag: str = "main",
        landing: str = "/welcome",
        brand_ids: list[uuid.UUID] | None = None,
    ) -> Partner:
        code = code or f"p{next(counter)}"
        partner = await partners.create(
            rt,
            SYSTEM,
            partners.PartnerDraft(
                code=code,
                company=f"{code.upper()} Media Ltd",
                contact_email=f"{code}@partners.test",
                payout_currency="EUR",
                brand_ids=brand_ids or [brand.id],
            ),
        )
        draft = links.LinkDraft(brand_id=(brand_ids or [brand.id])[0], tag=tag, landing_path=landing)
        link = await links.create(rt, SYSTEM, partner.id, draft)
        return Partner(partner.id, code, link.id, link.code)

    return make


async def click(client: httpx.AsyncClient, code: str, **params: str) -> httpx.Response:
    response = await client.get(f"/a/{code}", params=params, follow_redirects=False)
    client.cookies.clear()
    return response


async def events_of(rt: Any, topic: str) -> list[dict[str, Any]]:
    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT payload FROM outbox_events WHERE topic = :t ORDER BY id"), {"t": topic})
        return [dict(r[0]) for r in rows]
