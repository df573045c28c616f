"""Benchmark: from a bet to the live leaderboard, 10,000 participants on one board, with the wallet
benchmark's load running (issue 18: p95 under 1 s).

    .venv/bin/python -m bench.tournament_board [--quick]

One running tournament (points per 1.00 EUR staked, automatic entry) with `--participants` entries on its
board; `croupier serve` (one worker) runs the consumers as in production, the `tournaments` consumer's
after-commit hook updating the Redis board and publishing (at most once a second per board). Sampler
players bet 1.00 EUR one at a time through the Hub88 wallet, each watching the board two ways:
- the board: from the wallet's answer (just after its commit) to the moment the player's entry in Redis
  shows the new score (polled every 2 ms): relay → stream → consumer batch → commit → hook → board;
- the subscription: to the moment the player's own `leaderboardChanged` (graphql-transport-ws) shows it:
  the same, plus the throttle's wait for the board's gate (up to a second) and the fan-out. Samples start
  at a random moment of the board's second (a bet right after each publication would wait a whole second).

First with the server otherwise idle (the same-run baseline), then under the wallet benchmark's load (16
clients, bet and win pairs, their players entrants of the tournament too). Ratios are against the idle run.
Redis is a private `redis-server`.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from bench import common, world
from bench.wallet import Level, _load_key, drive, scripts
from schema.base import to_global_id
from tests.faults.servers import PrivateRedis

SAMPLERS = 20
LATE = 5.0  # seconds after which an update counts as not seen
WATCH = """subscription($id: ID!) { leaderboardChanged(tournamentId: $id, first: 10) { version me { score } } }"""


async def open_tournament(db: Any, brand_id: uuid.UUID, *, at_zero: list[uuid.UUID]) -> uuid.UUID:
    """A running tournament (a point per 1.00 EUR staked, automatic entry) with an entry for every player of
    the brand: scores spread, as a board some hours in, except `at_zero`'s (as the consumer recomputes a
    score from the rounds it has seen: none yet for them)."""
    from models.tournaments import EntryMode, ScoringKind
    from services.tournaments.definitions import Definition

    tournament = uuid.uuid4()
    rules = Definition(scoring=ScoringKind.POINTS_PER_WAGER, per=100, entry_mode=EntryMode.AUTOMATIC)
    await db.execute(
        text("""
        INSERT INTO tournaments (id, brand_id, name, state, scoring, entry_mode, currency, starts_at, ends_at,
                                 definition, started_at)
        VALUES (:id, :brand, 'Bench drop', 'running', 'points_per_wager', 'automatic', 'EUR',
                now() - interval '1 hour', now() + interval '1 day', CAST(:rules AS jsonb), now())"""),
        {"id": tournament, "brand": brand_id, "rules": rules.model_dump_json()},
    )
    await db.execute(
        text("""
        INSERT INTO tournament_entries (tournament_id, player_id, status, score, reached_seq, joined_at)
        SELECT :id, p.id, 'active', CASE WHEN p.id = ANY(:zero) THEN 0 ELSE (random() * 5000)::bigint END,
               CASE WHEN p.id = ANY(:zero) THEN NULL ELSE row_number() OVER () END, now()
        FROM players p WHERE p.brand_id = :brand"""),
        {"id": tournament, "brand": brand_id, "zero": at_zero},
    )
    return tournament


async def seed(database_url: str, redis_url: str, participants: int, bettors: int) -> tuple[world.World, uuid.UUID]:
    """Funded bettors (the load's and the samplers'), the other participants as bare players, one running
    tournament with an entry for each of them (the bettors' at 0)."""
    rt = common.runtime(database_url, redis_url)
    try:
        place = await world.build(rt, players=bettors, balance=1_000_000_00)
        async with rt.database.transaction() as db:
            await db.execute(
                text("""
                INSERT INTO players (id, brand_id, email, password_hash, first_name, last_name, date_of_birth,
                                     country, currency, marketing_consent, status, jurisdiction, created_at, updated_at)
                SELECT gen_random_uuid(), :brand, 'entrant-' || n || '@example.com', :hash, 'Bench', 'Entrant',
                       date '1990-01-01', 'MT', 'EUR', false, 'active', 'DEFAULT', now(), now()
                FROM generate_series(1, :count) AS n"""),
                {"brand": place.brand_id, "hash": world.PASSWORD_HASH, "count": participants - bettors},
            )
            tournament = await open_tournament(db, place.brand_id, at_zero=[uuid.UUID(s.user) for s in place.seats])
        return place, tournament
    finally:
        await rt.close()


async def token_for(database_url: str, redis_url: str, place: world.World, seats: list[world.Seat]) -> list[str]:
    rt = common.runtime(database_url, redis_url)
    try:
        return await world.player_tokens(rt, place, seats)
    finally:
        await rt.close()


@dataclass
class Sampler:
    seat: world.Seat
    socket: ClientConnection
    scores: list[tuple[float, int]] = field(default_factory=list)  # (perf_counter, own score shown)
    moved: asyncio.Event = field(default_factory=asyncio.Event)

    async def read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            me = ((message.get("payload") or {}).get("data") or {}).get("leaderboardChanged", {}).get("me")
            if message.get("type") == "next" and me:
                self.scores.append((time.perf_counter(), int(me["score"])))
                self.moved.set()


async def watch(base: str, token: str, seat: world.Seat, tournament: uuid.UUID) -> Sampler:
    socket = await connect(base.replace("http://", "ws://") + "/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
    await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    gid = to_global_id("Tournament", tournament)
    await socket.send(
        json.dumps({"id": "1", "type": "subscribe", "payload": {"query": WATCH, "variables": {"id": str(gid)}}})
    )
    sampler = Sampler(seat, socket)
    asyncio.get_running_loop().create_task(sampler.read())
    await asyncio.wait_for(sampler.moved.wait(), 120)  # the snapshot: live
    return sampler


async def board_score(redis: Any, tournament: uuid.UUID, player: str) -> int | None:
    from services.tournaments import board

    found = await board.position(redis, tournament, uuid.UUID(player))
    return None if found is None else found.score


@dataclass
class Samples:
    answers: list[float] = field(default_factory=list)
    to_board: list[float] = field(default_factory=list)
    to_subscriber: list[float] = field(default_factory=list)
    late: int = 0


async def sample(
    base: str, redis: Any, place: world.World, tournament: uuid.UUID, samplers: list[Sampler], bets: int, stop: Any
) -> Samples:
    """One bet at a time, round-robin over the samplers; each waits for its board entry and its update."""
    out = Samples()
    async with aiohttp.ClientSession(base_url=base) as http:
        for n in range(bets):
            if stop():
                break
            s = samplers[n % len(samplers)]
            # A bet comes at any moment of the board's second, not just after a publication (which would
            # make every sample wait the whole gate): spread the samples over it.
            await asyncio.sleep(random.uniform(0, 1.0))
            expected = (await board_score(redis, tournament, s.seat.user) or 0) + 1
            body = world.bet(s.seat, 1_00, tx=str(uuid.uuid4()), round_ref=uuid.uuid4().hex, closed=True)
            call = world.signed(place.key, "transaction/bet", body)
            sent = time.perf_counter()
            async with http.post(world.path(call.endpoint), data=call.raw, headers=call.headers) as response:
                assert (await response.json())["status"] == "RS_OK"
            answered = time.perf_counter()
            out.answers.append((answered - sent) * 1000)
            board_at = sub_at = None
            while time.perf_counter() - answered < LATE and (board_at is None or sub_at is None):
                if board_at is None and (await board_score(redis, tournament, s.seat.user) or 0) >= expected:
                    board_at = time.perf_counter()
                if sub_at is None:
                    sub_at = next((at for at, score in s.scores if score >= expected and at >= sent), None)
                await asyncio.sleep(0.002)
            if board_at is None or sub_at is None:
                out.late += 1
                if out.late >= 5 and not out.to_board:
                    raise RuntimeError("no bet reached the board: are the consumers running?")
                continue
            out.to_board.append((board_at - answered) * 1000)
            out.to_subscriber.append((sub_at - answered) * 1000)
    return out


def report(name: str, found: Samples, idle: Samples | None) -> None:
    def ratio(values: list[float], base: list[float] | None) -> str:
        if not base or not values:
            return ""
        return f"  ({common.percentile(values, 95) / max(common.percentile(base, 95), 0.001):.2f}× idle p95)"

    late = f", {found.late} not seen within {LATE:.0f} s" if found.late else ""
    print(f"\n{name}: {len(found.answers)} sampled bets{late}")
    print(f"  wallet answer                 {common.Latencies(found.answers).summary()}")
    print(
        f"  answer → board in Redis       {common.Latencies(found.to_board).summary()}"
        + ratio(found.to_board, idle.to_board if idle else None)
    )
    print(
        f"  answer → leaderboardChanged   {common.Latencies(found.to_subscriber).summary()}"
        + ratio(found.to_subscriber, idle.to_subscriber if idle else None)
    )


async def run(served: common.Served, redis_url: str, database_url: str, place: world.World, tournament: uuid.UUID,
              load: list[list[world.Signed]], bets: int) -> None:  # fmt: skip
    from core.redis import create_redis

    redis = create_redis(redis_url)
    sampler_seats = place.seats[:SAMPLERS]
    tokens = await token_for(database_url, redis_url, place, sampler_seats)
    samplers = [await watch(served.base, t, s, tournament) for t, s in zip(tokens, sampler_seats, strict=True)]
    started = time.perf_counter()
    board_built = await board_score(redis, tournament, sampler_seats[0].user)
    print(f"board built: {board_built is not None} ({(time.perf_counter() - started) * 1000:.0f} ms to ask)")
    idle = await sample(served.base, redis, place, tournament, samplers, bets, lambda: False)
    report("idle server (baseline)", idle, None)

    cpu = common.tree_cpu_seconds(served.pid)
    loading = asyncio.get_running_loop().create_task(drive(served.base, load))
    under = await sample(served.base, redis, place, tournament, samplers, bets * 4, loading.done)
    wallet = await loading
    report("under the wallet load", under, idle)
    print(
        f"  the load: {wallet.rate:.0f} wallet calls/s, {wallet.latencies.summary()}; server CPU "
        f"{1000 * (common.tree_cpu_seconds(served.pid) - cpu) / max(wallet.calls, 1):.1f} ms a call"
    )
    for sampler in samplers:
        await sampler.socket.close()
    await rebuild_and_size(redis, database_url, tournament)
    await redis.aclose()


async def rebuild_and_size(redis: Any, database_url: str, tournament: uuid.UUID) -> None:
    """The board's memory in Redis, and a rebuild from scratch from PostgreSQL (as after Redis lost it)."""
    import asyncpg

    from core import outbox
    from services.tournaments import board

    keys = board.keys(tournament)
    held = sum([int(await redis.memory_usage(key) or 0) for key in keys])
    entrants = (await board.top(redis, tournament, 1)).entrants
    conn = await asyncpg.connect(outbox.asyncpg_dsn(database_url))
    try:
        await board.drop(redis, tournament)
        started = time.perf_counter()
        await board.rebuild(redis, conn, tournament)
        took = time.perf_counter() - started
    finally:
        await conn.close()
    print(
        f"\nthe board in Redis: {held / 1024 / 1024:.1f} MiB for {entrants} entrants ({held / max(entrants, 1):.0f} "
        f"bytes each); a rebuild from PostgreSQL from scratch: {took * 1000:.0f} ms"
    )


def main() -> None:
    args = common.arguments(__doc__ or "", participants=10_000, bettors=500, bets=50).parse_args()
    calls = 3_200 if args.quick else 12_800
    print("\n".join(common.machine()))
    redis = PrivateRedis()
    redis.start()
    try:
        database_url = common.fresh_database(common.BENCH_DB)
        place, tournament = asyncio.run(seed(database_url, redis.url, args.participants, args.bettors))
        common.analyze(database_url)
        pem = place.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        with ProcessPoolExecutor(2, initializer=_load_key, initargs=(pem,)) as pool:
            load = scripts(Level("16 clients", 16, calls), place.seats[SAMPLERS:], pool)
        print(f"{args.participants} participants on one board; {args.bettors} funded bettors ({SAMPLERS} sampling)")
        with common.server(database_url, redis.url, EVENT_CONSUMERS="true") as served:
            asyncio.run(run(served, redis.url, database_url, place, tournament, load, args.bets))
    finally:
        redis.stop()
    print("\ngoal (issue 18): bet to leaderboard update p95 under 1 s, 10,000 participants, under the wallet's load")


if __name__ == "__main__":
    main()
