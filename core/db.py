"""The database engine and sessions (SQLAlchemy 2 async over asyncpg).

Resolvers never share an `AsyncSession`: sibling GraphQL fields resolve concurrently, so each
resolver or DataLoader batch opens its own short session with `database.session()`. Commands open
`database.transaction()`, which commits on success and rolls back on any exception, so a refused
command leaves nothing half-written.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

# How long opening a connection waits while PostgreSQL has no free slot (all `max_connections` taken, by
# this process or by others): a burst elsewhere is waited out, as a full pool is, instead of failing.
CONNECT_WAIT_SECONDS = 10.0


class Database:
    def __init__(self, url: str, *, pool_size: int = 30, max_overflow: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=max_overflow,
            pool_pre_ping=True,
            async_creator=self._connect,
        )
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)

    async def _connect(self) -> Any:
        import asyncpg

        _, params = self.engine.dialect.create_connect_args(self.engine.url)
        deadline = time.monotonic() + CONNECT_WAIT_SECONDS
        while True:
            try:
                return await asyncpg.connect(**params, server_settings={"application_name": "croupier"})
            except asyncpg.TooManyConnectionsError:
                if time.monotonic() >= deadline:
                    raise
                await asyncio.sleep(0.2)

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A read session: no commit, closed at the end."""
        async with self._sessions() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One database transaction: committed when the block ends, rolled back on any error."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read statement, in autocommit: no BEGIN and ROLLBACK around it (one
        statement sees one snapshot on its own). Live subscriptions re-read balances through it on
        every update: four round trips (the pool's ping among them) instead of six."""
        async with self.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
