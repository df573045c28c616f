"""Adversarial review of the `jackpots` consumer: a stake the consumer cannot drop a pot on must not be set
aside (parked) with its contributions; a failed batch leaves nothing behind that breaks the next one."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import clock
from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet
from tests.providers.conftest import cash


async def _parked(jackpots: Any) -> int:
    return int(await jackpots.conn.fetchval("SELECT count(*) FROM consumer_parked WHERE consumer = 'jackpots'"))


async def test_a_time_pot_past_its_instant_with_nothing_in_it_waits_for_a_stake_that_gives_it_something(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    # No seed, 1% of stakes: right after seeding (and after every drop) the pot holds nothing.
    jackpot = await create(levels=[LevelSpec("minute", 0, 10_000, "time", drop_window_seconds=60)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game(balance=100_000)
    clock.advance(timedelta(minutes=2))  # past the committed instant
    await bet(aggregator, seat, 50)  # 0.50 EUR: 0.005 EUR, below a cent: the pot still holds nothing
    for _ in range(3):  # the framework's attempts before it parks an event
        await jackpots.drain()
    assert await _parked(jackpots) == 0
    row = await jackpots.pool(pool.id)
    assert (row["amount"], row["remainder"], row["generation"]) == (0, 500_000, 1)  # the stake counted, no drop
    before = await cash(rt, seat.player_id)
    await bet(aggregator, seat, 100)  # 1.00 EUR: with the carried half, 1.5 cents: the pot holds 1 and drops
    await jackpots.drain()
    [win] = await jackpots.wins(pool.id)
    assert (win["generation"], win["amount"]) == (1, 1)
    assert await cash(rt, seat.player_id) == before - 100 + 1
    assert await _parked(jackpots) == 0
