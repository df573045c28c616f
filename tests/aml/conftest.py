"""Screening fixtures: the `aml-screening` consumer drained on demand (as the server's runner would)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from services.aml.consumer import ScreeningConsumer
from tests.conftest import DATABASE_URL


class Screening:
    def __init__(self, runner: Runner, conn: asyncpg.Connection) -> None:
        self.runner = runner
        self.conn = conn

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)

    async def alerts(self, player_id: uuid.UUID) -> list[dict[str, Any]]:
        rows = await self.conn.fetch(
            "SELECT * FROM aml_screening_alerts WHERE player_id = $1 ORDER BY created_at, id", player_id
        )
        return [dict(r) for r in rows]


@pytest.fixture
async def screening(rt: Any, settings: Any) -> AsyncIterator[Screening]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        consumer = ScreeningConsumer(settings)
        yield Screening(Runner(consumer, DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}"), conn)
    finally:
        await conn.close()
