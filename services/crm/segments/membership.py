"""STAND-IN (crmjourney's branch only; crmseg's module replaces it at merge): the contract's
`add_member` (ISSUE20.md part 1) — a static segment's membership row; a dynamic segment refuses."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError
from models.crm import CrmSegment, SegmentKind


async def add_member(db: AsyncSession, segment_id: uuid.UUID, player_id: uuid.UUID) -> None:
    segment = await db.get(CrmSegment, segment_id)
    if segment is None:
        raise DomainError("No such segment.", field="segmentId")
    if segment.kind != SegmentKind.STATIC:
        raise DomainError("A dynamic segment's members follow its rules.", field="segmentId")
    await db.execute(
        text("INSERT INTO crm_segment_members (segment_id, player_id) VALUES (:s, :p) ON CONFLICT DO NOTHING"),
        {"s": segment_id, "p": player_id},
    )
