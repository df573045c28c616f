"""PostgreSQL crashes and comes back under load: the API answers structured errors meanwhile (HTTP 200
with RS_ERROR_UNKNOWN, never a wrong balance, never a 500), and recovers on its own: the same process
serves again and reports ready once the database is back."""

from __future__ import annotations

import asyncio

from tests.faults.conftest import Platform, aggregator

BALANCE = 50_00


async def test_the_api_rides_out_a_database_restart(platform: Platform) -> None:
    place = await platform.world(players=12, balance=BALANCE)
    api = platform.server()
    await asyncio.to_thread(api.start)
    client = aggregator(place.key, api.base)
    load = asyncio.create_task(client.play(place.seats, rounds=12, balance=BALANCE))
    try:
        await client.acks_reach(60)
        await asyncio.to_thread(platform.postgres.crash)
        await asyncio.sleep(2)  # the API answers errors while the database is away
        assert not await asyncio.to_thread(api.ready)
        await asyncio.to_thread(platform.postgres.start)
        log = await load
    finally:
        await client.aclose()
    assert log.failures["RS_ERROR_UNKNOWN"] > 0, log.failures  # the outage was seen, and answered in protocol
    assert set(log.failures) == {"RS_ERROR_UNKNOWN"}, log.failures  # no 500, no dropped connection
    assert await asyncio.to_thread(api.ready)
    assert api.process is not None
    assert api.process.poll() is None
    await platform.assert_books_match(log)
