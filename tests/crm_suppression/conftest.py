"""What the suppression tests share: queued messages and segment members put in place as the channels and
segments parts would (their code is not on this branch), the `crm-suppression` consumer run when a test
chooses, and the GraphQL documents."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from models.crm import Purpose
from services.crm import suppression
from services.crm.suppression_consumer import SuppressionConsumer
from tests.conftest import DATABASE_URL
from tests.rg.conftest import nordic  # noqa: F401  (fixture)

CONSENTS = "{ me { marketingConsent consents { product channel granted source changedAt } } }"
SET_CONSENTS = """
mutation($input: SetConsentsInput!) { setConsents(input: $input) {
  consents { product channel granted source } errors { code field message } } }"""
PLAYER_CRM = """
query($id: ID!) { node(id: $id) { ... on Player {
  consents { product channel granted source }
  crmSuppressions(first: 20) { edges { node { purpose channel product reason sourceKind messageId } } }
} } }"""
SELF_EXCLUDE = """
mutation($input: SelfExcludeInput!) { selfExclude(input: $input) { errors { code } } }"""
TIME_OUT = """
mutation($input: TakeTimeOutInput!) { takeTimeOut(input: $input) { errors { code } } }"""
UPDATE_PROFILE = """
mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { code field } } }"""
SET_STATUS = """
mutation($input: SetPlayerStatusInput!) { setPlayerStatus(input: $input) { errors { code } } }"""


@dataclass
class Crm:
    """Direct access to the CRM tables, and the `crm-suppression` consumer run on demand."""

    conn: asyncpg.Connection
    runner: Runner

    async def queue(
        self, player: Any, *, channel: str = "email", product: str = "casino", due_in: timedelta = timedelta(0)
    ) -> uuid.UUID:
        """A message queued for the player, as crmchan's `enqueue` writes one (due `due_in` from now: a
        journey's delayed step, which a running sender does not take before it is due)."""
        message_id = uuid.uuid4()
        await self.conn.execute(
            "INSERT INTO crm_messages (id, brand_id, player_id, channel, product, template, idempotency_key, "
            "source_kind, due_at) SELECT $1, p.brand_id, p.id, $3, $4, 'welcome', $5, 'test', now() + $6 "
            "FROM players p WHERE p.id = $2",
            message_id,
            player.uuid,
            channel,
            product,
            f"test:{message_id}",
            due_in,
        )
        return message_id

    async def segment(self, brand_id: uuid.UUID, *players: Any, name: str = "vip") -> uuid.UUID:
        segment_id = uuid.uuid4()
        await self.conn.execute(
            "INSERT INTO crm_segments (id, brand_id, name, kind) VALUES ($1, $2, $3, 'static')",
            segment_id,
            brand_id,
            name,
        )
        for player in players:
            await self.conn.execute(
                "INSERT INTO crm_segment_members (segment_id, player_id) VALUES ($1, $2)", segment_id, player.uuid
            )
        return segment_id

    async def message(self, message_id: uuid.UUID) -> asyncpg.Record:
        row = await self.conn.fetchrow("SELECT status, reason FROM crm_messages WHERE id = $1", message_id)
        assert row is not None
        return row

    async def members(self, player: Any) -> int:
        count: int = await self.conn.fetchval(
            "SELECT count(*) FROM crm_segment_members WHERE player_id = $1", player.uuid
        )
        return count

    async def suppressions(self, player: Any) -> list[tuple[str, str, uuid.UUID | None]]:
        rows = await self.conn.fetch(
            "SELECT reason, source_kind, message_id FROM crm_suppressions WHERE player_id = $1 ORDER BY id",
            player.uuid,
        )
        return [(r["reason"], r["source_kind"], r["message_id"]) for r in rows]

    async def drain(self) -> int:
        return await self.runner.drain(self.conn)


@pytest.fixture
async def crm(rt: Any) -> AsyncIterator[Crm]:
    conn = await asyncpg.connect(DATABASE_URL)
    runner = Runner(SuppressionConsumer(), DATABASE_URL, rt.redis, member=f"test-{uuid.uuid4().hex[:6]}")
    try:
        yield Crm(conn, runner)
    finally:
        await conn.close()


async def refusal(rt: Any, player: Any, **asked: Any) -> str | None:
    """`suppression.refusal` for a message by e-mail about casino, unless asked otherwise."""
    asked = {"purpose": Purpose.MESSAGE, "channel": "email", "product": "casino", **asked}
    async with rt.database.session() as db:
        return await suppression.refusal(db, player.uuid, **asked)


async def check(rt: Any, player: Any, **asked: Any) -> str | None:
    """`suppression.check` (a message by e-mail about casino, asked by the sender, unless asked otherwise) in
    a transaction of its own."""
    asked = {"purpose": Purpose.MESSAGE, "channel": "email", "product": "casino", "source_kind": "sender", **asked}
    async with rt.database.transaction() as db:
        return await suppression.check(db, player.uuid, source_id=None, **asked)
