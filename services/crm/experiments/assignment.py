"""STAND-IN (crmjourney's branch only; crmab's module replaces it at merge): the contract's `assign`
(ISSUE20.md part 5) with no experiment table behind it — every player gets the first variant the
journey names ("A"). crmab's real one reads the experiment, buckets by SHA-256 and records the exposure."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession


async def assign(db: AsyncSession, experiment_id: uuid.UUID, player_id: uuid.UUID) -> str | None:
    return "A"
