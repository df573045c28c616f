"""The suite passes while another client holds most of PostgreSQL's connections: one test process's
servers (its in-process runtime and the `croupier serve` of the live-server fixture, with the suite's
pool sizes) keep working under load with only `infra.CONNECTIONS_PER_WORKER` connections free."""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from bench import world
from core import migrations, processes
from core.settings import Settings, normalise_database_url
from tests import infra
from tests.faults.conftest import Platform, aggregator
from tests.faults.servers import ROOT, PrivatePostgres, PrivateRedis

MAX_CONNECTIONS = 80  # the neighbour takes all but the suite's share: three quarters of them
BALANCE = 50_00


@pytest.fixture
def crowded_postgres() -> Iterator[PrivatePostgres]:
    """A private PostgreSQL with a migrated database `croupier`, most of whose connections a
    separate process holds."""
    server = PrivatePostgres(max_connections=MAX_CONNECTIONS)
    server.start()
    holder = None
    try:
        asyncio.run(_create(server.url(), "croupier"))
        migrations.upgrade(server.url("croupier"))
        holder = hold_connections(server, leave=infra.CONNECTIONS_PER_WORKER)
        yield server
    finally:
        if holder is not None:
            processes.stop(holder)
        server.remove()


def hold_connections(server: PrivatePostgres, *, leave: int) -> processes.Child:
    """Another client (tests/faults/hold_connections.py) holding all but `leave` free connections."""
    log = Path(tempfile.mkstemp(prefix="croupier-hold-", suffix=".log")[1])
    holder = processes.spawn(
        [sys.executable, "-m", "tests.faults.hold_connections", server.url(), "--leave", str(leave)],
        cwd=ROOT,
        log_file=log,
    )
    deadline = time.monotonic() + 60
    while "holding" not in log.read_text():
        assert holder.poll() is None, log.read_text()
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)
    return holder


async def _create(admin: str, name: str) -> None:
    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f"CREATE DATABASE {name}")
    finally:
        await conn.close()


async def test_the_suites_servers_work_while_another_client_holds_most_connections(
    crowded_postgres: PrivatePostgres, private_redis: PrivateRedis, tmp_path: Path
) -> None:
    from core.redis import create_redis
    from core.runtime import Runtime
    from services import wallet

    url = crowded_postgres.url("croupier")
    in_use = await _client_backends(url)
    assert MAX_CONNECTIONS - in_use <= infra.CONNECTIONS_PER_WORKER, in_use  # the neighbour holds the rest
    settings = Settings(database_url=url, redis_url=private_redis.url, data_dir=tmp_path, env="test")
    assert settings.database_pool_size + settings.database_max_overflow <= infra.POOL_SIZE + infra.POOL_OVERFLOW
    rt = Runtime.build(settings, normalise_database_url(url), create_redis(private_redis.url))
    platform = Platform(crowded_postgres, private_redis, "croupier", tmp_path, rt)
    try:
        place = await platform.world(players=12, balance=BALANCE)
        others = await world.add_players(rt, place, 8, 1, email_prefix="other")
        live = platform.server()
        await asyncio.to_thread(live.start)
        client = aggregator(place.key, live.base)

        async def credit(seat: world.Seat, n: int) -> None:  # the in-process app's share of the work
            async with rt.database.transaction() as db:
                result = await wallet.adjust(
                    db,
                    player_id=uuid.UUID(seat.user),
                    currency=world.CURRENCY,
                    amount=100,
                    adjustment_id=uuid.uuid4(),
                    actor=wallet.Actor("system"),
                    reason=f"pressure {n}",
                )
            assert result.committed

        try:
            log, *_ = await asyncio.wait_for(
                asyncio.gather(
                    client.play(place.seats, rounds=8, balance=BALANCE),
                    *(credit(others[n % len(others)], n) for n in range(60)),
                ),
                timeout=240,
            )
        finally:
            await client.aclose()
        assert dict(log.failures) == {}, log.failures  # no refused connection, no unknown error
        assert len(log.acks) >= 12 * 8
        await platform.assert_books_match(log)
    finally:
        for server in platform.servers:
            server.stop()
        await rt.close()
        wallet.forget_cached_accounts()


async def _client_backends(url: str) -> int:
    conn = await asyncpg.connect(url)
    try:
        return int(await conn.fetchval("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'"))
    finally:
        await conn.close()


async def test_a_full_server_is_waited_for_not_refused(crowded_postgres: PrivatePostgres) -> None:
    """Another client takes every connection left for two seconds: a new connection waits for a slot
    (up to core.db.CONNECT_WAIT_SECONDS) instead of failing with "too many clients"."""
    from core.db import CONNECT_WAIT_SECONDS, Database

    database = Database(normalise_database_url(crowded_postgres.url("croupier")), pool_size=1, max_overflow=0)
    burst = await asyncio.to_thread(hold_connections, crowded_postgres, leave=0)
    released = asyncio.get_running_loop().call_later(2, processes.stop, burst)
    started = time.monotonic()
    try:
        await database.ping()
        waited = time.monotonic() - started
    finally:
        released.cancel()
        await asyncio.to_thread(processes.stop, burst)
        await database.dispose()
    assert 1 < waited < CONNECT_WAIT_SECONDS, waited  # it waited for the burst to end, and no longer
