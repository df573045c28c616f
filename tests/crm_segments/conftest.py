"""Segment fixtures: the `crm-segments` and `reports` consumers and the segments' loop, driven by the tests as
the server would run them, and the GraphQL documents the tests share."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import pytest

from core.consumers import Runner
from services.crm.segments import sweep
from services.crm.segments.consumer import SegmentsConsumer
from services.reports.projection import ReportsProjection
from tests.conftest import DATABASE_URL

SEGMENT_FIELDS = """
  id name kind archived version size
  rules { match conditions { field op values flag value amount currency days } }
"""
CREATE = f"""
mutation Create($input: CreateSegmentInput!) {{
  createSegment(input: $input) {{ segment {{ {SEGMENT_FIELDS} }} errors {{ code field message }} }}
}}"""
UPDATE = f"""
mutation Update($input: UpdateSegmentInput!) {{
  updateSegment(input: $input) {{ segment {{ {SEGMENT_FIELDS} }} errors {{ code field message }} }}
}}"""
UPLOAD = """
mutation Upload($input: UploadSegmentMembersInput!) {
  uploadSegmentMembers(input: $input) {
    segment { id size } added already notFound badLines errors { code field message }
  }
}"""
PREVIEW = """
query Preview($rules: SegmentRulesInput!, $limit: Int) {
  segmentPreview(rules: $rules, limit: $limit) { size players { id country email } }
}"""
MEMBERS = """
query Members($id: String!) { segment(id: $id) { size members(first: 50) { edges { node { id } } } } }"""


@dataclass
class Pipeline:
    """What follows from the events, run when the test chooses."""

    rt: Any
    conn: asyncpg.Connection
    reports: Runner
    segments: Runner

    async def settle(self) -> None:
        """Every event so far applied by `reports` and `crm-segments`, then the players whose money moved."""
        await self.reports.drain(self.conn)
        await self.segments.drain(self.conn)
        await sweep.refresh_pending(self.rt)


@pytest.fixture
async def pipeline(rt: Any) -> AsyncIterator[Pipeline]:
    conn = await asyncpg.connect(DATABASE_URL)
    member = f"test-{uuid.uuid4().hex[:6]}"
    try:
        yield Pipeline(
            rt,
            conn,
            Runner(ReportsProjection(), DATABASE_URL, rt.redis, member=member),
            Runner(SegmentsConsumer(), DATABASE_URL, rt.redis, member=member),
        )
    finally:
        await conn.close()


async def member_ids(rt: Any, segment_id: str) -> set[uuid.UUID]:
    from sqlalchemy import text
    from strawberry import relay

    raw = uuid.UUID(relay.GlobalID.from_id(segment_id).node_id)
    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT player_id FROM crm_segment_members WHERE segment_id = :s"), {"s": raw})
        return {row[0] for row in rows}
