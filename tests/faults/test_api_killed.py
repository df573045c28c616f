"""`kill -9` of the API process under a mixed load of bets, wins, rollbacks and racing retries: the
aggregator's retries reach the restarted process and finish the job; nothing is lost or doubled."""

from __future__ import annotations

import asyncio

from tests.faults.conftest import Platform, aggregator

BALANCE = 50_00


async def test_a_killed_api_loses_and_doubles_nothing(platform: Platform) -> None:
    place = await platform.world(players=12, balance=BALANCE)
    api = platform.server()
    await asyncio.to_thread(api.start)
    client = aggregator(place.key, api.base)
    load = asyncio.create_task(client.play(place.seats, rounds=12, balance=BALANCE))
    try:
        for at in (40, 140):  # killed twice, mid-flight each time
            await client.acks_reach(at)
            api.kill()
            await asyncio.sleep(0.5)  # the aggregator keeps retrying against a closed port
            await asyncio.to_thread(api.start)
        log = await load
    finally:
        await client.aclose()
    assert log.failures["ConnectError"] > 0, log.failures  # the outage was real: calls were refused
    assert log.failures["RemoteProtocolError"] + log.failures["ReadError"] > 0, log.failures  # and cut mid-flight
    assert len(log.acks) > 200
    await platform.assert_books_match(log)
