"""The demo's lobby and A/B tests: a segment's layout and its variant's, a running lobby test, a draft journey
test, the popular games computed; a demo player of the segment sees the lobby of their bucket. Seeding twice
changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from integrations.demo.crm_lobby import LOBBY_TEST, seed_crm_lobby
from tests.crm_lobby.conftest import LOBBY


async def test_the_demo_seeds_a_lobby_test_once(
    rt: Any, gql: Any, make_player: Any, make_game: Any, make_category: Any
) -> None:
    slots = await make_category("slots", position=1)
    await make_game(code="reels", categories=[slots])
    carla = await make_player(email="carla@example.com")
    await seed_crm_lobby(rt)
    await seed_crm_lobby(rt)
    async with rt.database.session() as db:
        tests = (await db.execute(text("SELECT name, status FROM crm_experiments ORDER BY name"))).all()
        layouts = await db.scalar(text("SELECT count(*) FROM crm_lobby_layouts"))
    assert [tuple(t) for t in tests] == [(LOBBY_TEST, "running"), ("Demo welcome subject line", "draft")]
    assert layouts == 2
    body = await gql(LOBBY, token=carla.token)
    assert body["data"]["lobby"][0]["code"] == "featured"
