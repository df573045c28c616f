"""Redis stops under load and comes back: bets and wins keep working throughout (the wallet never needs
Redis); a live `balanceChanged` subscription pauses and resumes on its own, showing the balance the
outage hid; and rate limits stay in force (per process) while Redis is away."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx

from authz.subjects import RequestMeta
from bench import world
from services import auth
from tests.faults.conftest import Platform, aggregator
from tests.live.conftest import next_data, subscription

BALANCE = 50_00
WATCH = """subscription { balanceChanged { kind balances { currency cash { amount } } } }"""


async def player_token(platform: Platform, seat: world.Seat) -> str:
    async with platform.rt.database.transaction() as db:
        issued = await auth.start_session(
            db,
            platform.rt,
            subject_type="player",
            subject_id=uuid.UUID(seat.user),
            brand_id=None,
            meta=RequestMeta(ip="127.0.0.1"),
        )
    return issued.access_token


async def cash_shown(update: dict[str, Any]) -> str:
    return str(update["balanceChanged"]["balances"][0]["cash"]["amount"])


async def test_wallet_calls_live_updates_and_limits_survive_a_redis_outage(platform: Platform) -> None:
    place = await platform.world(players=10, balance=BALANCE)
    watched = place.seats[0]
    api = platform.server(REQUESTS_PER_MINUTE_PER_IP="5")
    await asyncio.to_thread(api.start)
    token = await player_token(platform, watched)
    client = aggregator(place.key, api.base)
    load: asyncio.Task[Any] | None = None
    try:
        async with subscription(api.base, token, WATCH) as socket:
            assert await cash_shown(await next_data(socket)) == "50.00"
            load = asyncio.create_task(client.play(place.seats[1:], rounds=10, balance=BALANCE))
            await client.acks_reach(30)
            platform.redis.stop()

            # While Redis is away: the watched player bets; the wallet answers as always.
            bet = world.bet(watched, 7_00, tx=str(uuid.uuid4()), round_ref="outage")
            answer = await client.send(world.signed(place.key, "transaction/bet", bet))
            assert (answer["status"], answer["balance"]) == ("RS_OK", 43_00 * world.UNITS_PER_MINOR)
            async with httpx.AsyncClient(base_url=api.base) as http:  # 5 a minute per IP, counted in-process
                answers = [
                    (await http.post("/graphql", json={"query": "{ brands { code } }"})).json() for _ in range(7)
                ]
            codes = [[e["extensions"]["code"] for e in a.get("errors", [])] for a in answers]
            assert codes == [[]] * 5 + [["RATE_LIMITED"]] * 2
            await asyncio.sleep(1)
            platform.redis.start()

            # Back: the subscription resumes by itself and shows the balance the outage hid.
            update = await next_data(socket, 20)
            while await cash_shown(update) != "43.00":
                update = await next_data(socket, 20)
            log = await load
    finally:
        if load is not None and not load.done():
            load.cancel()
        await client.aclose()
    assert dict(log.failures) == {}  # not one wallet call failed while Redis was away
    log.acks.append(_ack(bet, answer))
    log.model[watched.user] = 43_00
    await platform.assert_books_match(log)


def _ack(body: dict[str, Any], answer: dict[str, Any]) -> Any:
    from tests.faults.load import Ack

    return Ack(
        "transaction/bet",
        body["transaction_uuid"],
        body["user"],
        body["amount"] // world.UNITS_PER_MINOR,
        answer["status"],
        answer["balance"] // world.UNITS_PER_MINOR,
    )
