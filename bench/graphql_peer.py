"""Benchmark 7: our GraphQL reads beside PostGraphile 5's, on the same database and the same rows.

    .venv/bin/python -m bench.graphql_peer [--quick]

Two servers, one process each, on one database: `croupier serve` (one worker) and PostGraphile 5
(npm `postgraphile`, its Amber preset, production settings: no GraphiQL, no watch, no explain, no
subscriptions; the same PostgreSQL role and database; a pool of our pool's size; only the `brands` and
`games` tables exposed, read-only; configuration in bench/peer/graphile.config.mjs). The same queries,
each in both schemas' words:

- the brand list, `{ brands { code name } }` as the back office's superadmin sends it, against
  PostGraphile's `allBrands { nodes { code name } }`;
- one game by id, `game(id:)` as a logged-in player's frontend sends it, against `gameByRowId`.

wrk (Debian's `wrk`) sends each at 16 connections, two threads, its body and headers from
bench/peer/graphql.lua, for three interleaved repetitions (ours then theirs, theirs then ours, …).
Printed per run: requests/s, p50 and p99 latency, CPU per request of the server process and of
PostgreSQL (the backends connected to the bench database), from /proc, and wrk's own CPU; then, per
query, the medians and our ratio to PostGraphile beside the goal (issue 15: at least 0.5 times), and
the ratio of server CPU per request, which a shared machine disturbs less.

PostGraphile answers without authentication or per-field permissions; ours checks the JWT, the
viewer's roles and each field's permission, and applies the game's availability rules for the
player's brand, country and currency: part of what the ratio measures is what our answers guarantee.

PostGraphile 5 needs Node ≥ 22: bench/peer/package.json brings one (npm's `node` package) with
PostGraphile itself; the first run installs both into bench/peer/node_modules (`npm install`, ~500 MB).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
from sqlalchemy import text

from bench import common, world
from core import processes

CLIENTS = 16
THREADS = 2
REPS = 3
GOAL = 0.5  # issue 15: our requests/s at least half of PostGraphile's
BRANDS = 5  # the bench brand and four more: a small operator group
PEER = common.ROOT / "bench" / "peer"
NODE = PEER / "node_modules" / ".bin" / "node"
POSTGRAPHILE = PEER / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
SCRIPT = PEER / "graphql.lua"


@dataclass(frozen=True)
class Query:
    """One read, in our words and in PostGraphile's."""

    name: str
    ours: str  # GraphQL document
    ours_variables: dict[str, str]
    ours_headers: tuple[str, ...]  # "Name: value"
    theirs: str
    theirs_variables: dict[str, str]


def queries(staff_token: str, player_token: str, game_id: str) -> list[Query]:
    from strawberry import relay

    return [
        Query(
            "brands",
            "{ brands { code name } }",
            {},
            (f"Authorization: Bearer {staff_token}",),
            "{ allBrands { nodes { code name } } }",
            {},
        ),
        Query(
            "one game by id",
            "query Game($id: ID!) { game(id: $id) { id code title } }",
            {"id": str(relay.GlobalID("Game", game_id))},
            (f"Authorization: Bearer {player_token}",),
            "query Game($id: UUID!) { gameByRowId(rowId: $id) { id code title } }",
            {"id": game_id},
        ),
    ]


# ---- wrk ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Wrk:
    """What wrk printed for one run."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int  # socket errors, answers other than 200, answers with GraphQL errors
    why: str = ""  # the first failed answer, or the socket errors

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(value: str, unit: str) -> float:
    return float(value) * _UNITS_MS[unit]


def parse_wrk(output: str) -> Wrk:
    """wrk's report (run with `--latency` and bench/peer/graphql.lua) as figures; raises ValueError when
    a figure is missing (wrk failed, or another version prints differently)."""

    def find(pattern: str) -> re.Match[str]:
        found = re.search(pattern, output, re.MULTILINE)
        if found is None:
            raise ValueError(f"wrk's output has no {pattern!r}:\n{output}")
        return found

    total = find(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m),")
    p50 = find(r"^\s*50(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$")
    p99 = find(r"^\s*99(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\s*$")
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    graphql = find(r"^graphql errors: (\d+)$")
    first = re.search(r"^first error: (.*)$", output, re.MULTILINE)
    # The script counts every answer that is not a 200 (wrk's "Non-2xx" line counts them again).
    failed = (sum(int(n) for n in socket.groups()) if socket else 0) + int(graphql.group(1))
    return Wrk(
        requests=int(total.group(1)),
        seconds=_ms(total.group(2), total.group(3)) / 1000,
        p50_ms=_ms(*p50.groups()),
        p99_ms=_ms(*p99.groups()),
        failed=failed,
        why="; ".join(found.group(0).strip() for found in (first, socket) if found is not None),
    )


def wrk(url: str, body: str, headers: tuple[str, ...], seconds: float) -> tuple[Wrk, float]:
    """One wrk run; its figures and its own CPU seconds."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            "wrk",
            f"-t{THREADS}",
            f"-c{CLIENTS}",
            f"-d{seconds:g}s",
            "--latency",
            "-s",
            str(SCRIPT),
            url,
            "--",
            body,
            *headers,
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return parse_wrk(done.stdout), cpu


# ---- PostGraphile ---------------------------------------------------------------------------------


def peer_ready() -> str:
    """PostGraphile and its Node in bench/peer/node_modules (installed on the first run); Node's version."""
    common.need("wrk", "apt-get install wrk (Debian's package; the load tool of this benchmark)")
    lock = PEER / "package-lock.json"
    installed = PEER / "node_modules" / ".package-lock.json"  # npm writes it after every install
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime or not POSTGRAPHILE.exists():
        common.need("npm", "apt-get install npm (Debian): it installs PostGraphile and a Node 22 into bench/peer")
        print("installing PostGraphile 5 and Node 22 into bench/peer/node_modules (npm install, once) …", flush=True)
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=PEER, check=True)
    try:
        version = subprocess.run([str(NODE), "--version"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError) as error:
        raise SystemExit(
            f"no Node in {NODE} ({error}): npm's `node` package installs it with its install script; "
            "if npm skipped the script, allow it (`npm install-scripts approve node` in bench/peer) and rerun"
        ) from error
    if int(version.lstrip("v").split(".")[0]) < 22:
        raise SystemExit(f"{NODE} is Node {version}; PostGraphile 5 needs 22 or later")
    return version


def answers(base: str) -> bool:
    try:
        return httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def postgraphile_version() -> str:
    return str(json.loads((PEER / "node_modules" / "postgraphile" / "package.json").read_text())["version"])


@contextmanager
def postgraphile(database_url: str, pool: int) -> Iterator[common.Served]:
    """PostGraphile's own CLI with bench/peer/graphile.config.mjs, on a free port."""
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "PEER_DATABASE_URL": database_url,
        "PEER_PORT": str(port),
        "PEER_POOL_SIZE": str(pool),
        "NODE_ENV": "production",
        "GRAPHILE_ENV": "production",
    }
    common.DATA_DIR.mkdir(exist_ok=True)
    process = processes.spawn(
        [str(NODE), str(POSTGRAPHILE), "-C", str(PEER / "graphile.config.mjs")],
        cwd=PEER,
        env=environment,
        log_file=common.DATA_DIR / f"postgraphile-{port}.log",
    )
    deadline = time.monotonic() + 120
    while not answers(base):  # PostGraphile takes POSTs only: start_and_wait's GET cannot tell
        if process.poll() is not None or time.monotonic() > deadline:
            processes.stop(process)
            log = processes.log_tail(process)
            raise SystemExit(f"PostGraphile did not start (exit code {process.returncode}):\n{log}")
        time.sleep(0.2)
    try:
        yield common.Served(base, process.pid)
    finally:
        processes.stop(process)


# ---- the run --------------------------------------------------------------------------------------


Request = tuple[str, dict[str, str], tuple[str, ...]]  # document, variables, headers


def our_request(query: Query) -> Request:
    return query.ours, query.ours_variables, query.ours_headers


def their_request(query: Query) -> Request:
    return query.theirs, query.theirs_variables, ()


@dataclass(frozen=True)
class Seeded:
    staff_token: str
    player_token: str
    game_id: str


async def seed(database_url: str) -> Seeded:
    """The bench world (one brand, 120 games, a few players), four more brands, and the two tokens."""
    from services import brands

    rt = common.runtime(database_url)
    try:
        place = await world.build(rt, players=20, balance=100_00, games=120)
        async with rt.database.transaction() as db:
            for n in range(2, BRANDS + 1):
                await brands.create_brand(
                    db,
                    code=f"bench{n}",
                    name=f"Bench Casino {n}",
                    default_currency=world.CURRENCY,
                    currencies=[world.CURRENCY],
                    countries=["MT"],
                )
        [player_token] = await world.player_tokens(rt, place, place.seats[:1])
        staff_token = await world.superadmin_token(rt)
        async with rt.database.transaction() as db:
            game_id = (
                await db.execute(text("SELECT id FROM games WHERE code = :c"), {"c": f"{world.GAME}-7"})
            ).scalar_one()
        return Seeded(staff_token, player_token, str(game_id))
    finally:
        await rt.close()


def check(base: str, document: str, variables: dict[str, str], headers: tuple[str, ...]) -> int:
    """Send the request once; its answer's size in bytes (exit when it has errors: the load would measure
    them)."""
    response = httpx.post(
        f"{base}/graphql",
        json={"query": document, "variables": variables},
        headers=dict(h.split(": ", 1) for h in headers),
        timeout=30,
    )
    answer = response.json()
    if answer.get("errors") or not answer.get("data") or None in answer["data"].values():
        raise SystemExit(f"{base}: {document} answered {answer}")
    return len(response.content)


@dataclass(frozen=True)
class Run:
    """One wrk run against one server, and what it cost."""

    wrk: Wrk
    server_ms: float  # the server process's CPU per request (all its threads)
    postgres_ms: float  # PostgreSQL CPU per request: the backends connected to the bench database
    wrk_share: float  # wrk's own CPU, share of one core

    @property
    def rate(self) -> float:
        return self.wrk.rate

    @property
    def p50_ms(self) -> float:
        return self.wrk.p50_ms

    def line(self, rep: int, server: str) -> str:
        failed = f"  FAILED: {self.wrk.failed} ({self.wrk.why})" if self.wrk.failed else ""
        return (
            f"{rep:>3}  {server:<14}{self.rate:8.0f}  {self.wrk.p50_ms:8.1f}  {self.wrk.p99_ms:8.1f}  "
            f"{self.server_ms:10.2f}  {self.postgres_ms:14.2f}  {100 * self.wrk_share:6.0f}%{failed}"
        )


HEADER = (
    f"rep  {'server':<14}{'req/s':>8}  {'p50 ms':>8}  {'p99 ms':>8}  {'CPU ms/req':>10}  {'PostgreSQL ms':>14}  wrk CPU"
)


def run_once(
    served: common.Served, document: str, variables: dict[str, str], headers: tuple[str, ...], seconds: float
) -> Run:
    body = json.dumps({"query": document, "variables": variables})
    server, backends = common.process_cpu_seconds(served.pid), common.backend_cpu_seconds(common.BENCH_DB)
    figures, wrk_cpu = wrk(f"{served.base}/graphql", body, headers, seconds)
    server = common.process_cpu_seconds(served.pid) - server
    postgres = common.backend_cpu_delta(backends, common.backend_cpu_seconds(common.BENCH_DB))
    requests = max(figures.requests, 1)
    return Run(figures, server * 1000 / requests, postgres * 1000 / requests, wrk_cpu / figures.seconds)


def main() -> None:
    args = common.arguments(__doc__ or "").parse_args()
    seconds = 5 if args.quick else 20
    node = peer_ready()
    print("\n".join(common.machine()))
    from core.settings import Settings

    pool = int(Settings.model_fields["database_pool_size"].default)
    print(
        f"PostGraphile {postgraphile_version()} on Node {node} (one process, pool {pool}); croupier serve, one "
        f"worker (pool {pool} + overflow); wrk {CLIENTS} connections, {THREADS} threads, {seconds} s a run, "
        f"{REPS} interleaved repetitions"
    )
    database_url = common.fresh_database(common.BENCH_DB)
    seeded = asyncio.run(seed(database_url))
    common.analyze(database_url)
    plan = queries(seeded.staff_token, seeded.player_token, seeded.game_id)
    results: dict[tuple[str, str], list[Run]] = {}
    with common.server(database_url) as ours, postgraphile(database_url, pool) as theirs:
        sides = {"croupier": (ours, our_request), "PostGraphile": (theirs, their_request)}
        for query in plan:
            for server, (served, words) in sides.items():
                size = check(served.base, *words(query))
                print(f"{query.name + ', ' + server + ':':<30} {words(query)[0]}  ({size} bytes of answer)")
                run_once(served, *words(query), seconds=2)  # warm-up: caches, JIT, the pools' connections
        for query in plan:
            common.heading(f"{query.name} ({CLIENTS} connections)")
            print(HEADER)
            for rep in range(1, REPS + 1):
                order = list(sides) if rep % 2 else list(reversed(sides))
                for server in order:
                    served, words = sides[server]
                    run = run_once(served, *words(query), seconds=seconds)
                    results.setdefault((query.name, server), []).append(run)
                    print(run.line(rep, server), flush=True)
    summary(plan, results)


def median(runs: list[Run], figure: str) -> float:
    return float(statistics.median(getattr(run, figure) for run in runs))


def summary(plan: list[Query], results: dict[tuple[str, str], list[Run]]) -> None:
    """Per query: medians of the repetitions, our ratio (the median of each repetition's ratio, ours and
    theirs measured back to back) and the goal; and the ratio the server CPU per request gives, which a
    shared machine disturbs less than requests/s."""
    common.heading("our ratio to PostGraphile (medians of the repetitions)")
    print(
        f"{'query':<16}{'croupier':>10}{'PostGraphile':>14}{'ratio':>8}{'goal':>8}  met?  "
        f"{'p50 ms ours / theirs':>22}  {'server CPU ms a request':>24}  ratio by CPU  PostgreSQL CPU ms"
    )
    for query in plan:
        ours, theirs = results[(query.name, "croupier")], results[(query.name, "PostGraphile")]
        ratio = statistics.median(a.rate / b.rate for a, b in zip(ours, theirs, strict=True))
        our_cpu, their_cpu = median(ours, "server_ms"), median(theirs, "server_ms")
        print(
            f"{query.name:<16}{median(ours, 'rate'):>6.0f} r/s{median(theirs, 'rate'):>10.0f} r/s{ratio:>7.3f}×"
            f"{'≥ ' + str(GOAL) + '×':>8}  {'yes' if ratio >= GOAL else 'no':<4}  "
            f"{median(ours, 'p50_ms'):>10.1f} / {median(theirs, 'p50_ms'):<9.1f}  "
            f"{our_cpu:>11.2f} / {their_cpu:<10.2f}  {their_cpu / our_cpu:>11.3f}×  "
            f"{median(ours, 'postgres_ms'):>6.2f} / {median(theirs, 'postgres_ms'):.2f}"
        )
    print(
        "(CPU from /proc: each server process's own; PostgreSQL's, the backends connected to the bench "
        "database — both servers' pools, the idle one's adding next to nothing)"
    )
    failed = sum(run.wrk.failed for runs in results.values() for run in runs)
    if failed:
        print(f"\n{failed} requests failed (see FAILED above): these figures do not stand")


if __name__ == "__main__":
    main()
