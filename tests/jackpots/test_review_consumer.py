"""Adversarial review of the `jackpots` consumer: a stake the consumer cannot drop a pot on must not be set
aside (parked) with its contributions; a failed batch leaves nothing behind that breaks the next one."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

from core.clock import clock
from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet
from tests.providers.conftest import GAME, cash


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


async def _published(jackpots: Any) -> None:
    """Wait for the server's relay to put every event on the stream (so a drain reads them there first)."""
    for _ in range(200):
        if not await jackpots.conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL"):
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the relay did not publish")


async def test_a_batch_that_fails_after_a_drop_in_another_currency_leaves_the_next_attempt_able_to_pay(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    """A batch in which the brand's first contributions create its funding account and a drop paid in another
    currency uses it again, then fails on a poison event: the framework applies each event alone, and the drop
    must then be paid (the funding account made in the rolled-back batch must not be remembered)."""
    jackpot = await create(levels=[LevelSpec("grand", 1_000, 1_000_000, "amount", 2_000)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game(balance=1_000_000, currency="SEK", country="SE")
    await jackpots.drain()
    # 200.00 SEK = 17.40 EUR, all of it contributed (100%): the pot reaches its cap, so it drops on this stake.
    await bet(aggregator, seat, 20_000)
    await _published(jackpots)
    stake_event = await jackpots.conn.fetchval("SELECT id FROM outbox_events WHERE topic = 'ledger.game_bet'")
    held = "INSERT INTO consumer_processed (consumer, event_id) VALUES ('jackpots', $1)"
    await jackpots.conn.execute(held, stake_event)
    await jackpots.drain()  # its stream entry read and acknowledged: the sweep brings it next, with the poison
    poison = {"kind": "game_bet", "player_id": str(seat.player_id), "reference_id": "hub88:poison"}  # no currency
    poison.update({"provider": "hub88", "game": GAME, "cash": -100, "bonus": 0})
    poison_event = await jackpots.conn.fetchval(
        "INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at, published_at) "
        "VALUES ('ledger.game_bet', $1, $2, 1, $3::jsonb, now(), now()) RETURNING id",
        f"player:{seat.player_id}", brand.id, json.dumps(poison),
    )  # fmt: skip
    await jackpots.conn.execute("DELETE FROM consumer_processed WHERE event_id = $1", stake_event)
    before = await cash(rt, seat.player_id, "SEK")
    await jackpots.drain()
    [win] = await jackpots.wins(pool.id)
    assert (win["amount"], win["paid_currency"], win["paid_amount"]) == (2_000, "SEK", 2_000 * 1000 // 87)
    assert await cash(rt, seat.player_id, "SEK") == before + 22_988
    assert (await jackpots.pool(pool.id))["generation"] == 2
    # The poison is no platform event: gone, so the other consumers' books checks after the test do not see it.
    await jackpots.conn.execute("DELETE FROM consumer_processed WHERE event_id = $1", poison_event)
    await jackpots.conn.execute("DELETE FROM consumer_parked WHERE event_id = $1", poison_event)
    await jackpots.conn.execute("DELETE FROM outbox_events WHERE id = $1", poison_event)


async def test_a_bet_rolled_back_after_its_game_left_the_jackpot_still_takes_its_contribution_back(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    from authz.subjects import SYSTEM
    from services.jackpots import admin

    jackpot = await create(levels=[LevelSpec("grand", 1_000, 10_000, "amount", 10**9)], brands=[brand.id], games=[GAME])
    pool = jackpot.pools[0]
    seat = await player_at_game()
    tx = await bet(aggregator, seat, 5_000)  # 50.00 EUR at 1%: 0.50
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == 1_050
    async with rt.database.transaction() as db:  # the operator takes the game out of the jackpot
        await admin.configure_jackpot(db, jackpot.id, actor=SYSTEM, games=["another-game"])
    assert (await aggregator.call("transaction/rollback", seat.rollback(tx)))["status"] == "RS_OK"
    await jackpots.drain()
    row = await jackpots.pool(pool.id)
    assert (row["amount"], row["remainder"]) == (1_000, 0)  # the bet that did not happen gives nothing
