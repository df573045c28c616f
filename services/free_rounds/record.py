"""A free-spins bonus asks its provider for the rounds (`request`), in the bonus's own transaction: the grant is
recorded `pending`, and sent after the commit (grants.py), so a rolled-back claim never reaches the provider."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core import outbox
from core.clock import clock
from models.bonuses import PlayerBonus
from models.free_rounds import FreeRoundsGrant

# The first of the bonus's games (in the campaign's order) whose provider has a free-rounds API, and every game of
# the bonus that provider serves.
_PROVIDER_OF = text("""
SELECT gp.id, gp.code, array_agg(g.code ORDER BY array_position(CAST(:games AS text[]), g.code)) AS games
FROM games g JOIN game_providers gp ON gp.id = g.provider_id
WHERE g.code = ANY(CAST(:games AS text[])) AND gp.free_rounds_url IS NOT NULL AND gp.enabled
GROUP BY gp.id, gp.code ORDER BY min(array_position(CAST(:games AS text[]), g.code)) LIMIT 1
""")


async def provider_for(db: AsyncSession, games: list[str]) -> Any:
    """(id, code, games) of the provider that grants these games' free rounds, or None."""
    if not games:
        return None
    return (await db.execute(_PROVIDER_OF, {"games": games})).one_or_none()


def grant_event(grant: FreeRoundsGrant, provider_code: str, **extra: Any) -> dict[str, Any]:
    return {
        "grant_id": str(grant.id),
        "bonus_id": str(grant.bonus_id),
        "player_id": str(grant.player_id),
        "provider": provider_code,
        "status": grant.status,
        "rounds": grant.rounds,
        "bet": grant.bet,
        "currency": grant.currency,
        "reward_uuid": grant.reward_uuid,
        "expires_at": grant.expires_at.isoformat() if grant.expires_at else None,
        **extra,
    }


async def announce(db: AsyncSession, grant: FreeRoundsGrant, provider_code: str, what: str, **extra: Any) -> None:
    await outbox.emit(
        db,
        f"free_rounds.{what}",
        f"player:{grant.player_id}",
        grant_event(grant, provider_code, **extra),
        brand_id=grant.brand_id,
    )


async def request(db: AsyncSession, bonus: PlayerBonus) -> FreeRoundsGrant | None:
    """The grant of an active free-spins bonus, when a provider of its games grants free rounds by API."""
    provider = await provider_for(db, list(bonus.terms.get("games") or []))
    if provider is None or bonus.spins_total <= 0 or bonus.spin_bet <= 0:
        return None  # its rounds reach the provider at launch (services/game_sessions.py), as before
    grant = FreeRoundsGrant(
        id=uuid.uuid4(),
        bonus_id=bonus.id,
        provider_id=provider.id,
        player_id=bonus.player_id,
        brand_id=bonus.brand_id,
        games=list(provider.games),
        rounds=bonus.spins_total,
        bet=bonus.spin_bet,
        currency=bonus.currency,
        expires_at=bonus.expires_at,
        next_attempt_at=clock.now(),
    )
    db.add(grant)
    await db.flush()
    await announce(db, grant, provider.code, "requested")
    return grant
