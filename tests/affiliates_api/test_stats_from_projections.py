"""The partner's figures come from the reports projections as the reports consumer writes them from the ledger's
events: real deposits, applied by the real consumer, read back through a scoped token."""

from __future__ import annotations

from typing import Any

import asyncpg

from core.clock import clock
from core.consumers import Runner
from services.reports.projection import ReportsProjection
from tests.affiliates_api.conftest import attribute, insert_link
from tests.conftest import DATABASE_URL, fund

STATS = """query($from: Date!, $to: Date!) { affiliatePortal { stats(from: $from, to: $to, groupBy: BRAND) {
  key currency clicks registrations ftds ftdAmount deposits ngr } } }"""


async def test_deposits_and_first_deposits_of_attributed_players_reach_the_partner(
    rt: Any, gql: Any, brand: Any, make_partner: Any, make_player: Any
) -> None:
    acme = await make_partner("acme")
    link = await insert_link(rt, acme.id, brand.id, "acme-link", "spring")
    brought, stranger = await make_player(), await make_player()
    await attribute(rt, brought.uuid, acme.id, brand.id, link, clock.now(), "s1")
    await fund(rt, brought, "50.00 EUR", deposit=True)
    await fund(rt, brought, "30.00 EUR", deposit=True)
    await fund(rt, stranger, "1000.00 EUR", deposit=True)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await Runner(ReportsProjection(), DATABASE_URL, rt.redis, member="affiliate-stats").sweep(conn, grace=0)
    finally:
        await conn.close()
    token = await acme.api_token(gql, ["STATS_READ"])
    today = clock.now().date().isoformat()
    body = await gql(STATS, {"from": today, "to": today}, token=token)
    assert "errors" not in body, body
    assert body["data"]["affiliatePortal"]["stats"] == [
        {
            "key": "royal",
            "currency": "EUR",
            "clicks": 0,
            "registrations": 1,
            "ftds": 1,
            "ftdAmount": "50.00",
            "deposits": "80.00",
            "ngr": "0.00",
        }
    ]
