"""What every benchmark shares: its own database on the local PostgreSQL, a live `croupier serve` process,
the machine it ran on, percentiles and the printed report.

Benchmarks never touch the test databases: they use `croupier_bench` (`BENCH_DB`; recreated on every run),
`croupier_pgbench` (pgbench's tables, kept) and `croupier_scale` (the generated million players, kept),
and Redis database 10 (or a private `redis-server`, for the live benchmark).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg

from core import processes

ROOT = Path(__file__).resolve().parent.parent
PG_HOST = os.environ.get("BENCH_PG", "postgresql://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/10")
# Another name lets two benchmarks run side by side (each with its own BENCH_REDIS too).
BENCH_DB = os.environ.get("BENCH_DB", "croupier_bench")


def arguments(description: str, **defaults: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (minutes), for re-checking after a merge")
    for name, value in defaults.items():
        flag = f"--{name.replace('_', '-')}"
        if isinstance(value, bool):
            parser.add_argument(flag, action="store_true", default=value)
        else:
            parser.add_argument(flag, type=type(value), default=value)
    return parser


def url(database: str) -> str:
    return f"{PG_HOST}/{database}"


async def _admin(*statements: str) -> None:
    conn = await asyncpg.connect(url("postgres"))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


async def database_exists(name: str) -> bool:
    conn = await asyncpg.connect(url("postgres"))
    try:
        return bool(await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name))
    finally:
        await conn.close()


def fresh_database(name: str) -> str:
    """Drop and recreate `name`, migrated to head; returns its URL."""
    from core import migrations

    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"))
    migrations.upgrade(url(name))
    return url(name)


def analyze(database_url: str) -> None:
    """ANALYZE, as autovacuum would have by now. Without fresh statistics the plans of the server's
    prepared statements, chosen while the tables were empty, stay as the tables grow (this machine's
    PostgreSQL runs with autovacuum off: a CI configuration)."""

    async def run() -> None:
        conn = await asyncpg.connect(database_url)
        try:
            await conn.execute("ANALYZE")
        finally:
            await conn.close()

    asyncio.run(run())


def drop_database(name: str) -> None:
    asyncio.run(_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))


def runtime(database_url: str, redis_url: str = REDIS_URL, data_dir: Path | None = None) -> Any:
    """A Runtime in this process, to seed data with the platform's own services."""
    from core.redis import create_redis
    from core.runtime import Runtime
    from core.settings import Settings, normalise_database_url

    settings = Settings(
        database_url=database_url, redis_url=redis_url, data_dir=data_dir or DATA_DIR, env="test", log_level="WARNING"
    )
    return Runtime.build(settings, normalise_database_url(database_url), create_redis(redis_url))


DATA_DIR = Path(tempfile.gettempdir()) / "croupier-bench"  # JWT keys shared by the seeding process and the server


@dataclass(frozen=True)
class Served:
    base: str  # http://127.0.0.1:<port>
    pid: int  # with one worker, the process that serves (to profile and to measure)


@contextmanager
def server(
    database_url: str, redis_url: str = REDIS_URL, *, workers: int = 1, checkout: Path = ROOT, **env: str
) -> Iterator[Served]:
    """`croupier serve` on a free port against the bench database; `checkout` runs another checkout's code
    (its own folder comes first on the module path), to compare two versions against the same data."""
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "ENV": "test",
        "LOG_LEVEL": "WARNING",
        "DATA_DIR": str(DATA_DIR),
        "REQUESTS_PER_MINUTE_PER_SUBJECT": "100000000",
        "REQUESTS_PER_MINUTE_PER_IP": "100000000",
        "RG_WORKER_INTERVAL_SECONDS": "3600",
        **env,
    }
    DATA_DIR.mkdir(exist_ok=True)
    log_file = DATA_DIR / f"server-{port}.log"
    process = processes.start_and_wait(
        [sys.executable, "-m", "cli", "serve", "--port", str(port), "--workers", str(workers)],
        health_url=f"{base}/readyz",
        cwd=checkout,
        env=environment,
        timeout=90,
        log_file=log_file,
    )
    try:
        yield Served(base, process.pid)
    finally:
        processes.stop(process)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


# ---- figures -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[rank]


@dataclass
class Latencies:
    """Milliseconds."""

    samples: list[float]

    def summary(self) -> str:
        return (
            f"p50 {percentile(self.samples, 50):6.1f}  p95 {percentile(self.samples, 95):6.1f}  "
            f"p99 {percentile(self.samples, 99):6.1f} ms"
        )


def machine(shared_note: str | None = None) -> list[str]:
    """What the figures were measured on (printed at the top of every benchmark)."""
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )

    async def versions() -> tuple[str, str, str]:
        conn = await asyncpg.connect(url("postgres"))
        try:
            return (
                str(await conn.fetchval("SHOW server_version")),
                str(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")),
                str(await conn.fetchval("SHOW autovacuum")),
            )
        finally:
            await conn.close()

    pg_version, connections, autovacuum = asyncio.run(versions())
    load = os.getloadavg()
    lines = [
        f"machine: {os.cpu_count()} cores, {cpu}; PostgreSQL {pg_version} (autovacuum {autovacuum}); "
        f"Python {platform.python_version()}",
        f"load average before the run: {load[0]:.2f} (1 min); other client connections to PostgreSQL: "
        f"{connections}" + (" — the machine is shared, figures are noisy" if load[0] > 0.5 else ""),
    ]
    if shared_note:
        lines.append(shared_note)
    return lines


def cpu_seconds() -> float:
    """CPU time this process (the load client) used so far: the load tool's own cost, printed beside it."""
    usage = os.times()
    return usage.user + usage.system


def heading(title: str) -> None:
    print(f"\n== {title} ==", flush=True)


def need(tool: str, how: str) -> str:
    found = shutil.which(tool)
    if not found:
        sys.exit(f"{tool} is not installed: {how}")
    return found


def elapsed(started: float) -> float:
    return time.perf_counter() - started


def process_cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of another process so far (/proc/<pid>/stat), with those of its exited
    children when asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of a process and its descendants (a server with several workers)."""
    total = process_cpu_seconds(pid)
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            try:
                total += tree_cpu_seconds(int(child))
            except OSError:  # the child exited meanwhile
                continue
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds of PostgreSQL on the machine so far (all databases: noisy when shared): its live processes
    plus, through the postmaster's children times, the backends that have exited (pgbench's, at its end)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() in ("postgres", "postmaster"):
                    total += process_cpu_seconds(int(entry.name), children=True)
            except OSError:
                continue
    return total


def backend_cpu_seconds(database: str) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database`, by pid. Subtract two of
    these (`backend_cpu_delta`) for the database's own share of PostgreSQL's CPU, untouched by other work
    on the machine; a backend that exits in between takes its time with it (pools keep theirs)."""

    async def pids() -> list[int]:
        conn = await asyncpg.connect(url("postgres"))
        try:
            return [row[0] for row in await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = $1", database)]
        finally:
            await conn.close()

    found: dict[int, float] = {}
    for pid in asyncio.run(pids()):
        try:
            found[pid] = process_cpu_seconds(pid)
        except OSError:  # exited meanwhile
            continue
    return found


def backend_cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """The CPU seconds the backends spent between two `backend_cpu_seconds` (a new backend from zero)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


# ---- a time-bounded HTTP load --------------------------------------------------------------------


@dataclass
class Run:
    """What a load client saw: how many requests, in how long, how fast each, and what it cost itself."""

    calls: int
    seconds: float
    latencies: Latencies
    statuses: dict[str, int]
    client_cpu: float
    server_cpu: float | None = None  # CPU seconds the serving process used meanwhile (when its pid was given)

    @property
    def rate(self) -> float:
        return self.calls / self.seconds

    @property
    def server_ms(self) -> float | None:
        """The server's CPU per request (per page for a page of several), in milliseconds."""
        return 1000 * self.server_cpu / self.calls if self.server_cpu is not None and self.calls else None

    def line(self, baseline: float | None = None) -> str:
        ratio = f"  ({self.rate / baseline:.2f}× the baseline)" if baseline else ""
        bad = {status: n for status, n in self.statuses.items() if status != "ok"}
        server = f"  server CPU {self.server_ms:5.2f} ms a request" if self.server_ms is not None else ""
        return (
            f"{self.rate:7.0f} req/s  {self.latencies.summary()}{ratio}{server}  client CPU "
            f"{100 * self.client_cpu / self.seconds:.0f}% of a core" + (f"  NOT OK: {bad}" if bad else "")
        )


Request = tuple[str, str, Any, dict[str, str]]  # method, path, JSON body (or None), headers


async def load(base: str, request: Any, *, clients: int, seconds: float, server_pid: int | None = None) -> Run:
    """`clients` concurrent loops sending `request(n)` for `seconds`: a Request, or a list of them sent at
    once (a page of several requests, timed as one); a GraphQL answer with `errors` counts as not ok.
    With `server_pid`, the serving process's CPU time over the run is measured too."""
    import aiohttp

    latencies: list[float] = []
    statuses: dict[str, int] = {}
    connector = aiohttp.TCPConnector(limit=clients * 16 + 1)
    async with aiohttp.ClientSession(base_url=base, connector=connector) as http:
        stop_at = time.perf_counter() + seconds

        async def send(method: str, path: str, body: Any, headers: dict[str, str]) -> str:
            async with http.request(method, path, json=body, headers=headers) as response:
                answer = await response.json()
            return (
                "ok"
                if response.status == 200 and not (isinstance(answer, dict) and answer.get("errors"))
                else str(answer.get("errors", [{}])[0].get("message", response.status))[:80]
            )

        async def client(number: int) -> None:
            n = number
            while time.perf_counter() < stop_at:
                sent = request(n)
                n += clients
                started = time.perf_counter()
                answers = await asyncio.gather(*(send(*r) for r in (sent if isinstance(sent, list) else [sent])))
                latencies.append((time.perf_counter() - started) * 1000)
                status = next((a for a in answers if a != "ok"), "ok")
                statuses[status] = statuses.get(status, 0) + 1

        served = process_cpu_seconds(server_pid) if server_pid else 0.0
        cpu, started = cpu_seconds(), time.perf_counter()
        await asyncio.gather(*(client(i) for i in range(clients)))
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
        server_cpu = process_cpu_seconds(server_pid) - served if server_pid else None
    return Run(len(latencies), wall, Latencies(latencies), statuses, cpu, server_cpu)
