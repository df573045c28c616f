"""Jackpot fixtures: jackpots created through the service (as the CLI and GraphQL do), players at a Hub88 game
(the aggregator's signed REST calls place the bets), and the `jackpots` consumer drained on demand as the
server's runner would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from core.fx import DEMO_RATES, Rates
from services.jackpots.consumer import JackpotConsumer
from tests.conftest import DATABASE_URL, fund
from tests.providers.conftest import (  # noqa: F401  (fixtures)
    HUB88,
    Seat,
    aggregator,
    aggregator_key,
    hub88_provider,
    open_session,
    stranger_key,
)

RATES = Rates.parse(DEMO_RATES)


@dataclass
class Jackpots:
    runner: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)

    async def pool(self, pool_id: uuid.UUID) -> Any:
        return await self.conn.fetchrow("SELECT * FROM jackpot_pools WHERE id = $1", pool_id)

    async def secret_point(self, pool_id: uuid.UUID, generation: int) -> int:
        """What only the operator knows until the drop (the test reads it to say where the drop must be)."""
        point: int = await self.conn.fetchval(
            "SELECT drop_point FROM jackpot_commitments WHERE pool_id = $1 AND generation = $2", pool_id, generation
        )
        return point

    async def wins(self, pool_id: uuid.UUID) -> list[Any]:
        return list(await self.conn.fetch("SELECT * FROM jackpot_wins WHERE pool_id = $1 ORDER BY generation", pool_id))


@pytest.fixture
async def jackpots(rt: Any) -> AsyncIterator[Jackpots]:
    from services.jackpots import books

    books.forget_cached_accounts()  # the tables were emptied since the last test's consumer remembered them
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        member = f"test-{uuid.uuid4().hex[:6]}"
        yield Jackpots(Runner(JackpotConsumer(RATES), DATABASE_URL, rt.redis, member=member), conn)
    finally:
        await conn.close()


@pytest.fixture
def create(rt: Any) -> Any:
    """`await create(levels=[LevelSpec(...)], brands=[brand.id], ...)`: a jackpot through the service."""
    from authz.subjects import SYSTEM
    from services.jackpots.admin import JackpotSpec, LevelSpec, create_jackpot

    async def make(
        *, levels: Sequence[LevelSpec], brands: Sequence[uuid.UUID], code: str = "grand-fortune",
        kind: str = "local", type_: str = "progressive", currency: str = "EUR", games: Sequence[str] = (),
    ) -> Any:  # fmt: skip
        async with rt.database.transaction() as db:
            return await create_jackpot(
                db,
                JackpotSpec(code, code.title(), kind, type_, currency, list(brands), list(levels), games=list(games)),
                actor=SYSTEM,
            )

    return make


@pytest.fixture
def player_at_game(rt: Any, make_player: Any, hub88_provider: Any) -> Any:  # noqa: F811
    """`await player_at_game(balance=..., currency=..., brand_code=...)`: a funded player with a Hub88 session.
    The game takes any stake: the pots' arithmetic is shown on bets as small as 0.01 EUR, below the fixture game's
    0.10 EUR minimum, which the wallet enforces on every bet (docs/catalogue-sync.md, "Bets")."""

    async def make(
        *, balance: int = 100_000, currency: str = "EUR", brand_code: str = "royal", country: str = "MT"
    ) -> Seat:
        from sqlmodel import update

        from models.games import Game

        async with rt.database.transaction() as db:
            await db.execute(update(Game).where(Game.provider_id == hub88_provider.id).values(min_bet={}))
        player = await make_player(currency=currency, brand_code=brand_code, country=country)
        await fund(rt, player.uuid, balance, currency)
        token = await open_session(rt, hub88_provider, player.uuid, currency=currency)
        return Seat(str(player.uuid), player.uuid, token, currency)

    return make


def hub88(amount_minor: int, currency: str = "EUR") -> int:
    """Hub88 amounts are in 1/100000 of the currency."""
    from core.money import CURRENCIES

    return amount_minor * 10 ** (5 - CURRENCIES[currency].exponent)


async def bet(wallet: Any, seat: Seat, minor: int) -> str:
    tx = str(uuid.uuid4())
    answer = await wallet.call("transaction/bet", seat.bet(hub88(minor, seat.currency), tx=tx))
    assert answer["status"] == "RS_OK", answer
    return tx
