"""Fixtures of the fault tests: a private PostgreSQL for the session (one migrated template database,
cloned per test), a private Redis per test, API servers as processes, and a seeded world of players."""

from __future__ import annotations

import itertools
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from bench import world
from core.settings import Settings, normalise_database_url
from tests.faults import books
from tests.faults.load import Aggregator, Log
from tests.faults.servers import ApiServer, PrivatePostgres, PrivateRedis

TEMPLATE = "faults_template"
_databases = itertools.count(1)


@pytest.fixture(scope="session")
def private_postgres() -> Iterator[PrivatePostgres]:
    from core import migrations

    server = PrivatePostgres()
    server.start()
    import asyncio

    async def create_template() -> None:
        conn = await asyncpg.connect(server.url())
        try:
            await conn.execute(f"CREATE DATABASE {TEMPLATE}")
        finally:
            await conn.close()

    asyncio.run(create_template())
    migrations.upgrade(server.url(TEMPLATE))
    yield server
    server.remove()


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@dataclass
class Platform:
    """One test's private platform: its database, Redis, API processes and a runtime for seeding."""

    postgres: PrivatePostgres
    redis: PrivateRedis
    database: str
    data_dir: Path
    rt: Any
    servers: list[ApiServer] = field(default_factory=list)

    @property
    def database_url(self) -> str:
        return self.postgres.url(self.database)

    @property
    def env(self) -> dict[str, str]:
        return {
            "DATABASE_URL": self.database_url,
            "REDIS_URL": self.redis.url,
            "DATA_DIR": str(self.data_dir),
            "ENV": "test",
            "LOG_LEVEL": "WARNING",
            "RG_WORKER_INTERVAL_SECONDS": "60",
        }

    def server(self, **env: str) -> ApiServer:
        """A new API process (not started) on this platform's database and Redis."""
        server = ApiServer({**self.env, **env})
        self.servers.append(server)
        return server

    async def world(self, *, players: int, balance: int) -> world.World:
        return await world.build(self.rt, players=players, balance=balance)

    async def assert_books_match(self, log: Log) -> None:
        """The end of every fault test: the ledger verifies, and the acknowledged calls are all there, once."""
        books.ledger_verify(self.database_url, self.redis.url)
        assert await books.problems(self.database_url, log) == []


@pytest.fixture
async def platform(private_postgres: PrivatePostgres, private_redis: PrivateRedis) -> AsyncIterator[Platform]:
    from core.redis import create_redis
    from core.runtime import Runtime

    name = f"faults_{next(_databases)}"
    conn = await asyncpg.connect(private_postgres.url())
    try:
        await conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        await conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    finally:
        await conn.close()
    data_dir = Path(tempfile.mkdtemp(prefix="croupier-faults-data-"))
    url = private_postgres.url(name)
    settings = Settings(database_url=url, redis_url=private_redis.url, data_dir=data_dir, env="test")
    rt = Runtime.build(settings, normalise_database_url(url), create_redis(private_redis.url))
    platform = Platform(private_postgres, private_redis, name, data_dir, rt)
    try:
        yield platform
    finally:
        for server in platform.servers:
            server.stop()
        await rt.close()
        shutil.rmtree(data_dir, ignore_errors=True)
        from services import wallet

        wallet.forget_cached_accounts()  # account ids of this database mean nothing in the next one


def aggregator(key: Any, *bases: str) -> Aggregator:
    """An aggregator calling the given servers round-robin."""
    return Aggregator(key, [httpx.AsyncClient(base_url=base, timeout=10) for base in bases])
