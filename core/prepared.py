"""Hot-path statements run straight on the asyncpg connection of a session, inside its transaction.

SQLAlchemy spends ~70 µs of CPU on each `text()` statement a session executes (the compiled cache lookup,
the execution context, the result's wrapping) where asyncpg spends ~15 µs; a wallet call runs eight of them
(bench/README.md §1). A `Statement` is SQL written once with `:named` parameters, compiled once to asyncpg's
`$n` form; `rows`, `row` and `value` run it on the connection the session holds, in the session's database
transaction (so a command that fails still rolls back everything it wrote, and locks last until its end),
with asyncpg's own prepared-statement cache. Each statement is first announced to the engine's
`before_cursor_execute` listeners, as SQLAlchemy announces its own, so statement counts (the tests'
`recorded_statements`, the benchmarks) see every one. The first statement of a transaction goes through the
session, which sends the BEGIN; the values bound and the rows read are the same either way (asyncpg's codecs
are the ones the engine set on the connection).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql.asyncpg import dialect as asyncpg_dialect
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.elements import TextClause

_DIALECT = asyncpg_dialect()  # type: ignore[no-untyped-call]


class Statement:
    """One SQL statement with `:named` parameters: `clause` for the session, `native` and `names` for asyncpg."""

    __slots__ = ("clause", "names", "native")

    def __init__(self, sql: str) -> None:
        self.clause: TextClause = text(sql)
        compiled = self.clause.compile(dialect=_DIALECT)
        self.native: str = compiled.string
        self.names: tuple[str, ...] = tuple(compiled.positiontup or ())

    @property
    def text(self) -> str:
        """The SQL as written (to compose a larger statement from this one)."""
        return self.clause.text


class Row:
    """A row read by asyncpg, its columns as attributes (as SQLAlchemy's rows have them)."""

    __slots__ = ("_record",)

    def __init__(self, record: Mapping[str, Any]) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None


# Session.info: the session's connection and its asyncpg connection, while its database transaction lasts.
_DRIVER = "prepared_driver"


@event.listens_for(Session, "after_transaction_create")
@event.listens_for(Session, "after_transaction_end")
def _forget_driver(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint begun (begin_nested) is only sent with the session's next use of its connection: the next
    # statement asks the session for it again, so that what it writes is inside the savepoint.
    session.info.pop(_DRIVER, None)


async def rows(db: AsyncSession, statement: Statement, params: Mapping[str, Any] | None = None) -> Sequence[Any]:
    """Every row, each with its columns as attributes."""
    params = params or {}
    held: tuple[Connection, Any] | None = db.info.get(_DRIVER)
    if held is None:
        connection = await db.connection()
        driver = (await connection.get_raw_connection()).driver_connection
        if driver is None or not driver.is_in_transaction():  # the session sends BEGIN with its first statement
            result = await db.execute(statement.clause, dict(params))
            return result.all() if isinstance(result, CursorResult) and result.returns_rows else []
        assert connection.sync_connection is not None
        held = db.info[_DRIVER] = (connection.sync_connection, driver)
    sync, driver = held
    args = [params[name] for name in statement.names]
    sync.dispatch.before_cursor_execute(sync, None, statement.native, args, None, False)
    return [Row(record) for record in await driver.fetch(statement.native, *args)]


async def row(db: AsyncSession, statement: Statement, params: Mapping[str, Any] | None = None) -> Any | None:
    """The one row (None: no row); more than one is an error."""
    found = await rows(db, statement, params)
    if len(found) > 1:
        raise LookupError(f"one row expected, {len(found)} found: {statement.text[:80]!r}")
    return found[0] if found else None


async def one(db: AsyncSession, statement: Statement, params: Mapping[str, Any] | None = None) -> Any:
    """Exactly one row."""
    found = await row(db, statement, params)
    if found is None:
        raise LookupError(f"one row expected, none found: {statement.text[:80]!r}")
    return found


async def value(db: AsyncSession, statement: Statement, params: Mapping[str, Any] | None = None) -> Any:
    """The first column of the one row (None: no row)."""
    found = await row(db, statement, params)
    if found is None:
        return None
    if isinstance(found, Row):
        return next(iter(found._record.values()))
    return found[0]


async def execute(db: AsyncSession, statement: Statement, params: Mapping[str, Any] | None = None) -> None:
    """A statement whose rows (if any) are not needed."""
    await rows(db, statement, params)


async def alone(engine: AsyncEngine, statement: Statement, params: Mapping[str, Any]) -> Row | None:
    """One statement in a database transaction of its own: PostgreSQL's implicit one (no BEGIN, no COMMIT: one
    round trip; the statement commits as it ends, or rolls back whole on an error, its locks released with it),
    on a connection from the pool, prepared. The first row (None: none). Announced to the engine's
    `before_cursor_execute` listeners as the session's statements are."""
    found = await every_alone(engine, statement, params)
    return found[0] if found else None


async def every_alone(engine: AsyncEngine, statement: Statement, params: Mapping[str, Any]) -> list[Row]:
    """As `alone`, every row."""
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        sync = connection.sync_connection
        assert sync is not None
        args = [params[name] for name in statement.names]
        sync.dispatch.before_cursor_execute(sync, None, statement.native, args, None, False)
        records = await driver.fetch(statement.native, *args)
    return [Row(record) for record in records]
