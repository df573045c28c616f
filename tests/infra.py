"""Where the tests' PostgreSQL and Redis come from, one database and one Redis db per test process,
and the guards that keep a test run from hanging or leaking processes.

- PostgreSQL: the server on 127.0.0.1:5432 when it answers (or `CROUPIER_TEST_POSTGRES`, an admin
  URL), else an embedded one. Migrations run once per run into a template database
  (`<CROUPIER_TEST_DB>_template`); each test process clones it (`CREATE DATABASE … TEMPLATE …`): the
  serial run into `CROUPIER_TEST_DB`, xdist worker `gwN` into `<CROUPIER_TEST_DB>_gwN`.
- Redis: `CROUPIER_TEST_REDIS` (a server URL without db), else the server on 127.0.0.1:6379 when it
  answers, else an embedded one. Worker N uses db `CROUPIER_TEST_REDIS_DB + N` while that stays
  within 0..15, else `CROUPIER_TEST_REDIS_DB - N` (so 7 gives 7, 8, 9 and CI's 15 gives 15, 14, 13),
  or the Nth of `CROUPIER_TEST_REDIS_DBS` ("7,8,9").
- Pools: each test process and each server it starts keeps at most `POOL_SIZE + POOL_OVERFLOW`
  connections (`CONNECTIONS_PER_WORKER` in all), so the suite passes with few connections free.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import os
import signal
import socket
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")

# Overridable, so two test runs on one machine (two checkouts, CI beside a developer) do not collide.
TEST_DB = os.environ.get("CROUPIER_TEST_DB", "croupier_test")
TEST_REDIS_DB = int(os.environ.get("CROUPIER_TEST_REDIS_DB", "15"))
# A test run started by a test (tests/faults/test_killed_run.py) clones its caller's template, built already.
GIVEN_TEMPLATE = os.environ.get("CROUPIER_TEST_TEMPLATE", "")
TEMPLATE_DB = GIVEN_TEMPLATE or f"{TEST_DB}_template"
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … under pytest-xdist; "" otherwise
WORKER_INDEX = int(WORKER[2:]) if WORKER.startswith("gw") else 0
WORKER_COUNT = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
DATABASE = f"{TEST_DB}_{WORKER}" if WORKER else TEST_DB

# Database connections of one test process: its in-process app and the `croupier serve` it may start
# each keep POOL_SIZE and open up to POOL_OVERFLOW more in a burst; a few more for CLI subprocesses and
# the tests' own direct connections.
POOL_SIZE = 3
POOL_OVERFLOW = 5
CONNECTIONS_PER_WORKER = 2 * (POOL_SIZE + POOL_OVERFLOW) + 4
POOL_ENV = {"DATABASE_POOL_SIZE": str(POOL_SIZE), "DATABASE_MAX_OVERFLOW": str(POOL_OVERFLOW)}

# Every statement the test harness itself runs against the admin database is bounded.
ADMIN_TIMEOUT = 60

# Marks every process this test process starts, directly or not (a server a CLI daemonised): children
# inherit the environment. What still carries it when we exit is stopped (`stop_tagged_processes`).
PROCESS_TAG = f"croupier-test-{os.getpid()}-{uuid.uuid4().hex[:8]}"
os.environ["CROUPIER_TEST_PROCESS_TAG"] = PROCESS_TAG


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def admin_url(scratch: Path) -> str:
    """The admin URL of the PostgreSQL the tests use (started, when embedded, once per run: the xdist
    controller starts it and its workers find it in CROUPIER_TEST_POSTGRES)."""
    if os.environ.get("CROUPIER_TEST_POSTGRES"):
        return os.environ["CROUPIER_TEST_POSTGRES"]
    if answers("127.0.0.1", 5432):
        url = "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        from core.embedded import start_embedded_postgres

        url = start_embedded_postgres(scratch).replace("/croupier?", "/postgres?")
    os.environ["CROUPIER_TEST_POSTGRES"] = url
    return url


def database_url(admin: str, name: str) -> str:
    if "?" in admin:
        base, _, query = admin.partition("?")
        return base.rsplit("/", 1)[0] + f"/{name}?" + query
    return admin.rsplit("/", 1)[0] + f"/{name}"


def _admin(admin: str, *statements: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(admin, timeout=ADMIN_TIMEOUT, command_timeout=ADMIN_TIMEOUT)
        try:
            for statement in statements:
                await conn.execute(statement)
        finally:
            await conn.close(timeout=ADMIN_TIMEOUT)

    when_a_slot_is_free(lambda: asyncio.run(run()))


def when_a_slot_is_free(action: Callable[[], T]) -> T:
    """`action()`, retried while PostgreSQL refuses connections because it is full (other clients may
    hold them for a while), for up to ADMIN_TIMEOUT seconds."""
    deadline = time.monotonic() + ADMIN_TIMEOUT
    while True:
        try:
            return action()
        except Exception as error:
            if not _server_full(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def _server_full(error: BaseException | None) -> bool:
    while error is not None:
        if getattr(error, "sqlstate", None) == "53300" or "too many clients" in str(error):
            return True
        error = error.__cause__ or error.__context__
    return False


def build_template(admin: str) -> None:
    """The migrated template database (blocking). Migrating an empty database takes 10 to 35 s on the
    2-core machine, mostly PostgreSQL running the DDL of every revision, before any worker starts; so a
    template left by an earlier run is kept when it was migrated from the same schema sources
    (`schema_fingerprint`, kept as the database's comment, written once its migration succeeded).
    `CROUPIER_TEST_FRESH_TEMPLATE=1` migrates anew regardless. A test run started by a test
    (tests/faults/test_killed_run.py) builds none: it clones its caller's (`CROUPIER_TEST_TEMPLATE`).
    Migrations themselves are tested by tests/test_migrations.py, which walks every revision up and down
    on a database of its own."""
    if GIVEN_TEMPLATE:
        return
    fingerprint = schema_fingerprint()
    if not os.environ.get("CROUPIER_TEST_FRESH_TEMPLATE") and _comment_of(admin, TEMPLATE_DB) == fingerprint:
        return
    from core import migrations

    _admin(admin, f"DROP DATABASE IF EXISTS {TEMPLATE_DB} WITH (FORCE)", f"CREATE DATABASE {TEMPLATE_DB}")
    when_a_slot_is_free(lambda: migrations.upgrade(database_url(admin, TEMPLATE_DB)))
    _admin(admin, f"COMMENT ON DATABASE {TEMPLATE_DB} IS '{fingerprint}'")


# What the migrated schema depends on: the revisions, the pinned SQL they install, and the code that runs them.
SCHEMA_SOURCES = ("migrations", "sql", "core/migrations.py", "core/pinned_sql.py", "alembic.ini")


def schema_fingerprint() -> str:
    """A digest of every file the migrated schema is made from (names and contents)."""
    import hashlib

    root = Path(__file__).resolve().parent.parent
    digest = hashlib.sha256()
    for source in SCHEMA_SOURCES:
        path = root / source
        files = (
            sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            if path.is_dir()
            else [path]
        )
        for file in files:
            digest.update(str(file.relative_to(root)).encode() + b"\0" + file.read_bytes() + b"\0")
    return f"croupier-test-template {digest.hexdigest()}"


def _comment_of(admin: str, database: str) -> str | None:
    import asyncpg

    async def read() -> str | None:
        conn = await asyncpg.connect(admin, timeout=ADMIN_TIMEOUT, command_timeout=ADMIN_TIMEOUT)
        try:
            comment: str | None = await conn.fetchval(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = $1", database
            )
            return comment
        finally:
            await conn.close(timeout=ADMIN_TIMEOUT)

    return when_a_slot_is_free(lambda: asyncio.run(read()))


def clone_template(admin: str, name: str = DATABASE) -> str:
    """`name`, recreated as a copy of the template; its URL. Its commits do not wait for the WAL to reach
    the disk (`synchronous_commit = off`, for this database only): a test's data need not survive a
    crash of the machine's PostgreSQL, and a commit costs ~0.5 ms instead of 2 to 7 ms of fsync. The tests
    that kill PostgreSQL run their own cluster with the platform's settings (tests/faults)."""
    _admin(
        admin,
        f"DROP DATABASE IF EXISTS {name} WITH (FORCE)",
        f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}",
        f"ALTER DATABASE {name} SET synchronous_commit = off",
    )
    return database_url(admin, name)


def drop_database(admin: str, name: str) -> None:
    _admin(admin, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def redis_db() -> int:
    listed = os.environ.get("CROUPIER_TEST_REDIS_DBS")
    if listed:
        return int(listed.split(",")[WORKER_INDEX])
    if TEST_REDIS_DB + WORKER_COUNT - 1 <= 15:
        return TEST_REDIS_DB + WORKER_INDEX
    return TEST_REDIS_DB - WORKER_INDEX


def redis_url(scratch: Path) -> str:
    if os.environ.get("CROUPIER_TEST_REDIS"):  # a server of your own, say redis://127.0.0.1:6390
        return f"{os.environ['CROUPIER_TEST_REDIS'].rstrip('/')}/{redis_db()}"
    if answers("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{redis_db()}"
    from core.embedded import start_embedded_redis

    return start_embedded_redis(scratch)


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix=f"croupier-test-{WORKER or 'main'}-"))


def tagged(tag: str) -> list[int]:
    """The processes whose environment carries `tag` (Linux; none elsewhere)."""
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            environment = (entry / "environ").read_bytes()
        except OSError:
            continue
        if tag.encode() in environment:
            found.append(int(entry.name))
    return found


def stop_tagged_processes(*, grace: float = 5) -> None:
    """Stop every process but this one that still carries this process's tag: what the tests started and
    nothing stopped, such as the embedded Redis a `croupier` CLI subprocess left running, or, in an xdist
    controller stopped by a signal, its workers. SIGTERM first (a worker then stops what it started),
    SIGKILL after `grace` seconds."""
    tag = f"CROUPIER_TEST_PROCESS_TAG={PROCESS_TAG}"
    deadline = time.monotonic() + grace
    for sig in (signal.SIGTERM, signal.SIGKILL):
        left = [pid for pid in tagged(tag) if pid != os.getpid()]
        for pid in left:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        while left and sig == signal.SIGTERM and time.monotonic() < deadline:
            time.sleep(0.1)
            left = [pid for pid in tagged(tag) if pid != os.getpid()]


def arm_session_guard(seconds: float) -> None:
    """A last resort against a run that hangs where no per-test time-out reaches (a stuck teardown,
    a blocked import): after `seconds`, print every thread's stack, stop our child processes and exit."""
    from core import processes

    def expire() -> None:
        sys.stderr.write(f"\n\nthe test session ran over its {seconds:g} s guard; stacks of every thread:\n")
        faulthandler.dump_traceback(all_threads=True)
        processes.stop_all(grace=2)
        os._exit(3)

    guard = threading.Timer(seconds, expire)
    guard.daemon = True
    guard.name = "session-guard"
    guard.start()
