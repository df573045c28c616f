"""Benchmark 1: wallet throughput and latency, against the database's own ceiling measured in the same run.

    .venv/bin/python -m bench.wallet [--quick] [--profile]

Signed Hub88 bets and wins through `croupier serve` (one worker), the full path: HTTP, RSA signature
check, parsing, the wallet service, the ledger, the outbox, commit. Each client plays its own players
(a bet, then the round's win), with 1, 16 and 64 clients at once; then the hot cases: every bet on a
handful of players, and on one player. Every bet of the brand always lands on one house account
(derived: postings only, never an updated row), so "one house" is every run here.

The baseline, on the same PostgreSQL in the same run, just before each level: `pgbench -b tpcb-like`
at the same client count — a debit/credit transaction with no application around it. Each wallet call
is one database transaction too, so calls/s ÷ pgbench TPS is the ratio printed. Goals (issue 8): at
least 0.5 times at 16 clients, p99 under 25 ms.

Requests are signed before the clock starts (signing is the aggregator's cost, ~1.2 ms of CPU each),
with two processes; the load client is aiohttp in one process, whose own CPU time is printed too.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
import uuid
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import aiohttp
from cryptography.hazmat.primitives import serialization

from bench import common, profile, world

PGBENCH_DB = "croupier_pgbench"
BALANCE = 1_000_000_00  # per player: no bet is refused for funds


@dataclass(frozen=True)
class Level:
    name: str
    clients: int
    calls: int
    hot_players: int | None = None  # every client on these few players


def levels(quick: bool) -> list[Level]:
    scale = 1 if quick else 4
    return [
        Level("1 client", 1, 300 * scale),
        Level("16 clients", 16, 1600 * scale),
        Level("64 clients", 64, 1600 * scale),
        Level("hot: 16 clients on 4 players", 16, 800 * scale, hot_players=4),
        Level("hot: 16 clients on 1 player", 16, 800 * scale, hot_players=1),
    ]


# ---- signing, in two processes ----------------------------------------------------------------------

_key: Any = None


def _load_key(pem: bytes) -> None:
    global _key
    _key = serialization.load_pem_private_key(pem, password=None)


def _sign(job: tuple[str, dict[str, Any]]) -> world.Signed:
    return world.signed(_key, *job)


def scripts(level: Level, players: list[world.Seat], pool: ProcessPoolExecutor) -> list[list[world.Signed]]:
    """Per client, its calls in order: bet, then that round's win, on its own players (or the hot ones)."""
    per_client = level.calls // level.clients
    jobs: list[list[tuple[str, dict[str, Any]]]] = []
    for client in range(level.clients):
        mine = [players[client % level.hot_players]] if level.hot_players else players[client :: level.clients]
        calls: list[tuple[str, dict[str, Any]]] = []
        for n in range(per_client // 2):
            seat = mine[n % len(mine)]
            bet_tx, round_ref = str(uuid.uuid4()), uuid.uuid4().hex
            calls.append(("transaction/bet", world.bet(seat, 100, tx=bet_tx, round_ref=round_ref)))
            calls.append(
                (
                    "transaction/win",
                    world.win(
                        seat, 200 if n % 3 == 0 else 0, tx=str(uuid.uuid4()), reference=bet_tx, round_ref=round_ref
                    ),
                )
            )
        jobs.append(calls)
    flat = [job for calls in jobs for job in calls]
    signed = iter(pool.map(_sign, flat, chunksize=200))
    return [[next(signed) for _ in calls] for calls in jobs]


# ---- the load ------------------------------------------------------------------------------------


async def drive(base: str, per_client: list[list[world.Signed]]) -> common.Run:
    latencies: list[float] = []
    statuses: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=len(per_client) + 1, force_close=False)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as http:

        async def client(calls: list[world.Signed]) -> None:
            for call in calls:
                started = time.perf_counter()
                async with http.post(world.path(call.endpoint), data=call.raw, headers=call.headers) as response:
                    answer = await response.json()
                latencies.append((time.perf_counter() - started) * 1000)
                statuses[answer["status"]] += 1

        cpu, started = common.cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(client(calls) for calls in per_client))
        seconds, cpu = time.perf_counter() - started, common.cpu_seconds() - cpu
    return common.Run(len(latencies), seconds, common.Latencies(latencies), dict(statuses), cpu)


# ---- the baseline ------------------------------------------------------------------------------------


def pgbench_ready(scale: int) -> None:
    """pgbench's tables at `scale`, created once and kept (`croupier_pgbench`)."""
    common.need("pgbench", "apt-get install postgresql-contrib (Debian: the postgresql-client package has it)")
    ready = asyncio.run(common.database_exists(PGBENCH_DB))
    if ready:
        found = subprocess.run(
            ["psql", common.url(PGBENCH_DB), "-tAc", "SELECT count(*) FROM pgbench_branches"],
            capture_output=True,
            text=True,
        )
        ready = found.stdout.strip() == str(scale)
    if not ready:
        common.drop_database(PGBENCH_DB)
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", PGBENCH_DB], check=True)
        subprocess.run(
            ["pgbench", "-i", "-q", "-s", str(scale), common.url(PGBENCH_DB)], check=True, capture_output=True
        )


def pgbench(clients: int, seconds: int) -> tuple[float, float, float] | None:
    """(TPS, average latency ms, PostgreSQL CPU ms a transaction) of `pgbench -b tpcb-like` at `clients`;
    None when it could not run (the shared server's max_connections reached by other users)."""
    pg_cpu = common.postgres_cpu_seconds()
    done = subprocess.run(
        [
            "pgbench",
            "-b",
            "tpcb-like",
            "-n",
            "-c",
            str(clients),
            "-j",
            str(min(clients, 2)),
            "-T",
            str(seconds),
            common.url(PGBENCH_DB),
        ],
        capture_output=True,
        text=True,
    )
    tps = re.search(r"tps = ([\d.]+)", done.stdout)
    latency = re.search(r"latency average = ([\d.]+) ms", done.stdout)
    if done.returncode != 0 or tps is None or latency is None:
        print(f"pgbench at {clients} clients failed: {(done.stderr or done.stdout).strip().splitlines()[-1:]}")
        return None
    transactions = float(tps.group(1)) * seconds
    return float(tps.group(1)), float(latency.group(1)), 1000 * (common.postgres_cpu_seconds() - pg_cpu) / transactions


# ---- main ------------------------------------------------------------------------------------------


async def seed(database_url: str, players: int) -> world.World:
    rt = common.runtime(database_url)
    try:
        return await world.build(rt, players=players, balance=BALANCE)
    finally:
        await rt.close()


def main() -> None:
    args = common.arguments(__doc__ or "", players=2000, pgbench_scale=64, workers=1, profile=False).parse_args()
    players = 500 if args.quick else args.players
    seconds = 8 if args.quick else 20
    print("\n".join(common.machine()))
    pgbench_ready(args.pgbench_scale)
    database_url = common.fresh_database(common.BENCH_DB)
    place = asyncio.run(seed(database_url, players))
    pem = place.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    plan = levels(args.quick)
    with ProcessPoolExecutor(2, initializer=_load_key, initargs=(pem,)) as pool:
        warm = scripts(Level("warm-up", 8, 400), place.seats, pool)
        signed = {level.name: scripts(level, place.seats, pool) for level in plan}
    print(
        f"{players} players, one brand, one house account; pgbench scale {args.pgbench_scale}, {seconds} s a "
        f"level; {args.workers} server process(es)"
    )
    # The baseline first, while the bench server holds no connections (the shared server allows 100).
    baseline = {level.clients: pgbench(level.clients, seconds) for level in plan}
    with common.server(database_url, workers=args.workers) as served:
        asyncio.run(drive(served.base, warm))
        print(f"\n{'level':<32} {'pgbench TPS':>11} {'wallet calls/s':>14} {'bets/s':>7} {'ratio':>6}   latency")
        for level in plan:
            common.analyze(database_url)
            cpu, pg_cpu = common.tree_cpu_seconds(served.pid), common.postgres_cpu_seconds()
            if args.profile and level.clients == 16 and level.hot_players is None:
                with profile.recording(served.pid, "wallet-16", seconds=max(5, seconds // 2)) as profiled:
                    run = asyncio.run(drive(served.base, signed[level.name]))
            else:
                run = asyncio.run(drive(served.base, signed[level.name]))
            server_ms = 1000 * (common.tree_cpu_seconds(served.pid) - cpu) / run.calls
            pg_ms = 1000 * (common.postgres_cpu_seconds() - pg_cpu) / run.calls
            tps, pg_latency, pgbench_pg_ms = baseline[level.clients] or (float("nan"),) * 3
            bad = {status: n for status, n in run.statuses.items() if status != "RS_OK"}
            print(
                f"{level.name:<32} {tps:>11.0f} {run.rate:>14.0f} {run.rate / 2:>7.0f} {run.rate / tps:>6.2f}   "
                f"{run.latencies.summary()}  (pgbench avg {pg_latency:.1f} ms, PostgreSQL CPU {pgbench_pg_ms:.2f} ms "
                f"a transaction; CPU a wallet call: server {server_ms:.1f} ms, PostgreSQL {pg_ms:.2f} ms; "
                f"client CPU {100 * run.client_cpu / run.seconds:.0f}% of a core)"
                + (f"  NOT OK: {bad}" if bad else ""),
                flush=True,
            )
    print("\ngoals: ratio ≥ 0.50 at 16 clients; p99 < 25 ms")
    if args.profile:
        print("\nprofile of the server at 16 clients (py-spy):")
        print("\n".join(profile.summary(profiled)))


if __name__ == "__main__":
    main()
