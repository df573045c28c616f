"""The demo catalog seed: providers, games, lobby categories and brand switches, safe to run twice."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from models.games import Game, Provider


async def test_seed_games_builds_a_lobby_and_is_idempotent(rt: Any, gql: Any) -> None:
    from integrations.demo import seed

    async with rt.database.transaction() as db:
        from services import brands

        for spec in seed.BRANDS:
            await brands.create_brand(db, **spec)
    await seed.seed_games(rt)
    await seed.seed_games(rt)
    async with rt.database.session() as db:
        assert await db.scalar(select(func.count()).select_from(Game)) == len(seed.DEMO_GAMES)
        demo_provider = await db.scalar(select(Provider).where(Provider.code == "demo"))
        slot = await db.scalar(select(Game).where(Game.code == "demo-slot"))
    assert demo_provider is not None
    assert demo_provider.protocol == "hub88"
    assert demo_provider.launch_url == (
        rt.settings.demo_provider_url or f"{rt.settings.public_base_url.rstrip('/')}/demo-games"
    )
    assert slot is not None
    assert slot.rtp_basis_points == 9600
    body = await gql('{ lobby(brand: "northstar", first: 50) { code games { code } } }')
    lobby = {c["code"]: [g["code"] for g in c["games"]] for c in body["data"]["lobby"]}
    assert list(lobby) == ["popular", "new", "slots", "live", "table"]
    assert "demo-slot" in lobby["popular"]
    assert lobby["live"] == []  # Northstar keeps live casino off
    royal = await gql('{ lobby(brand: "royal", first: 50) { code games { code } } }')
    assert {g["code"] for c in royal["data"]["lobby"] for g in c["games"]} >= {
        "demo-slot",
        "demo-dice",
        "live-roulette",
    }
