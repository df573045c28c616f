"""The projections happen once per event and can be rebuilt: redelivered events change nothing (through
the stream or applied again), events in any order build the same rows, and a replay of the outbox
after a reset rebuilds exactly what the live consumer built."""

from __future__ import annotations

import json
from typing import Any

from core.consumers import STREAM, reset
from services import cashier
from services.reports.projection import TYPES as PROJECTION_TYPES
from tests.cashier.conftest import player_viewer
from tests.conftest import fund
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, roll_back, seated


async def a_busy_day(
    rt: Any, make_player: Any, card_deposit: Any, brand: Any, hub88_provider: Any, aggregator: Aggregator
) -> None:
    """Registrations, deposits (two first ones, then a second), play with rollbacks, a paid withdrawal."""
    first, second = await make_player(), await make_player()
    await card_deposit(first, "80.00")
    await fund(rt, second, "30.00 EUR", deposit=True)
    await fund(rt, second, "12.50 EUR", deposit=True)
    one, two = await seated(rt, hub88_provider, first), await seated(rt, hub88_provider, second)
    await play(aggregator, one, 10 * EUR, 4 * EUR, round_ref="1")
    await roll_back(aggregator, one, await play(aggregator, one, 3 * EUR, round_ref="2"))
    bet = await play(aggregator, two, 7 * EUR, round_ref="3")
    win = two.win(20 * EUR, bet["transaction_uuid"], round_ref="3")
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"
    await roll_back(aggregator, two, win)
    await play(aggregator, two, 1 * EUR, 15 * EUR, round_ref="4")
    payout = await cashier.request_withdrawal(
        rt, player_viewer(first, brand), amount="20.00", currency="EUR", method="bank_transfer"
    )
    assert payout.status == "paid"


async def test_a_replay_rebuilds_exactly_what_the_live_consumer_built(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    await a_busy_day(rt, make_player, card_deposit, brand, hub88_provider, aggregator)
    await reports.drain()
    built = await reports.snapshot()
    assert all(built.values()), built  # every projection has rows

    replayed = await reports.replay()
    assert replayed == len([e for e in await reports.events() if e.type in PROJECTION_TYPES])
    assert await reports.snapshot() == built


async def test_redelivered_events_change_nothing(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    await a_busy_day(rt, make_player, card_deposit, brand, hub88_provider, aggregator)
    await reports.drain()
    built = await reports.snapshot()
    events = await reports.events()

    # Through the stream, as a relay that crashed before marking its batch published sends it again,
    # past its own dedupe keys (expired, or Redis restarted):
    for event in events:
        envelope = json.dumps(event.envelope())
        await rt.redis.xadd(STREAM, {"id": event.id, "type": event.type, "subject": event.subject, "event": envelope})
    assert await reports.drain() == len(events)  # read and acknowledged...
    assert await reports.snapshot() == built  # ...and nothing applied twice
    # Straight to the runner, in one batch and one by one:
    assert await reports.runner.apply(reports.conn, events) == set()
    for event in events[::7]:
        await reports.runner.apply(reports.conn, [event])
    assert await reports.snapshot() == built


async def test_events_in_any_order_build_the_same_projections(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    """Sums do not care about order; the first deposit is the earliest by time, whatever arrives first
    (the stream delivers a transaction that committed late after later ones)."""
    await a_busy_day(rt, make_player, card_deposit, brand, hub88_provider, aggregator)
    await reports.drain()
    built = await reports.snapshot()

    events = await reports.events()
    await reset(reports.conn, reports.runner.consumer)  # forgotten, then fed backwards in batches of five
    backwards = events[::-1]
    for start in range(0, len(backwards), 5):
        await reports.runner.apply(reports.conn, backwards[start : start + 5])
    assert await reports.snapshot() == built
