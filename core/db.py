"""The database engine and sessions (SQLAlchemy 2 async over asyncpg).

Resolvers never share an `AsyncSession`: sibling GraphQL fields resolve concurrently, so each
resolver or DataLoader batch opens its own short session with `database.session()`. Commands open
`database.transaction()`, which commits on success and rolls back on any exception, so a refused
command leaves nothing half-written.

Round trips, because on a read they cost more than the query (bench/README.md §2): a read session runs
in autocommit, so each statement is one round trip (PostgreSQL runs it in its own implicit transaction)
instead of BEGIN, the statement and ROLLBACK. Under READ COMMITTED, PostgreSQL's default and ours, every
statement of a transaction takes a fresh snapshot anyway, so a read sees exactly what it saw inside
BEGIN … ROLLBACK; a read session must not write (it would commit at once; an ORM flush there is
refused): writes go through `transaction()`. A connection taken from the pool is not pinged (a `SELECT 1`
round trip per checkout): asyncpg notices at once when PostgreSQL closes a connection (a restart, an
idle timeout, a terminated backend), so the pool checks that flag for free and replaces a closed
connection; one that fails while in use is invalidated by SQLAlchemy, with every connection older than
it (tests/faults/test_postgres_restart.py).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session

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
            async_creator=self._connect,
        )
        event.listen(self.engine.sync_engine.pool, "checkout", _refuse_closed)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False, autoflush=False)
        self._reads = async_sessionmaker(
            self.engine.execution_options(isolation_level="AUTOCOMMIT"),
            expire_on_commit=False,
            autoflush=False,
            sync_session_class=ReadOnlySession,
        )
        # What to tell others after a transaction that changed something they keep (by topic: see
        # `changed`); the runtime registers them (core/runtime.py).
        self.after_commit: dict[str, Callable[[], Awaitable[None]]] = {}

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
        """A read session: each statement on its own (autocommit, no BEGIN/ROLLBACK), closed at the end.
        Never write through it: use `transaction()`."""
        async with self._reads() as session:
            yield session

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """One database transaction: committed when the block ends, rolled back on any error. After the
        commit, the hooks of the topics the transaction marked `changed` run (after it, never before:
        a reader told too early could cache what it read from before the change)."""
        async with self._sessions() as session:
            async with session.begin():
                yield session
            for topic in session.info.pop(CHANGED, ()):
                hook = self.after_commit.get(topic)
                if hook is not None:
                    await hook()

    @asynccontextmanager
    async def statement(self) -> AsyncIterator[AsyncConnection]:
        """A connection for one read statement, in autocommit: no BEGIN and ROLLBACK around it (one
        statement sees one snapshot on its own), and no ORM session (`session()` is autocommit too).
        Live subscriptions re-read balances through it on every update: one round trip."""
        async with self.engine.connect() as connection:
            yield await connection.execution_options(isolation_level="AUTOCOMMIT")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()


CHANGED = "croupier.changed"  # the session.info key of the topics a transaction changed


def changed(db: AsyncSession, topic: str) -> None:
    """Mark that this transaction changes `topic` (e.g. "catalogue"): once it commits, `Database.transaction`
    runs that topic's hook. Writers that hold only a session (no runtime) signal this way."""
    db.info.setdefault(CHANGED, set()).add(topic)


class ReadOnlySession(Session):
    """The ORM side of a read session: a flush would commit each row on its own (autocommit), so any
    ORM write through `Database.session()` is refused before it reaches the database."""


@event.listens_for(ReadOnlySession, "before_flush")
def _refuse_writes(session: Session, _context: Any, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("a read session (Database.session) does not write: use Database.transaction()")


def _refuse_closed(dbapi_connection: Any, _record: Any, _proxy: Any) -> None:
    """Pool checkout: a connection PostgreSQL has closed is replaced (SQLAlchemy retries the checkout
    with a new one on DisconnectionError). asyncpg keeps that flag up to date, so this costs no round trip."""
    if dbapi_connection.driver_connection.is_closed():
        raise DisconnectionError("the connection was closed by the server")
