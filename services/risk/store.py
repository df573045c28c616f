"""Where risk's rules write: the same statements run in a flow's ORM session (an inline rule, in the
transaction of the registration, deposit, withdrawal or bonus claim it decides) or on a consumer's asyncpg
connection (a stream rule, committing with the ids of the events it processed: core/consumers.py). One
`Sql` for both, so each rule's effects (services/risk/score.py, services/risk/actions.py) are written once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import asyncpg
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import SYSTEM
from core import outbox, prepared
from core.prepared import Row, Statement
from services import audit


class Sql(Protocol):
    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> Sequence[Any]: ...

    async def emit(self, events: Sequence[outbox.Event]) -> None: ...

    async def audit(self, entries: Sequence[audit.SystemEntry]) -> None:
        """Records the platform writes (call last: the audit chain's lock is held until the commit)."""


class OnSession:
    """In a flow's ORM session (its transaction)."""

    def __init__(self, db: AsyncSession) -> None:
        self.db = db

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> Sequence[Any]:
        return await prepared.rows(self.db, statement, params)

    async def emit(self, events: Sequence[outbox.Event]) -> None:
        await outbox.emit_events(self.db, events)

    async def audit(self, entries: Sequence[audit.SystemEntry]) -> None:
        for entry in entries:
            await audit.append(
                self.db,
                actor=SYSTEM,
                action=entry.action,
                target_type=entry.target_type,
                target_id=entry.target_id,
                brand_id=entry.brand_id,
                before=entry.before,
                after=entry.after,
                reason=entry.reason,
            )


class OnConnection:
    """On a consumer's asyncpg connection (inside the transaction the consumer runner opened)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    async def fetch(self, statement: Statement, params: Mapping[str, Any]) -> Sequence[Any]:
        records = await self.conn.fetch(statement.native, *[params[name] for name in statement.names])
        return [Row(record) for record in records]

    async def emit(self, events: Sequence[outbox.Event]) -> None:
        if events:
            await self.conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *outbox.events_params(events).values())

    async def audit(self, entries: Sequence[audit.SystemEntry]) -> None:
        await audit.append_system(self.conn, entries)
