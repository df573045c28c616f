"""What one wallet call costs, measured in one process with no load around it: the server's CPU per call,
PostgreSQL's CPU per call, and the statements and round trips each call makes.

    BENCH_DB=croupier_bench_wallet BENCH_REDIS=redis://127.0.0.1:6379/1 .venv/bin/python -m bench.wallet_calls

Signed Hub88 calls (a bet, then its round's win) go through the whole ASGI application — middleware, the
route, the signature check, parsing, the wallet service, commit — called directly, with no HTTP client or
socket around it, one after another. So the figures are the path's own, and they hold on a machine shared
with other work (bench.wallet's calls per second do not: they measure the machine). Per call:
- server CPU: this process's CPU time (`time.process_time`) over the calls, divided by their number (the
  statements and round trips are counted on further calls, as counting costs CPU of its own);
- PostgreSQL CPU: the CPU time of the backends serving this process (read from /proc), likewise;
- statements: what the SQLAlchemy engine executes (what the tests' `recorded_statements` count);
- round trips: every query asyncpg sends (statements, BEGIN, COMMIT, ROLLBACK, the pool's pre-pings), not
  counting the preparation of a statement the connection has not seen yet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
import uuid
from collections import Counter
from typing import Any

from sqlalchemy import event

from bench import common, profile, world

BALANCE = 1_000_000_00


class Asgi:
    """Calls an ASGI application directly: one request, its whole response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def post(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": b"",
            "root_path": "",
            "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]
            + [(b"content-length", str(len(raw)).encode()), (b"host", b"bench")],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
        }
        sent = False

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if sent:
                await asyncio.sleep(3600)
            sent = True
            return {"type": "http.request", "body": raw, "more_body": False}

        status = 0
        body = bytearray()

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, send)
        return status, bytes(body)


class Counters:
    """Statements the engine runs and queries asyncpg sends, while `counting` (off while CPU is timed: the
    counting costs CPU of its own). The connections are collected all along, for their backends' CPU."""

    def __init__(self, rt: Any) -> None:
        self.statements = 0
        self.round_trips = 0
        self.kinds: Counter[str] = Counter()
        self.engine = rt.database.engine.sync_engine
        self.connections: list[Any] = []
        self.on = False
        event.listen(self.engine, "connect", self._connected)
        # Prepared statements run through PreparedStatement, which asyncpg's query loggers do not see.
        from asyncpg.prepared_stmt import PreparedStatement

        self._prepared = PreparedStatement
        self._bind_execute = PreparedStatement._PreparedStatement__bind_execute  # type: ignore[attr-defined]
        counters, bind_execute = self, self._bind_execute

        async def counted(statement: Any, *args: Any) -> Any:
            counters.round_trips += 1
            counters.kinds[" ".join(statement.get_query().split())[:60]] += 1
            return await bind_execute(statement, *args)

        self._counted = counted

    def counting(self, on: bool) -> None:
        if on == self.on:
            return
        self.on = on
        if on:
            event.listen(self.engine, "before_cursor_execute", self._statement)
            self._prepared._PreparedStatement__bind_execute = self._counted  # type: ignore[attr-defined]
        else:
            event.remove(self.engine, "before_cursor_execute", self._statement)
            self._prepared._PreparedStatement__bind_execute = self._bind_execute  # type: ignore[attr-defined]
        for driver in self.connections:
            (driver.add_query_logger if on else driver.remove_query_logger)(self._query)

    def _statement(self, *args: Any) -> None:
        self.statements += 1

    def _connected(self, dbapi_connection: Any, record: Any) -> None:
        driver = dbapi_connection.driver_connection
        if self.on:
            driver.add_query_logger(self._query)
        self.connections.append(driver)

    def _query(self, record: Any) -> None:
        self.round_trips += 1
        self.kinds[" ".join(record.query.split())[:60]] += 1

    def backend_pids(self) -> list[int]:
        return [c.get_server_pid() for c in self.connections if not c.is_closed()]


class Pipeline:
    """The outbox relay and every consumer of `croupier serve` (server._event_pipeline), on this loop: with
    `--pipeline` their CPU counts too, the server process's and that of every backend of the bench database."""

    def __init__(self, rt: Any, task: asyncio.Task[None], conn: Any) -> None:
        self.rt, self.task, self.conn = rt, task, conn

    @classmethod
    async def start(cls, rt: Any) -> Pipeline:
        import asyncpg

        from core.outbox import asyncpg_dsn
        from server import _event_pipeline

        dsn = asyncpg_dsn(rt.settings.database_url or "")
        database_url, redis_url = rt.settings.database_url or "", rt.settings.redis_url or ""
        task = asyncio.create_task(_event_pipeline(rt.settings, database_url, redis_url))
        return cls(rt, task, await asyncpg.connect(dsn))

    async def backend_pids(self) -> list[int]:
        """Every client backend of the bench database but this watcher's own."""
        rows = await self.conn.fetch(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid()"
        )
        return [row["pid"] for row in rows]

    async def counts(self) -> tuple[int, int]:
        """Transactions committed in the bench database, and rows ever inserted into `consumer_processed`."""
        row = await self.conn.fetchrow(
            "SELECT (SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()) AS commits, "
            "(SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'consumer_processed') AS recorded"
        )
        return int(row["commits"] or 0), int(row["recorded"] or 0)

    async def settled(self, seconds: float = 300.0) -> None:
        """Until every event is published and every consumer has processed it (at most `seconds`)."""
        from services import consumers

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            unpublished = await self.conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")
            behind = sum(s.behind for s in await consumers.status(self.conn, self.rt.settings) if s.configured)
            if unpublished == 0 and behind == 0:
                return
            await asyncio.sleep(0.2)
        raise TimeoutError("the event pipeline did not catch up")

    async def stop(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await self.task
        await self.conn.close()


def backends_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += common.process_cpu_seconds(pid)
        except OSError:
            continue
    return total


async def measure(
    database_url: str,
    calls: int,
    warmup: int,
    profile_as: str | None = None,
    clients: int = 1,
    players: int = 20,
    pg_profile: str | None = None,
    pipeline: bool = False,
) -> dict[str, float]:
    from server import create_app

    rt = common.runtime(database_url)
    counters = Counters(rt)
    app = create_app(rt.settings)
    app.state.rt = rt
    client = Asgi(app)
    try:
        played = await world.build(rt, players=players, balance=BALANCE)
        await asyncio.to_thread(common.analyze, database_url)
        seats = played.seats

        def pair(n: int) -> list[world.Signed]:
            seat = seats[n % len(seats)]
            bet_tx, round_ref = str(uuid.uuid4()), f"r-{uuid.uuid4().hex[:12]}"
            bet = world.signed(played.key, "transaction/bet", world.bet(seat, 100, tx=bet_tx, round_ref=round_ref))
            amount = 200 if n % 3 == 0 else 0
            won = world.win(seat, amount, tx=str(uuid.uuid4()), reference=bet_tx, round_ref=round_ref)
            return [bet, world.signed(played.key, "transaction/win", won)]

        counted_calls = min(400, calls)
        script = [call for n in range(warmup + (calls + counted_calls) // 2) for call in pair(n)]
        warm, timed, counted = (
            script[: 2 * warmup],
            script[2 * warmup : 2 * warmup + calls],
            script[2 * warmup + calls :],
        )
        statuses: Counter[str] = Counter()

        async def lane(batch: list[world.Signed]) -> None:
            for call in batch:
                status, body = await client.post(world.path(call.endpoint), call.raw, call.headers)
                statuses["RS_OK" if b'"RS_OK"' in body else f"{status} {body[:80]!r}"] += 1

        async def play(batch: list[world.Signed]) -> None:
            # `clients` callers at once, each its share of the (bet, win) pairs in order
            pairs = [batch[i : i + 2] for i in range(0, len(batch), 2)]
            await asyncio.gather(*(lane([c for p in pairs[k::clients] for c in p]) for k in range(clients)))

        events = await Pipeline.start(rt) if pipeline else None
        await play(warm)
        statuses.clear()
        if events is not None:
            await events.settled()

        async def backend_pids() -> list[int]:
            return await events.backend_pids() if events is not None else counters.backend_pids()

        before = {pid: common.process_cpu_seconds(pid) for pid in await backend_pids()}
        counts_before = await events.counts() if events is not None else (0, 0)
        commits = recorded = 0
        with contextlib.ExitStack() as stack:
            if profile_as is not None:  # sampling this process while the timed calls run
                stack.enter_context(profile.recording(os.getpid(), profile_as, seconds=max(5, calls // 200)))
            if pg_profile is not None:  # and the backends serving it (perf's cpu-clock: no hardware counters needed)
                stack.enter_context(profile.perf_recording(counters.backend_pids(), pg_profile))
            cpu_before, started = time.process_time(), time.perf_counter()
            await play(timed)
            wall = time.perf_counter() - started
            if events is not None:  # the relay's and the consumers' work for these calls, done
                await events.settled()
                await asyncio.sleep(1.5)  # the backends report their counts at most once a second
                after = await events.counts()
                commits, recorded = after[0] - counts_before[0], after[1] - counts_before[1]
            cpu = time.process_time() - cpu_before
            pids = await backend_pids()  # a backend opened meanwhile counts from zero
            pg = backends_cpu(pids) - sum(before.get(pid, 0.0) for pid in pids)
        n = len(timed)
        if events is not None:
            await events.stop()
        counters.counting(True)
        await play(counted)
        counters.counting(False)
        assert set(statuses) == {"RS_OK"}, statuses
        statements, trips = counters.statements / len(counted), counters.round_trips / len(counted)
        kinds = {query: count / len(counted) for query, count in counters.kinds.most_common(20)}
        async with rt.database.session() as db:
            from services import ledger

            verification = await ledger.verify(db)
        sizes = list(rt.wallet_batcher.sent) if rt.wallet_batcher is not None else [1]
        return {
            "calls": n,
            "batch": sum(sizes) / len(sizes),
            "server_cpu_ms": 1000 * cpu / n,
            "postgres_cpu_ms": 1000 * pg / n,
            "wall_ms": 1000 * wall / n,
            "commits": commits / n if events is not None else float("nan"),
            "recorded": recorded / n if events is not None else float("nan"),
            "statements": statements,
            "round_trips": trips,
            "ledger_ok": float(verification.ok),
            "kinds": kinds,  # type: ignore[dict-item]
        }
    finally:
        await rt.close()


def main() -> None:
    parser = common.arguments(
        __doc__ or "",
        calls=2000,
        warmup=200,
        reps=3,
        clients=1,
        players=20,
        show=False,
        profile=False,
        pg_profile="",
        pipeline=False,
    )
    args = parser.parse_args()
    database_url = common.fresh_database(common.BENCH_DB)
    for rep in range(args.reps):
        name = f"wallet_calls-{rep + 1}" if args.profile else None
        pg_name = f"{args.pg_profile}-{rep + 1}" if args.pg_profile else None
        figures = asyncio.run(
            measure(database_url, args.calls, args.warmup, name, args.clients, args.players, pg_name, args.pipeline)
        )
        kinds = figures.pop("kinds")
        print(
            f"rep {rep + 1}: {int(figures['calls'])} calls (bet, win): server CPU {figures['server_cpu_ms']:.2f} ms, "
            f"PostgreSQL CPU {figures['postgres_cpu_ms']:.2f} ms, statements {figures['statements']:.2f}, "
            f"round trips {figures['round_trips']:.2f} a call; {figures['wall_ms']:.2f} ms wall a call "
            f"({1000 / figures['wall_ms']:.0f} calls/s, {args.clients} at once; batches of {figures['batch']:.1f}); "
            + (
                f"database commits {figures['commits']:.2f}, consumer_processed rows {figures['recorded']:.2f} a call; "
                if args.pipeline
                else ""
            )
            + f"ledger verify {'clean' if figures['ledger_ok'] else 'NOT CLEAN'}",
            flush=True,
        )
        if args.show:
            for query, count in kinds.items():  # type: ignore[attr-defined]
                print(f"    {count:5.2f}  {query}")
        if pg_name is not None:
            print("\n".join(profile.perf_summary(pg_name)))
        if name is not None:
            print("\n".join(profile.summary(profile.ROOT / "bench" / "profiles" / f"{name}.txt", top=25)))


if __name__ == "__main__":
    main()
