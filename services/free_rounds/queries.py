"""What staff read of free-rounds grants: newest first, of their brand (all brands: platform staff), optionally of
one player or status, each with its bonus's rounds left and what its rounds won so far (one statement)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.errors import forbidden

MAX_PAGE = 100

_GRANTS = text("""
SELECT f.id, f.bonus_id, f.player_id, gp.code AS provider, f.games, f.rounds, f.bet, f.currency, f.expires_at,
       f.status, f.reward_uuid, f.attempts, f.last_error, f.created_at, f.granted_at, f.ended_at,
       pb.spins_left, pb.status AS bonus_status,
       coalesce(w.won, 0) AS won, coalesce(w.wins, 0) AS wins
FROM free_rounds_grants f
JOIN game_providers gp ON gp.id = f.provider_id
JOIN player_bonuses pb ON pb.id = f.bonus_id
LEFT JOIN LATERAL (SELECT sum(bw.bonus_amount + bw.cash_amount) AS won, count(*) AS wins FROM bonus_wagers bw
                   WHERE bw.bonus_id = f.bonus_id AND bw.kind = 'free_win') w ON true
WHERE (CAST(:brand AS uuid) IS NULL OR f.brand_id = CAST(:brand AS uuid))
  AND (CAST(:player AS uuid) IS NULL OR f.player_id = CAST(:player AS uuid))
  AND (CAST(:status AS text) IS NULL OR f.status = CAST(:status AS text))
  AND (CAST(:grant AS uuid) IS NULL OR f.id = CAST(:grant AS uuid))
ORDER BY f.created_at DESC, f.id DESC LIMIT :first
""")


@dataclass(frozen=True)
class GrantView:
    id: uuid.UUID
    bonus_id: uuid.UUID
    player_id: uuid.UUID
    provider: str
    games: list[str]
    rounds: int
    rounds_left: int
    bet: int
    currency: str
    expires_at: datetime | None
    status: str
    bonus_status: str
    reward_uuid: str | None
    attempts: int
    last_error: str | None
    won: int  # what its rounds' wins credited (bonus money, or cash after its bonus converted)
    wins: int
    created_at: datetime
    granted_at: datetime | None
    ended_at: datetime | None


def _view(row: Any) -> GrantView:
    return GrantView(
        id=row.id,
        bonus_id=row.bonus_id,
        player_id=row.player_id,
        provider=row.provider,
        games=list(row.games),
        rounds=row.rounds,
        rounds_left=row.spins_left,
        bet=row.bet,
        currency=row.currency,
        expires_at=row.expires_at,
        status=row.status,
        bonus_status=row.bonus_status,
        reward_uuid=row.reward_uuid,
        attempts=row.attempts,
        last_error=row.last_error,
        won=int(row.won),
        wins=int(row.wins),
        created_at=row.created_at,
        granted_at=row.granted_at,
        ended_at=row.ended_at,
    )


async def grants(
    db: AsyncSession,
    viewer: Viewer,
    *,
    player_id: uuid.UUID | None = None,
    status: str | None = None,
    grant_id: uuid.UUID | None = None,
    first: int = 50,
) -> list[GrantView]:
    if not viewer.is_staff:
        raise forbidden("Free rounds grants are for staff.")
    params = {
        "brand": viewer.brand_id,
        "player": player_id,
        "status": status,
        "grant": grant_id,
        "first": max(1, min(first, MAX_PAGE)),
    }
    return [_view(row) for row in (await db.execute(_GRANTS, params)).all()]


async def grant(db: AsyncSession, viewer: Viewer, grant_id: uuid.UUID) -> GrantView | None:
    found = await grants(db, viewer, grant_id=grant_id, first=1)
    return found[0] if found else None
