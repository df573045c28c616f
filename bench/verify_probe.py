"""One `croupier ledger verify --incremental` of the checkout it is imported from, measured statement by
statement and rolled back at its end (so the same checkpoint and the same day can be verified again, by this
checkout or another): run by `bench.verify_steps` in each checkout as a child process,

    DATABASE_URL=… python -m bench.verify_probe [--explain]

It prints one JSON object: the seconds inside the run, PostgreSQL's CPU seconds for it (every backend of
the database, from /proc), and per statement its wall and backend CPU milliseconds (with `--explain`, the
plan of each statement, EXPLAIN (ANALYZE, BUFFERS), which runs it). Only SQLAlchemy's `AsyncConnection` is
patched, so it measures any version of services/ledger_verify."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

from bench.common import backend_cpu_delta, backend_cpu_seconds, process_cpu_seconds

_EXPLAINABLE = ("SELECT", "WITH", "CREATE TEMP TABLE", "INSERT", "UPDATE", "DELETE")


async def probe(explain: bool) -> dict[str, Any]:
    from core.db import Database
    from core.settings import normalise_database_url
    from services import ledger_verify

    steps: list[dict[str, Any]] = []
    pids: dict[int, int] = {}
    execute, commit = AsyncConnection.execute, AsyncConnection.commit

    async def backend(conn: AsyncConnection) -> int:
        key = id(await conn.get_raw_connection())
        if key not in pids:
            pids[key] = (await conn.get_raw_connection()).driver_connection.get_server_pid()
        return pids[key]

    async def measured(self: AsyncConnection, statement: Any, *args: Any, **kwargs: Any) -> Any:
        sql = " ".join(str(statement).split())
        pid = await backend(self)
        plan = None
        if explain and sql.upper().startswith(_EXPLAINABLE) and "set_config" not in sql and "RETURNING" not in sql:
            if sql.upper().startswith(("SELECT", "WITH")) and " UPDATE " not in sql and " INSERT " not in sql:
                # A read: its plan, then the read itself (the run needs its rows).
                rows = await execute(self, text(f"EXPLAIN (ANALYZE, BUFFERS) {statement}"), *args, **kwargs)
                plan = "\n".join(row[0] for row in rows)
            else:  # a write or CREATE … AS: EXPLAIN ANALYZE runs it, once
                cpu, started = process_cpu_seconds(pid), time.perf_counter()
                rows = await execute(self, text(f"EXPLAIN (ANALYZE, BUFFERS) {statement}"), *args, **kwargs)
                steps.append(
                    {
                        "sql": sql[:160],
                        "ms": round((time.perf_counter() - started) * 1000),
                        "cpu_ms": round((process_cpu_seconds(pid) - cpu) * 1000),
                        "plan": "\n".join(row[0] for row in rows),
                    }
                )
                return rows
        cpu, started = process_cpu_seconds(pid), time.perf_counter()
        result = await execute(self, statement, *args, **kwargs)
        steps.append(
            {
                "sql": sql[:160],
                "ms": round((time.perf_counter() - started) * 1000),
                "cpu_ms": round((process_cpu_seconds(pid) - cpu) * 1000),
                **({"plan": plan} if plan else {}),
            }
        )
        return result

    async def rolled_back(self: AsyncConnection) -> None:
        """The run's commit (a clean run's checkpoint and balances): rolled back instead."""
        await self.rollback()

    AsyncConnection.execute = measured  # type: ignore[method-assign]
    AsyncConnection.commit = rolled_back  # type: ignore[method-assign]
    database = Database(normalise_database_url(os.environ["DATABASE_URL"]), pool_size=4)
    name = database.engine.url.database or ""
    try:
        before = await asyncio.to_thread(backend_cpu_seconds, name)
        started = time.perf_counter()
        result = await ledger_verify.verify_books(database, full=False)
        seconds = time.perf_counter() - started
        after = await asyncio.to_thread(backend_cpu_seconds, name)
    finally:
        AsyncConnection.execute, AsyncConnection.commit = execute, commit  # type: ignore[method-assign]
        await database.dispose()
    return {
        "mode": result.mode,
        "ok": result.ok,
        "postings": result.postings,
        "transactions": result.transactions,
        "seconds": round(seconds, 3),
        "postgres_cpu": round(backend_cpu_delta(before, after), 3),
        "load": round(os.getloadavg()[0], 2),
        "steps": steps,
    }


if __name__ == "__main__":
    print(json.dumps(asyncio.run(probe("--explain" in sys.argv))))
