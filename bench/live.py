"""Benchmark 3: live balances. Time from the wallet's answer to the subscriber's `balanceChanged`, with
1,000 and 10,000 subscriptions open on one server process, and the memory each subscription costs.

    .venv/bin/python -m bench.live [--quick]

N players each hold one graphql-transport-ws connection with one `balanceChanged` subscription on
`croupier serve` (one worker). Then sampled players bet, one at a time, through the Hub88 wallet; the
delay is measured from the moment the bet's HTTP answer arrives to the moment that player's socket
receives the update (one clock: the load client's). The path in between: commit → NOTIFY → outbox
relay → Redis pub/sub → the process's one subscriber connection (services/events.Hub) → re-check of
the session → balances re-read (services/live_balances) → WebSocket frame. Memory: the server's RSS
before and after opening the subscriptions; and the server's CPU time to open them (robust on a shared
machine, where the seconds are not).

Redis is a private `redis-server`, so the benchmark never loads the shared one. The baseline in the
same run is the wallet's own answer time for the same bets.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from bench import common, world
from tests.faults.servers import PrivateRedis

LATE = 30  # seconds after which an update counts as not delivered
WATCH = "subscription { balanceChanged { kind balances { cash { amount } } } }"


async def seed(database_url: str, redis_url: str, players: int) -> tuple[world.World, list[str]]:
    """Players (funded, with game sessions) and an access token for each, from bulk-inserted sessions."""
    from models.auth import AuthSession
    from services import auth

    rt = common.runtime(database_url, redis_url)
    try:
        place = await world.build(rt, players=players, balance=1_000_00)
        ids = [uuid.uuid4() for _ in place.seats]
        async with rt.database.transaction() as db:
            await db.execute(
                text("""
                INSERT INTO auth_sessions (id, subject_type, subject_id, brand_id, created_at, expires_at, scope)
                SELECT s.id, 'player', s.player, :brand, now(), now() + interval '1 day', 'full'
                FROM unnest(CAST(:ids AS uuid[]), CAST(:players AS uuid[])) AS s(id, player)"""),
                {"brand": place.brand_id, "ids": ids, "players": [uuid.UUID(s.user) for s in place.seats]},
            )
        tokens = [
            auth.issue_access_token(
                rt,
                AuthSession(
                    id=sid,
                    subject_type="player",
                    subject_id=uuid.UUID(s.user),
                    brand_id=place.brand_id,
                    scope="full",
                    expires_at=common_now() + timedelta(days=1),
                ),
            )[0]
            for sid, s in zip(ids, place.seats, strict=True)
        ]
        return place, tokens
    finally:
        await rt.close()


def common_now() -> Any:
    from core.clock import clock

    return clock.now()


class Subscriber:
    """One socket, one subscription; records when each update arrives."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.arrivals: list[tuple[float, str]] = []  # (perf_counter, cash shown)
        self.errors: list[str] = []
        self.updated = asyncio.Event()

    async def read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            if message.get("type") == "next" and message["payload"].get("data"):
                cash = message["payload"]["data"]["balanceChanged"]["balances"][0]["cash"]["amount"]
                self.arrivals.append((time.perf_counter(), cash))
            else:
                self.errors.append(str(message.get("payload"))[:300])
            self.updated.set()


async def subscribe(base: str, token: str) -> Subscriber:
    socket = await connect(
        base.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=60,
        ping_interval=None,
        max_queue=64,
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH}}))
    return Subscriber(socket)


async def open_all(base: str, tokens: list[str], batch: int = 100) -> list[Subscriber]:
    subscribers: list[Subscriber] = []
    for start in range(0, len(tokens), batch):
        subscribers += await asyncio.gather(*(subscribe(base, t) for t in tokens[start : start + batch]))
    for subscriber in subscribers:
        asyncio.get_running_loop().create_task(subscriber.read())
    for subscriber in subscribers:  # every snapshot in: every subscription is live
        await asyncio.wait_for(subscriber.updated.wait(), 120)
    failed = [s for s in subscribers if s.errors]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(subscribers)} subscriptions failed, e.g. {failed[0].errors[0]}")
    return subscribers


async def sample(
    base: str, place: world.World, subscribers: list[Subscriber], bets: int
) -> tuple[list[float], list[float], int]:
    """Bets one at a time on spread-out players: (answer times, answer-to-update delays in ms, updates
    not seen within LATE seconds)."""
    import aiohttp

    step = max(1, len(subscribers) // bets)
    answers, delays, late = [], [], 0
    async with aiohttp.ClientSession(base_url=base) as http:
        for n in range(bets):
            index = (n * step) % len(subscribers)
            seat, subscriber = place.seats[index], subscribers[index]
            call = world.signed(
                place.key, "transaction/bet", world.bet(seat, 1_00, tx=str(uuid.uuid4()), round_ref=uuid.uuid4().hex)
            )
            subscriber.updated.clear()
            seen = len(subscriber.arrivals)
            sent = time.perf_counter()
            async with http.post(world.path(call.endpoint), data=call.raw, headers=call.headers) as response:
                assert (await response.json())["status"] == "RS_OK"
            answered = time.perf_counter()
            answers.append((answered - sent) * 1000)
            try:
                while len(subscriber.arrivals) == seen:
                    await asyncio.wait_for(subscriber.updated.wait(), LATE)
                    subscriber.updated.clear()
            except TimeoutError:
                late += 1
                continue
            delays.append((subscriber.arrivals[seen][0] - answered) * 1000)
    return answers, delays, late


async def measure(served: common.Served, place: world.World, tokens: list[str], size: int, bets: int) -> None:
    before = common.rss_kib(served.pid)
    cpu_before = common.process_cpu_seconds(served.pid)
    started = time.perf_counter()
    subscribers = await open_all(served.base, tokens)
    opened = time.perf_counter() - started
    opening_cpu = common.process_cpu_seconds(served.pid) - cpu_before
    await asyncio.sleep(2)
    after = common.rss_kib(served.pid)
    answers, delays, late = await sample(served.base, place, subscribers, bets)
    print(
        f"\n{size} subscriptions open (in {opened:.0f} s); server RSS {before // 1024} → "
        f"{after // 1024} MiB: {(after - before) / size:.0f} KiB per subscription"
    )
    # The server's CPU per subscription opened holds on a shared machine, where the seconds do not.
    print(f"  server CPU to open them: {opening_cpu:.1f} s, {opening_cpu / size * 1000:.2f} ms per subscription")
    print(f"  wallet answer (baseline)        {common.Latencies(answers).summary()}")
    print(
        f"  answer → balanceChanged          {common.Latencies(delays).summary()}"
        + (f"; {late} of {bets} updates not seen within {LATE} s" if late else "")
    )
    for subscriber in subscribers:
        await subscriber.socket.close()


def main() -> None:
    args = common.arguments(__doc__ or "", bets=200, sizes="1000,10000").parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    # Each subscription holds a WebSocket (one descriptor); all share one Redis connection per process.
    fits = hard - 500
    sizes = [1000] if args.quick else [int(n) for n in args.sizes.split(",")]
    print("\n".join(common.machine()))
    if max(sizes) > fits:
        print(f"this process may open {hard} descriptors, one a subscription: measuring {fits} instead of {max(sizes)}")
        sizes = [min(size, fits) for size in sizes]
    redis = PrivateRedis()
    redis.start()
    try:
        for size in sizes:
            database_url = common.fresh_database(common.BENCH_DB)
            place, tokens = asyncio.run(seed(database_url, redis.url, size))
            with common.server(database_url, redis.url) as served:
                asyncio.run(measure(served, place, tokens, size, args.bets))
    finally:
        redis.stop()
    print("\ngoal (issue 8): the update within the wallet's own bar (p95 < 150 ms) at 10,000 subscriptions")


if __name__ == "__main__":
    main()
