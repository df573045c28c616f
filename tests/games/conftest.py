"""Game fixtures: a provider and games written straight to the catalog tables."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from strawberry import relay

from models.games import BrandGame, Game, LobbyCategory, LobbyCategoryGame, Provider


def gid(game: Game) -> str:
    return str(relay.GlobalID("Game", str(game.id)))


@pytest.fixture
async def provider(rt: Any) -> Provider:
    async with rt.database.transaction() as db:
        row = Provider(
            code="pinefox", name="Pinefox Studios", protocol="hub88", launch_url="https://games.pinefox.example/launch"
        )
        db.add(row)
    return row


@pytest.fixture
def make_game(rt: Any, provider: Provider) -> Any:
    counter = iter(range(1, 10_000))

    async def make(
        *,
        code: str | None = None,
        title: str | None = None,
        type: str = "slot",
        rtp: int = 9600,
        currencies: list[str] | None = None,
        countries: list[str] | None = None,
        tags: list[str] | None = None,
        enabled: bool = True,
        demo: bool = True,
        provider_id: uuid.UUID | None = None,
        categories: list[LobbyCategory] | None = None,
    ) -> Game:
        n = next(counter)
        game = Game(
            provider_id=provider_id or provider.id,
            code=code or f"game-{n}",
            title=title or f"Game {n:03d}",
            type=type,
            rtp_basis_points=rtp,
            volatility="medium",
            min_bet={"EUR": "0.10", "SEK": "1"},
            max_bet={"EUR": "100.00", "SEK": "1000.00"},
            countries=countries or [],
            currencies=["EUR", "SEK"] if currencies is None else currencies,
            tags=tags or [],
            enabled=enabled,
            demo_available=demo,
        )
        async with rt.database.transaction() as db:
            db.add(game)
            await db.flush()
            for position, category in enumerate(categories or []):
                db.add(LobbyCategoryGame(category_id=category.id, game_id=game.id, position=n * 10 + position))
        return game

    return make


@pytest.fixture
def make_category(rt: Any) -> Any:
    async def make(code: str, *, position: int = 0, brand_id: uuid.UUID | None = None) -> LobbyCategory:
        async with rt.database.transaction() as db:
            row = LobbyCategory(code=code, title=code.title(), position=position, brand_id=brand_id)
            db.add(row)
        return row

    return make


@pytest.fixture
def switch(rt: Any) -> Any:
    async def set_switch(
        brand_id: uuid.UUID, game: Game, *, enabled: bool = True, disabled_countries: list[str] | None = None
    ) -> None:
        async with rt.database.transaction() as db:
            db.add(
                BrandGame(
                    brand_id=brand_id, game_id=game.id, enabled=enabled, disabled_countries=disabled_countries or []
                )
            )

    return set_switch
