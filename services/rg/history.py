"""The RG history of a player (limit changes, exclusions, reality checks, interventions): append-only."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from models.rg import RgEvent


async def add(db: AsyncSession, player_id: uuid.UUID, kind: str, actor: Viewer, details: dict[str, Any]) -> None:
    db.add(
        RgEvent(
            player_id=player_id,
            kind=kind,
            actor_type=actor.actor_type,
            actor_id=actor.id,
            details=details,
            created_at=clock.now(),
        )
    )
    await db.flush()


def of_player(player_id: uuid.UUID) -> SelectOfScalar[RgEvent]:
    return select(RgEvent).where(col(RgEvent.player_id) == player_id)
