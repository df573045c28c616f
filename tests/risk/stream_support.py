"""What the `risk-rules` consumer's tests share (tests/risk/test_stream_*.py): the consumer drained on demand
as the server's runner would (and `risk-signals` before it, whose `risk.accounts_linked` events it reads),
the statements it runs, and the player's score, restrictions, flags and risk events as they stand."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from services.risk import actions, score
from services.risk.consumer import SignalsConsumer
from services.risk.store import OnConnection
from services.risk.stream import RulesConsumer
from tests.conftest import DATABASE_URL
from tests.events.tally import until


@dataclass
class Stream:
    runner: Runner
    signals: Runner
    conn: asyncpg.Connection

    async def drain(self) -> int:
        """Apply everything committed so far: signals first (they announce linked accounts), then the rules,
        each once the relay has published what came before (a consumer reads published events only)."""
        await self.published()
        await self.signals.drain(self.conn)
        await self.published()
        return await self.runner.drain(self.conn)

    async def published(self) -> None:
        async def done() -> bool:
            return not await self.conn.fetchval("SELECT count(*) FROM outbox_events WHERE published_at IS NULL")

        await until(done, "the relay to publish every event")

    async def score(self, player_id: uuid.UUID) -> score.Score:
        return await score.score(OnConnection(self.conn), player_id)

    async def reasons(self, player_id: uuid.UUID) -> dict[str, score.Reason]:
        return {r.rule_code: r for r in (await self.score(player_id)).reasons}

    async def restrictions(self, player_id: uuid.UUID) -> actions.Restrictions:
        return await actions.in_force(OnConnection(self.conn), player_id)

    async def flags(self, player_id: uuid.UUID) -> list[tuple[str | None, str, str]]:
        rows = await self.conn.fetch(
            "SELECT rule_code, occasion, status FROM risk_flags WHERE player_id = $1 AND source = 'rule' ORDER BY 1",
            player_id,
        )
        return [(r["rule_code"], r["occasion"], r["status"]) for r in rows]

    async def risk_events(self, player_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
        rows = await self.conn.fetch(
            "SELECT topic, payload FROM outbox_events WHERE key = $1 ORDER BY id", actions.subject(player_id)
        )
        return [(r["topic"], json.loads(r["payload"])) for r in rows]

    async def rule_hits(self, player_id: uuid.UUID) -> list[str]:
        return [data["rule_code"] for topic, data in await self.risk_events(player_id) if topic == "risk.rule_hit"]

    async def set_rule(self, code: str, *, params: dict[str, Any] | None = None, enabled: bool = True) -> None:
        """A rule as staff would leave it (its editor is the back office's; this sets the stored row)."""
        await self.conn.execute(
            "UPDATE risk_rules SET params = coalesce($2::jsonb, params), enabled = $3, version = version + 1 "
            "WHERE code = $1",
            code,
            json.dumps(params) if params is not None else None,
            enabled,
        )

    async def state(self) -> tuple[Any, ...]:
        """Everything the rules write: contributions, restrictions, flags, risk events, audit records."""
        items = await self.conn.fetch(
            "SELECT player_id, rule_code, points, reason, details::text, hits, last_hit_at FROM risk_score_items "
            "ORDER BY 1, 2"
        )
        imposed = await self.conn.fetch("SELECT player_id, kind, rule_code FROM risk_actions ORDER BY 1, 2")
        flagged = await self.conn.fetch("SELECT player_id, rule_code, status FROM risk_flags ORDER BY 1, 2")
        events = await self.conn.fetchval("SELECT count(*) FROM outbox_events WHERE key LIKE 'risk:%'")
        audited = await self.conn.fetchval("SELECT count(*) FROM audit_log WHERE action LIKE 'risk.%'")
        return tuple(map(tuple, items)), tuple(map(tuple, imposed)), tuple(map(tuple, flagged)), events, audited

    @contextmanager
    def statements(self) -> Iterator[list[str]]:
        """The statements the consumers run on this connection inside the block."""
        seen: list[str] = []

        def record(query: Any) -> None:
            seen.append(" ".join(query.query.split()))

        self.conn.add_query_logger(record)
        try:
            yield seen
        finally:
            self.conn.remove_query_logger(record)


@pytest.fixture
async def stream(rt: Any) -> AsyncIterator[Stream]:
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        member = f"test-{uuid.uuid4().hex[:6]}"
        yield Stream(
            Runner(RulesConsumer(), DATABASE_URL, rt.redis, member=member),
            Runner(SignalsConsumer(), DATABASE_URL, rt.redis, member=member),
            conn,
        )
    finally:
        await conn.close()
