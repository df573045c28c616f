"""Test fixtures: a real PostgreSQL and Redis, a clean state per test, GraphQL helpers and factories."""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core import processes
from tests import infra, warm

ROOT = Path(__file__).resolve().parent.parent
SCRATCH = infra.scratch_dir()
ADMIN_URL = infra.admin_url(SCRATCH)
DATABASE_URL = infra.database_url(ADMIN_URL, infra.DATABASE)  # created from the template in pytest_configure
REDIS_URL = infra.redis_url(SCRATCH)
DEMO_PSP_PORT = processes.free_port()
DEMO_IDV_PORT = processes.free_port()
DEMO_PRAGMATIC_SECRET = "test-demo-pragmatic-secret"
TEST_ENV = {
    "PSP_BASE_URL": f"http://127.0.0.1:{DEMO_PSP_PORT}",  # the demo PSP (fixture `demo_psp`)
    "PSP_TIMEOUT_SECONDS": "2",
    "IDV_BASE_URL": f"http://127.0.0.1:{DEMO_IDV_PORT}",  # the demo IDV provider (fixture `demo_idv`)
    "IDV_TIMEOUT_SECONDS": "2",
    "ENV": "test",
    "DATABASE_URL": DATABASE_URL,
    "REDIS_URL": REDIS_URL,
    "DATA_DIR": str(SCRATCH / "data"),
    "LOG_LEVEL": "WARNING",
    # Tests run each step of the RG and bonus workers themselves, at the moment they choose: the server's
    # own loops would act on the shared, movable test clock at random moments (ending a session whose
    # limit a test has just spent, expiring a bonus it is about to play).
    "RG_WORKER_INTERVAL_SECONDS": "3600",
    "BONUS_WORKER_INTERVAL_SECONDS": "3600",
    "TOURNAMENT_TICK_SECONDS": "3600",  # tests tick tournaments themselves (`croupier tournaments tick`)
    "AFFILIATE_FRAUD_INTERVAL_SECONDS": "3600",  # tests sweep affiliate sub-ids themselves
    "CRYPTO_HELD_SWEEP_SECONDS": "3600",  # tests sweep held crypto deposits themselves (tests/crypto/test_sweeper.py)
    "CATALOGUE_SYNC_INTERVAL_SECONDS": "86400",  # tests sync game lists themselves (`croupier providers sync`)
    # Likewise the consumers of the event stream: tests drive them (tests/events), so none runs in the app.
    "EVENT_CONSUMERS": "false",
    **infra.POOL_ENV,  # small pools: the suite passes while other clients hold most connections
    # Cheap password hashes: at the default cost (64 MiB, 3 passes: 175 ms of CPU) the suite's thousands
    # of registrations and logins spent minutes hashing. Production refuses this (test_security_defaults).
    "ARGON2_TIME_COST": "1",
    "ARGON2_MEMORY_KIB": "1024",
    "ARGON2_PARALLELISM": "1",
    "VALIDATE_EVENTS": "true",  # every event a test causes is checked against its published schema
    # The demo provider's Pragmatic Play games (integrations/demo/provider/pragmatic.py) hash with this key, which
    # the live server holds under the provider's code: the two processes speak the protocol for real.
    "DEMO_PRAGMATIC_SECRET": DEMO_PRAGMATIC_SECRET,
    "PROVIDER_SECRETS": json.dumps({"demo-pragmatic": DEMO_PRAGMATIC_SECRET}),
}
os.environ.update(TEST_ENV)

from core.clock import clock  # noqa: E402  (after the environment is set)
from core.settings import Settings, get_settings  # noqa: E402

# A run that hangs anyway is stopped: stacks printed, child processes stopped (seconds; 0 disables).
SESSION_GUARD_SECONDS = float(os.environ.get("CROUPIER_TEST_SESSION_GUARD", "2400"))


def pytest_configure(config: pytest.Config) -> None:
    """Before any test: child processes stopped on every exit, the session guard armed, and this
    process's database cloned from the template (which the xdist controller, or a serial run, builds)."""
    processes.stop_children_on_exit()
    processes.on_exit(infra.stop_tagged_processes)
    if os.environ.get("CROUPIER_TEST_WORKER_TIMES") and not hasattr(config, "workerinput"):
        from tests import worker_times  # where each worker spent the run (docs/testing.md)

        if not config.pluginmanager.is_registered(worker_times):
            config.pluginmanager.register(worker_times, "worker_times")
    if SESSION_GUARD_SECONDS:
        infra.arm_session_guard(SESSION_GUARD_SECONDS)
    controller = getattr(config.option, "dist", "no") != "no" and not hasattr(config, "workerinput")
    if not infra.WORKER:
        warming = warm.start(config)  # the bytecode of the run's processes, while PostgreSQL migrates
        infra.build_template(ADMIN_URL)
        warming.join()
    if not controller:
        infra.clone_template(ADMIN_URL)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """A passing run removes its scratch folder (helper logs, keys, an embedded server's data) once its
    processes have stopped; a failing one keeps it for the post-mortem."""
    if exitstatus == 0:
        processes.on_exit(lambda: shutil.rmtree(SCRATCH, ignore_errors=True))


# Under `--dist loadgroup` (scripts/test.sh), the tests of these folders share one worker, where their
# costly, stateful session fixtures start once: the fault tests' private PostgreSQL cluster and Redis,
# the browser tests' Chromium (the back office's, the partner portal's). Everything else is spread test by
# test, the fault tests that need no private server too (the group is a third of the suite's time on one
# worker: it ends the run if it can).
XDIST_GROUPS = ("tests/faults/", "tests/backoffice/browser/", "tests/affiliate_portal/test_portal_screens.py")
UNGROUPED = (
    "tests/faults/test_killed_run.py",
    "tests/faults/test_chatty_server.py",
    "tests/faults/test_cleanup_lock.py",
    "tests/faults/test_connection_pressure.py",  # a crowded PostgreSQL of each test's own
)


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """xdist's loadgroup, its groups given by folder: the `xdist_group` marks no longer reach its
    scheduler under pytest 9.2 (xdist 3.8 writes the group into a node id that is now read-only)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class FolderGroups(LoadGroupScheduling):  # type: ignore[misc]
        ordered = False

        def _split_scope(self, nodeid: str) -> str:
            if nodeid.startswith(UNGROUPED):
                return nodeid
            return next((folder for folder in XDIST_GROUPS if nodeid.startswith(folder)), nodeid)

        def _assign_work_unit(self, node: Any) -> None:
            if not self.ordered:  # the queue is complete when the first unit is handed out
                self.ordered = True
                units = sorted(self.workqueue.items(), key=lambda unit: start_rank(unit[0], len(unit[1])))
                self.workqueue.clear()
                self.workqueue.update(units)
            super()._assign_work_unit(node)

    return FolderGroups(config, log)


# Tests that take 10 to 35 s each on a quiet machine (child processes: the CLI, servers, a nested test
# run), started right after the groups so that no worker is left with one of them when the others are
# done. xdist's own order is the collection's, which put some of them last.
SLOW_FIRST = (
    "tests/faults/test_killed_run.py",
    "tests/events/test_consumer_operations.py",
    "tests/bonuses/test_cashback.py::test_cron_pays_cashback",
    "tests/test_migrations.py",
    "tests/cashier/test_deposit_races.py",
    "tests/events/test_nats_sink.py",
    "tests/bonuses/test_free_rounds_demo.py",
    "tests/bonuses/test_bonus_operations.py",
    "tests/faults/test_chatty_server.py",
    "tests/faults/test_connection_pressure.py",
    "tests/test_startup_and_cli.py",
    "tests/onboarding/test_cli.py",
    "tests/backoffice/test_admin_documents.py",
    "tests/cashier/test_withdrawals.py::test_concurrent",
    "tests/bonuses/test_bonus_concurrency_review.py",
)


def start_rank(scope: str, tests: int) -> tuple[int, int]:
    """Where a unit of work goes in the queue: the groups first, the largest first (what xdist does),
    then the slow tests above in that order, then the rest in collection order (the sort is stable)."""
    if scope in XDIST_GROUPS:
        return (0, -tests)
    return (1, next((rank for rank, prefix in enumerate(SLOW_FIRST) if scope.startswith(prefix)), len(SLOW_FIRST)))


# ---- what a failing test shows of the helper processes it talked to -------------------------------

HELPER_LOGS: dict[str, Path] = {}  # name → log file of a helper process (live server, demo PSP, ...)
_LOG_OFFSETS = pytest.StashKey[dict[str, int]]()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    item.stash[_LOG_OFFSETS] = {name: _size(path) for name, path in HELPER_LOGS.items()}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    """A failed test's report ends with what each helper process logged while it ran."""
    report = yield
    if report.failed:
        offsets = item.stash.get(_LOG_OFFSETS, {})
        for name, path in HELPER_LOGS.items():
            since = offsets.get(name, 0)
            if _size(path) > since:
                report.sections.append((f"{name} log ({path})", processes.read_tail(path, since=since)))
    return report


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


PASSWORD = "correct-horse-9"


@pytest.fixture(scope="session")
def settings() -> Settings:
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(scope="session", autouse=True)
async def no_task_outlives_the_session() -> AsyncIterator[None]:
    """After everything else (set up first, torn down last): the tasks still pending on the session's loop are
    cancelled — again each round, for a client library that swallows one cancellation and loops on — and
    whatever is still pending after a few seconds is printed with its stack. The loop's own close waits for
    every task without a limit: one such task once held a worker's end for the per-test time-out (300 s)."""
    yield
    current = asyncio.current_task()
    for _ in range(25):
        pending = [task for task in asyncio.all_tasks() if task is not current and not task.done()]
        if not pending:
            return
        for task in pending:
            task.cancel()
        await asyncio.wait(pending, timeout=0.2)
    for task in (task for task in asyncio.all_tasks() if task is not current and not task.done()):
        print(f"a task outlived the test session: {task.get_name()}", file=sys.stderr)
        task.print_stack(file=sys.stderr)


@pytest.fixture(scope="session")
async def app(settings: Settings) -> AsyncIterator[Any]:
    from server import create_app

    application = create_app(settings)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture(scope="session")
def rt(app: Any) -> Any:
    return app.state.rt


@pytest.fixture(autouse=True)
async def clean_state(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """Every test starts from empty tables (schema and reference data kept) and an empty Redis database."""
    uses_platform = "rt" in request.fixturenames or "app" in request.fixturenames
    rt = request.getfixturevalue("rt") if uses_platform else None
    yield
    if rt is None:
        return
    try:
        if request.node.get_closest_marker("tampers") is None:
            await assert_books_are_clean(rt)
    finally:  # a test whose books are wrong fails alone: the next one still starts from empty tables
        clock.reset()
        await empty_tables(rt)
        await install_reference_data(rt)
        await rt.redis.flushdb()
        rt.rate_limiter._local.clear()
        from services import lobby_cache, wallet

        wallet.forget_cached_accounts()
        lobby_cache.forget(rt)


async def empty_tables(rt: Any, *, attempts: int = 5) -> None:
    """DELETE every row but the reference data. DELETE, not TRUNCATE: a test leaves a few rows in a few
    of some 140 tables, which DELETE clears in milliseconds, while TRUNCATE gives every table new files
    (a quarter of a second per test, a minute of the suite). Only the tables that hold a row are touched:
    one prepared statement (the same text while the tables are the same) asks each table whether it has
    one, then one statement deletes from those — a DELETE per table cost ~25 ms a test, mostly planning
    140 statements. It waits for locks at most `LOCK_WAIT` per attempt (background work, such as the outbox
    relay, may hold one briefly); when a session keeps holding them, the test fails naming it instead of the
    run hanging."""
    for attempt in range(attempts):
        try:
            async with rt.database.transaction() as db:
                await db.execute(text(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'"))
                await db.execute(text(f"SET LOCAL statement_timeout = '{STATEMENT_WAIT}'"))
                # Triggers off (foreign keys, the audit log's, the append-only guards): any order will do.
                await db.execute(text("SET LOCAL session_replication_role = replica"))
                tables = (await db.execute(text(_TABLES))).scalars().all()
                holding = (await db.execute(text(_holding_rows(tuple(tables))))).scalars().all()
                if holding:
                    await db.execute(text(_delete_from(tuple(holding))))
            return
        except DBAPIError as error:  # a lock or statement time-out, or a deadlock with background work
            if attempt == attempts - 1:
                raise AssertionError(f"could not empty the tables: {error}\n{await lock_holders(rt)}") from error
            await asyncio.sleep(0.2)


async def install_reference_data(rt: Any) -> None:
    """What the server installs at start-up and `empty_tables` removed: the default risk rules."""
    from services.risk import rules
    from services.risk.store import OnSession

    async with rt.database.transaction() as db:
        await rules.install_defaults(OnSession(db))


_TABLES = (
    "SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = 'public' "
    "AND tablename NOT IN ('alembic_version', 'currencies') ORDER BY tablename"
)


@functools.cache
def _holding_rows(tables: tuple[str, ...]) -> str:
    """Which of `tables` hold a row: one statement (prepared once per connection and text)."""
    return " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT FROM {t})" for t in tables)


@functools.cache
def _delete_from(tables: tuple[str, ...]) -> str:
    """One statement that empties `tables` (data-modifying CTEs: every DELETE runs, whatever is selected)."""
    deletes = ", ".join(f"d{i} AS (DELETE FROM {t})" for i, t in enumerate(tables))
    return f"WITH {deletes} SELECT 1"


LOCK_WAIT = "3s"
STATEMENT_WAIT = "30s"


async def lock_holders(rt: Any) -> str:
    """The other sessions on the test database that are inside a transaction: who keeps a lock."""
    async with rt.database.session() as db:
        rows = (
            await db.execute(
                text(
                    "SELECT pid, application_name, state, now() - xact_start AS age, left(query, 300) AS query "
                    "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND xact_start IS NOT NULL ORDER BY xact_start"
                )
            )
        ).all()
    return (
        "sessions in a transaction:\n" + "\n".join(f"  {tuple(row)}" for row in rows)
        if rows
        else "none in a transaction"
    )


async def assert_books_are_clean(rt: Any) -> None:
    """Every test ends with the ledger and audit invariants recomputed (STYLE.md: money tests end with
    the ledger audit); a test that breaks them on purpose is marked `tampers`."""
    from services import audit, ledger

    async with rt.database.session() as db:
        books = await ledger.verify(db)
        chain = await audit.verify(db)
    assert books.ok, f"ledger verify found: {books.discrepancies}"
    assert chain.ok, f"audit verify found: {chain.problems}"
    await assert_reports_match_the_ledger(rt)


async def assert_reports_match_the_ledger(rt: Any) -> None:
    """Whatever moved money in a test, the reports consumer applied from the outbox table agrees with the
    ledger day by day (`croupier reports verify`), so the whole suite's money is checked in the reports."""
    import asyncpg

    from core.consumers import Runner
    from services.reports import verify
    from services.reports.projection import ReportsProjection

    conn = await asyncpg.connect(DATABASE_URL)
    try:
        days = await conn.fetchrow(
            "SELECT (min(created_at) AT TIME ZONE 'UTC')::date AS first, (max(created_at) AT TIME ZONE 'UTC')::date "
            "AS last FROM outbox_events WHERE topic LIKE 'ledger.%'"
        )
        if days is None or days["first"] is None:
            return
        await Runner(ReportsProjection(), DATABASE_URL, rt.redis, member="books-check").sweep(conn, grace=0)
    finally:
        await conn.close()
    async with rt.database.session() as db:
        found = await verify.verify(db, start=days["first"], end=days["last"])
    assert found.ok, f"reports verify found: {found.differences}"
    assert (found.unapplied_events, found.parked_events) == (0, 0), found


@pytest.fixture
async def client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://croupier.test") as http:
        yield http


class GraphQLClient:
    """Posts GraphQL to the app; `token` sends a bearer token, `brand` the staff brand header."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def __call__(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        token: str | None = None,
        brand: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        sent = dict(headers or {})
        if token:
            sent["Authorization"] = f"Bearer {token}"
        if brand:
            sent["X-Croupier-Brand"] = brand
        response = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=sent)
        # Login mutations set auth cookies; keep requests bearer-only unless a test sends cookies itself.
        self.http.cookies.clear()
        assert response.status_code in (200, 400), response.text
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture
def gql(client: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(client)


def error_codes(body: dict[str, Any]) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors") or []]


# server.py's background tasks
SERVER_WORKERS = frozenset(
    {
        "bonus-worker",
        "rg-worker",
        "outbox-relay",
        "report-exports",
        "kyc-document-expiry",
        "tournament-clock",
        "risk-action-expiry",
        "affiliate-fraud-sweep",
        "crm-segments-sweep",
        "crm-lobby-popular",
        "crm-sender",
        "crm-journeys-clock",
        "catalogue-sync",
    }
)


@contextmanager
def recorded_statements(rt: Any) -> Iterator[list[str]]:
    """The SQL statements run inside the block, whitespace collapsed; the server's background workers
    share the engine, so theirs are left out."""
    from sqlalchemy import event

    statements: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        task = asyncio.current_task()
        if task is None or task.get_name() not in SERVER_WORKERS:
            statements.append(" ".join(statement.split()))

    engine = rt.database.engine.sync_engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


# ---- factories -------------------------------------------------------------------------------


@dataclass
class PlayerAccount:
    id: str  # global id
    uuid: uuid.UUID
    email: str
    brand: str
    token: str
    refresh_token: str


@dataclass
class StaffAccount:
    id: uuid.UUID
    email: str
    totp_secret: str
    token: str


ME = "{ me { id } }"
LOGIN = """
mutation Login($input: LoginInput!) {
  login(input: $input) {
    player { id }
    tokens { accessToken refreshToken }
    errors { code field message }
  }
}"""
REGISTER = """
mutation Register($input: RegisterPlayerInput!) {
  registerPlayer(input: $input) {
    player { id email }
    tokens { accessToken refreshToken }
    errors { code field message }
  }
}"""


@pytest.fixture
async def brand(rt: Any) -> Any:
    from services import brands

    async with rt.database.transaction() as db:
        return await brands.create_brand(
            db,
            code="royal",
            name="Royal Casino",
            default_currency="EUR",
            currencies=["EUR", "SEK", "GBP"],
            countries=["MT", "SE", "GB"],
            minimum_age=18,
        )


@pytest.fixture
async def other_brand(rt: Any) -> Any:
    from services import brands

    async with rt.database.transaction() as db:
        return await brands.create_brand(
            db,
            code="northstar",
            name="Northstar",
            default_currency="SEK",
            currencies=["SEK"],
            countries=["SE"],
            minimum_age=20,
        )


@pytest.fixture
def make_player(rt: Any, gql: GraphQLClient, brand: Any) -> Any:
    """Register a player through GraphQL (logged in: `token`, `refresh_token`); `balance="100.00 EUR"`
    puts that much cash in their wallet through the ledger (`fund`), and registers them in its currency
    unless `currency` says otherwise."""
    counter = iter(range(1, 10_000))

    async def make(
        *,
        brand_code: str = "royal",
        email: str | None = None,
        country: str = "MT",
        currency: str | None = None,
        born: date = date(1990, 1, 1),
        balance: str | None = None,
        **extra: Any,
    ) -> PlayerAccount:
        email = email or f"player{next(counter)}@example.com"
        if currency is None:
            currency = money(balance)[1] if balance else "EUR"
        body = await gql(
            REGISTER,
            {
                "input": {
                    "brand": brand_code,
                    "email": email,
                    "password": PASSWORD,
                    "dateOfBirth": born.isoformat(),
                    "country": country,
                    "currency": currency,
                    **extra,
                }
            },
        )
        payload = body["data"]["registerPlayer"]
        assert payload["errors"] == [], payload
        from strawberry import relay

        gid = payload["player"]["id"]
        player = PlayerAccount(
            gid,
            uuid.UUID(relay.GlobalID.from_id(gid).node_id),
            email,
            brand_code,
            payload["tokens"]["accessToken"],
            payload["tokens"]["refreshToken"],
        )
        if balance:
            await fund(rt, player, balance)
        return player

    return make


# ---- money ------------------------------------------------------------------------------------


def money(text: str) -> tuple[int, str]:
    """Minor units and currency of a written amount: "100.00 EUR" → (10000, "EUR")."""
    from core.money import parse_amount

    amount, currency = text.split()
    return parse_amount(amount, currency), currency.upper()


async def fund(
    rt: Any, player: PlayerAccount | uuid.UUID, amount: str | int, currency: str = "EUR", *, deposit: bool = False
) -> Any:
    """The one way tests put money in a player's cash: `fund(rt, player, "25.00 EUR")` (or an int of
    minor units of `currency`). It goes through the ledger with an idempotency key of its own, so the
    books stay balanced: a system adjustment, or with `deposit=True` a deposit's ledger transaction
    (what a PSP's credit writes; for tests of what deposits set off: events, feeds, reports).
    Tests of the cashier deposit through the demo PSP instead (tests/cashier)."""
    from services import wallet

    minor, currency = money(amount) if isinstance(amount, str) else (amount, currency)
    player_id = player.uuid if isinstance(player, PlayerAccount) else player
    async with rt.database.transaction() as db:
        if deposit:
            result = await wallet.credit_deposit(
                db,
                player_id=player_id,
                currency=currency,
                amount=minor,
                psp="cardpay",
                payment_id=uuid.uuid4(),
                actor=wallet.Actor("system"),
            )
        else:
            result = await wallet.adjust(
                db,
                player_id=player_id,
                currency=currency,
                amount=minor,
                adjustment_id=uuid.uuid4(),
                actor=wallet.Actor("system"),
                reason="test funding",
            )
    assert result.committed, result
    return result


STAFF_LOGIN = """
mutation StaffLogin($input: StaffLoginInput!) {
  staffLogin(input: $input) {
    staff { id email }
    tokens { accessToken refreshToken }
    errors { code field message }
  }
}"""


def next_totp(secret: str, step_offset: int = 0) -> str:
    totp = pyotp.TOTP(secret)
    return totp.generate_otp(totp.timecode(clock.now()) + step_offset)


@pytest.fixture
def make_staff(rt: Any, gql: GraphQLClient, brand: Any) -> Any:
    """Create a staff member with roles (`"support"` or `("support", "royal")`) and log them in."""
    counter = iter(range(1, 10_000))

    async def make(*roles: str | tuple[str, str | None], email: str | None = None, login: bool = True) -> StaffAccount:
        from authz.subjects import SYSTEM
        from models.staff import StaffUser
        from services import staff

        pairs = [(r, "royal") if isinstance(r, str) else r for r in roles]
        email = email or f"staff{next(counter)}@croupier.dev"
        async with rt.database.session() as db:
            grants = await staff.resolve_grants(db, pairs)
        created = await staff.create_staff(
            rt, SYSTEM, email=email, display_name=email.split("@")[0], password=PASSWORD, grants=grants
        )
        async with rt.database.session() as db:
            secret = await db.scalar(select(StaffUser.totp_secret).where(StaffUser.id == created.staff.id))
        token = ""
        if login:
            body = await gql(
                STAFF_LOGIN, {"input": {"email": email, "password": PASSWORD, "totpCode": next_totp(secret)}}
            )
            payload = body["data"]["staffLogin"]
            assert payload["errors"] == [], payload
            token = payload["tokens"]["accessToken"]
        return StaffAccount(created.staff.id, email, secret, token)

    return make


# ---- the demo PSP, a separate process the platform talks to over HTTP --------------------------


def helper_log(name: str) -> Path:
    """Where helper process `name` writes its output; a failing test's report shows what it logged."""
    path = SCRATCH / "logs" / f"{name}.log"
    path.parent.mkdir(parents=True, exist_ok=True)
    HELPER_LOGS[name] = path
    return path


@pytest.fixture(scope="session")
def demo_psp() -> Iterator[str]:
    """`python -m integrations.demo.psp` on DEMO_PSP_PORT; yields its base URL (control at /control)."""
    base = f"http://127.0.0.1:{DEMO_PSP_PORT}"
    process = processes.start_and_wait(
        [sys.executable, "-m", "integrations.demo.psp", "--port", str(DEMO_PSP_PORT)],
        health_url=f"{base}/control/health",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV},
        timeout=20,
        log_file=helper_log("demo_psp"),
    )
    yield base
    processes.stop(process)


@pytest.fixture(scope="session")
def demo_idv() -> Iterator[str]:
    """`python -m integrations.demo.idv` on DEMO_IDV_PORT, its webhooks held in its log (a test delivers
    them); yields its base URL (control at /control)."""
    base = f"http://127.0.0.1:{DEMO_IDV_PORT}"
    process = processes.start_and_wait(
        [sys.executable, "-m", "integrations.demo.idv", "--port", str(DEMO_IDV_PORT)],
        health_url=f"{base}/control/health",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV},
        timeout=20,
        log_file=helper_log("demo_idv"),
    )
    yield base
    processes.stop(process)


# ---- an S3-compatible server (moto's, over HTTP), for exports and KYC documents ---------------------

S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}


@pytest.fixture
def s3_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto's S3-compatible HTTP server, a child process of this test (never moto's in-process mocks); this
    process's boto3 clients get its test credentials."""
    for name, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    port = processes.free_port()
    url = f"http://127.0.0.1:{port}"
    server = processes.start_and_wait(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        health_url=f"{url}/moto-api/",
        cwd=tmp_path,
        env={**os.environ, **S3_CREDENTIALS},
    )
    try:
        yield url
    finally:
        processes.stop(server)


# ---- a live server, for WebSocket clients and external conformance suites ------------------------


@contextmanager
def served(name: str, **env: str) -> Iterator[str]:
    """`croupier serve` in its own process on the test database and Redis (a replica); its base URL."""
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    process = processes.start_and_wait(
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        health_url=f"{base}/readyz",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV, **env},
        timeout=60,
        log_file=helper_log(name),
    )
    try:
        yield base
    finally:
        processes.stop(process)


@pytest.fixture(scope="session")
def live_server(app: Any) -> Iterator[str]:
    """`croupier serve` in its own process on the test database and Redis; yields its base URL."""
    with served("live_server") as base:
        yield base


# ---- the demo game provider, a separate process calling the live server's wallet API --------------


@dataclass
class DemoProvider:
    base: str  # its game client and API (`/play`, `/api/spin`, `/control/calls`)
    public_key_pem: str  # what the platform's `demo` provider row must carry


@pytest.fixture(scope="session")
def demo_provider(live_server: str) -> Iterator[DemoProvider]:
    """`python -m integrations.demo.provider` wired to `live_server`; the provider row is each test's to seed."""
    from integrations.demo.provider import ensure_demo_provider_keys

    private_key, public_pem = ensure_demo_provider_keys(SCRATCH / "data")
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    process = processes.start_and_wait(
        [
            sys.executable,
            "-m",
            "integrations.demo.provider",
            "--port",
            str(port),
            "--platform-url",
            live_server,
            "--private-key",
            str(private_key),
            "--timeout",
            "5",
            "--control",
        ],
        health_url=f"{base}/health",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV},
        timeout=20,
        log_file=helper_log("demo_provider"),
    )
    yield DemoProvider(base, public_pem)
    processes.stop(process)
