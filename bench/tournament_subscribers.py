"""Benchmark: 10,000 `leaderboardChanged` subscribers of one board on one server process (issue 18).

    .venv/bin/python -m bench.tournament_subscribers [--quick]

N players of one tournament each hold a graphql-transport-ws connection with one `leaderboardChanged`
subscription (top 10 and their own position) on `croupier serve` (one worker). Then this process plays the
scoring consumer: it changes a standing in PostgreSQL and runs the after-commit hook (board, throttled
publication), once every 1.2 s (past the board's one-second gate, so each change is one publication). For
each publication: the time until every subscriber had its update (one clock: this process publishes and
receives), and the server's CPU time for the fan-out (each subscriber's session re-check, its own position
from the top or a ZRANK script in the process's shared pipeline, the rendering and the frame). Memory: the
server's RSS before and after opening the subscriptions.

The same-run baseline is the same publication to a single subscriber (the fixed path: hook → Redis →
the server's Hub → one frame), so "time to reach all" is printed against it.
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import text
from websockets.asyncio.client import ClientConnection, connect

from bench import common, profile, world
from bench.tournament_board import open_tournament
from schema.base import to_global_id
from tests.faults.servers import PrivateRedis

WATCH = """subscription($id: ID!) { leaderboardChanged(tournamentId: $id, first: 10) {
  version top { rank score alias } me { rank score } } }"""
GAP = 1.2  # seconds between changes: each its own publication


async def add_tournament(database_url: str, redis_url: str, place: world.World) -> uuid.UUID:
    rt = common.runtime(database_url, redis_url)
    try:
        async with rt.database.transaction() as db:
            return await open_tournament(db, place.brand_id, at_zero=[])
    finally:
        await rt.close()


async def seed_players(database_url: str, redis_url: str, count: int) -> tuple[world.World, list[str]]:
    """Players of one brand (no money: they only watch) with a login session and an access token each."""
    from datetime import timedelta

    from core.clock import clock
    from models.auth import AuthSession
    from services import auth

    rt = common.runtime(database_url, redis_url)
    try:
        place = await world.build(rt, players=1, balance=1)
        async with rt.database.transaction() as db:
            players = (
                (
                    await db.execute(
                        text("""
                    INSERT INTO players (id, brand_id, email, password_hash, first_name, last_name, date_of_birth,
                                         country, currency, marketing_consent, status, jurisdiction, created_at,
                                         updated_at)
                    SELECT gen_random_uuid(), :brand, 'watcher-' || n || '@example.com', :hash, 'Bench', 'Watcher',
                           date '1990-01-01', 'MT', 'EUR', false, 'active', 'DEFAULT', now(), now()
                    FROM generate_series(1, :count) AS n RETURNING id"""),
                        {"brand": place.brand_id, "hash": world.PASSWORD_HASH, "count": count},
                    )
                )
                .scalars()
                .all()
            )
            sessions = [uuid.uuid4() for _ in players]
            await db.execute(
                text("""
                INSERT INTO auth_sessions (id, subject_type, subject_id, brand_id, created_at, expires_at, scope)
                SELECT s.id, 'player', s.player, :brand, now(), now() + interval '1 day', 'full'
                FROM unnest(CAST(:ids AS uuid[]), CAST(:players AS uuid[])) AS s(id, player)"""),
                {"brand": place.brand_id, "ids": sessions, "players": list(players)},
            )
        place.seats = [world.Seat(str(p), "") for p in players]
        tokens = [
            auth.issue_access_token(
                rt,
                AuthSession(id=sid, subject_type="player", subject_id=p, brand_id=place.brand_id, scope="full",
                            expires_at=clock.now() + timedelta(days=1)),
            )[0]
            for sid, p in zip(sessions, players, strict=True)
        ]  # fmt: skip
        return place, tokens
    finally:
        await rt.close()


class Watcher:
    """One subscriber's connection and every `next` it received (when, its data)."""

    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket
        self.received: list[tuple[float, dict[str, Any]]] = []
        self.errors: list[str] = []
        self.updated = asyncio.Event()

    @property
    def versions(self) -> list[tuple[float, int]]:
        return [(at, data["leaderboardChanged"]["version"]) for at, data in self.received]

    async def read(self) -> None:
        async for raw in self.socket:
            message = json.loads(raw)
            data = (message.get("payload") or {}).get("data") if message.get("type") == "next" else None
            if data and not message["payload"].get("errors"):
                self.received.append((time.perf_counter(), data))
            else:
                self.errors.append(str(message)[:300])
            self.updated.set()


async def watch(base: str, token: str, query: str, variables: dict[str, Any]) -> Watcher:
    socket = await connect(
        base.replace("http://", "ws://") + "/graphql",
        subprotocols=["graphql-transport-ws"],  # type: ignore[list-item]
        open_timeout=60,
        ping_interval=None,
        max_queue=64,
    )
    await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}))
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    await socket.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query, "variables": variables}}))
    return Watcher(socket)


async def open_all(
    base: str, tokens: list[str], query: str, variables: dict[str, Any], batch: int = 100
) -> list[Watcher]:
    """One subscription per token, opened `batch` at a time; returns once each has its first `next`."""
    watchers: list[Watcher] = []
    for start in range(0, len(tokens), batch):
        watchers += await asyncio.gather(*(watch(base, t, query, variables) for t in tokens[start : start + batch]))
    for watcher in watchers:
        asyncio.get_running_loop().create_task(watcher.read())
    for watcher in watchers:
        await asyncio.wait_for(watcher.updated.wait(), 300)
    failed = [w for w in watchers if w.errors]
    if failed:
        raise RuntimeError(f"{len(failed)} of {len(watchers)} subscriptions failed, e.g. {failed[0].errors[0]}")
    return watchers


def board_of(tournament: uuid.UUID) -> dict[str, Any]:
    return {"id": str(to_global_id("Tournament", tournament))}


async def publish(rt: Any, tournament: uuid.UUID, players: list[uuid.UUID], n: int) -> tuple[float, int]:
    """One committed change (a player climbs) and the hook; (when the change committed, the board version)."""
    from services.tournaments import board, live

    player = players[n % len(players)]
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE tournament_entries SET score = score + 100 + :n, reached_seq = 1000000 + :n "
                 "WHERE tournament_id = :t AND player_id = :p"),
            {"t": tournament, "p": player, "n": n},
        )  # fmt: skip
    committed = time.perf_counter()
    await live.standings_changed(rt.redis, rt.database.engine, {tournament: [player]})
    return committed, (await board.top(rt.redis, tournament, 1)).version


async def fan_out(rt: Any, served: common.Served, watchers: list[Watcher], tournament: uuid.UUID,
                  players: list[uuid.UUID], updates: int) -> tuple[list[float], list[float], float, int]:  # fmt: skip
    """Per publication: (ms from the commit until the last subscriber had it, until the median one); server
    CPU ms per publication; updates not seen within 30 s."""
    to_all, to_half, missing = [], [], 0
    cpu = common.process_cpu_seconds(served.pid)
    for n in range(updates):
        await asyncio.sleep(GAP)
        published, version = await publish(rt, tournament, players, n)
        deadline = published + 30
        arrivals: list[float] = []
        for watcher in watchers:
            while not any(v >= version for _, v in watcher.versions) and time.perf_counter() < deadline:
                watcher.updated.clear()
                try:
                    await asyncio.wait_for(watcher.updated.wait(), max(deadline - time.perf_counter(), 0.01))
                except TimeoutError:
                    break
            at = next((t for t, v in watcher.versions if v >= version), None)
            if at is None:
                missing += 1
            else:
                arrivals.append(at)
        if arrivals:
            arrivals.sort()
            to_all.append((arrivals[-1] - published) * 1000)
            to_half.append((arrivals[len(arrivals) // 2] - published) * 1000)
    return to_all, to_half, 1000 * (common.process_cpu_seconds(served.pid) - cpu) / updates, missing


async def measure(served: common.Served, database_url: str, redis_url: str, tokens: list[str],
                  tournament: uuid.UUID, players: list[uuid.UUID], updates: int, profiled: bool) -> None:  # fmt: skip
    rt = common.runtime(database_url, redis_url)
    try:
        one = await open_all(served.base, tokens[:1], WATCH, board_of(tournament))
        single, _, single_cpu, _ = await fan_out(rt, served, one, tournament, players, updates)
        await one[0].socket.close()
        await asyncio.sleep(1)
        before, cpu = common.rss_kib(served.pid), common.process_cpu_seconds(served.pid)
        started = time.perf_counter()
        watchers = await open_all(served.base, tokens, WATCH, board_of(tournament))
        opened, opening_cpu = time.perf_counter() - started, common.process_cpu_seconds(served.pid) - cpu
        await asyncio.sleep(2)
        after = common.rss_kib(served.pid)
        if profiled:
            with profile.recording(served.pid, "tournament-fan-out", seconds=int(updates * GAP) + 20) as out:
                to_all, to_half, per_update_cpu, missing = await fan_out(
                    rt, served, watchers, tournament, players, updates
                )
        else:
            to_all, to_half, per_update_cpu, missing = await fan_out(rt, served, watchers, tournament, players, updates)
        size = len(watchers)
        print(f"\n1 subscriber (baseline): publication → its update {common.Latencies(single).summary()}; "
              f"server CPU {single_cpu:.1f} ms a publication")  # fmt: skip
        print(
            f"{size} subscribers of one board opened in {opened:.0f} s (server CPU {opening_cpu:.1f} s); server RSS "
            f"{before // 1024} → {after // 1024} MiB: {(after - before) / size:.1f} KiB a subscription"
        )
        print(
            f"  publication → every subscriber  {common.Latencies(to_all).summary()}  "
            f"({common.percentile(to_all, 50) / max(common.percentile(single, 50), 0.001):.0f}× the single p50)"
        )
        print(f"  publication → half of them      {common.Latencies(to_half).summary()}")
        print(
            f"  server CPU a publication: {per_update_cpu:.0f} ms ({per_update_cpu / size * 1000:.0f} µs a "
            f"subscriber; single: {single_cpu:.1f} ms)"
            + (f"; {missing} updates not seen within 30 s" if missing else "")
        )
        if profiled:
            print("\nprofile of the server during the fan-out (py-spy):")
            print("\n".join(profile.summary(out)))
        for watcher in watchers:
            await watcher.socket.close()
    finally:
        await rt.close()


def subscriber_count(asked: int) -> int:
    """The subscribers asked for, within the file descriptors this process may open (raised to its limit)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return min(asked, hard - 500)


@contextmanager
def watchers_seeded(size: int) -> Iterator[tuple[str, str, world.World, list[str]]]:
    """A private Redis and a fresh bench database with `size` players of one brand, each with a token:
    (Redis URL, database URL, the world, the tokens)."""
    print("\n".join(common.machine()))
    redis = PrivateRedis()
    redis.start()
    try:
        database_url = common.fresh_database(common.BENCH_DB)
        place, tokens = asyncio.run(seed_players(database_url, redis.url, size))
        yield redis.url, database_url, place, tokens
    finally:
        redis.stop()


def main() -> None:
    args = common.arguments(__doc__ or "", subscribers=10_000, updates=10, profile=False).parse_args()
    size = subscriber_count(args.subscribers)
    updates = 5 if args.quick else args.updates
    with watchers_seeded(size) as (redis_url, database_url, place, tokens):
        tournament = asyncio.run(add_tournament(database_url, redis_url, place))
        players = [uuid.UUID(seat.user) for seat in place.seats]
        common.analyze(database_url)
        with common.server(database_url, redis_url, EVENT_CONSUMERS="false") as served:
            asyncio.run(measure(served, database_url, redis_url, tokens, tournament, players, updates, args.profile))
    print("\ngoal (issue 18): 10,000 leaderboard subscribers on one process")


if __name__ == "__main__":
    main()
