"""Popular games per brand, segment and country: the games most players of the audience played in the last
`days` days (distinct players, ties by game id), computed periodically into `crm_lobby_popular` — never per
request. Rows for `segment_id` = EVERYONE are the brand's whole audience, `country` '' every country. A game is
listed for an audience only when at least `min_players` of its players played it: a small segment in a small
country must not show what one or two others played (the audience then gets the broader list: its segment in
every country, then the brand's). A computation replaces the table in one transaction and drops the cached
lobbies (they embed the popular list).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.db import changed
from core.logging import get_logger
from core.runtime import CATALOGUE, Runtime
from models.crm_lobby import EVERYONE
from models.games import Game
from services.games import Audience, available_to

log = get_logger(__name__)

TOP = 24
DAYS = 7
MIN_PLAYERS = 5

_COMPUTE = text(
    """
WITH recent AS (
    SELECT DISTINCT r.game_id, r.player_id, p.brand_id, coalesce(p.country, '') AS country
    FROM game_rounds r JOIN players p ON p.id = r.player_id
    WHERE r.opened_at >= :since AND r.game_id IS NOT NULL
), audiences AS (
    SELECT brand_id, CAST(:everyone AS uuid) AS segment_id, country, game_id, player_id FROM recent
    UNION ALL
    SELECT rc.brand_id, m.segment_id, rc.country, rc.game_id, rc.player_id
    FROM recent rc JOIN crm_segment_members m ON m.player_id = rc.player_id
), counted AS (
    SELECT a.brand_id, a.segment_id, c.country, a.game_id, count(DISTINCT a.player_id) AS players
    FROM audiences a CROSS JOIN LATERAL (VALUES (a.country), ('')) AS c(country)
    GROUP BY a.brand_id, a.segment_id, c.country, a.game_id
    HAVING count(DISTINCT a.player_id) >= :min_players
), ranked AS (
    SELECT *, row_number() OVER (PARTITION BY brand_id, segment_id, country ORDER BY players DESC, game_id) AS rank
    FROM counted
)
INSERT INTO crm_lobby_popular (brand_id, segment_id, country, rank, game_id, players, computed_at)
SELECT brand_id, segment_id, country, rank, game_id, players, :now FROM ranked WHERE rank <= :top
"""
)


async def compute(db: AsyncSession, *, days: int = DAYS, top: int = TOP, min_players: int = MIN_PLAYERS) -> int:
    """Replace the popular lists (in the caller's transaction); the number of rows written."""
    # One computation at a time (the server's loop on every replica, staff's button): a second one waits, then
    # deletes what the first wrote. Without it, both deleted the old rows and the later insert broke the key
    # (INTERNAL). The mode lets the lobby's reads through.
    await db.execute(text("LOCK TABLE crm_lobby_popular IN SHARE ROW EXCLUSIVE MODE"))
    now = clock.now()
    await db.execute(text("DELETE FROM crm_lobby_popular"))
    result = await db.execute(
        _COMPUTE,
        {"since": now - timedelta(days=days), "everyone": EVERYONE, "now": now, "top": top, "min_players": min_players},
    )
    changed(db, CATALOGUE)  # after commit: cached lobbies (which hold the popular lists) are dropped
    return int(getattr(result, "rowcount", 0) or 0)


async def popular_games(
    db: AsyncSession, audience: Audience, segment_id: uuid.UUID | None, *, limit: int
) -> list[Game]:
    """The audience's popular games (its segment's, else the brand's), for its country when it has a list,
    else every country's; only games the audience may play. One statement."""
    if audience.brand_id is None or limit <= 0:
        return []
    stmt = text(
        "SELECT p.segment_id, p.country, p.rank, p.game_id FROM crm_lobby_popular p "
        "WHERE p.brand_id = :brand AND p.segment_id IN (:segment, :everyone) AND p.country IN (:country, '') "
        "ORDER BY p.rank"
    )
    rows = (
        await db.execute(
            stmt,
            {
                "brand": audience.brand_id,
                "segment": segment_id or EVERYONE,
                "everyone": EVERYONE,
                "country": audience.country or "",
            },
        )
    ).all()
    lists: dict[tuple[uuid.UUID, str], list[uuid.UUID]] = {}
    for row in rows:
        lists.setdefault((row.segment_id, row.country), []).append(row.game_id)
    country = audience.country or ""
    for key in ((segment_id or EVERYONE, country), (segment_id or EVERYONE, ""), (EVERYONE, country), (EVERYONE, "")):
        if lists.get(key):
            return await _playable(db, audience, lists[key], limit)
    return []


async def _playable(db: AsyncSession, audience: Audience, ids: list[uuid.UUID], limit: int) -> list[Game]:
    found = {g.id: g for g in (await db.scalars(select(Game).where(col(Game.id).in_(ids), available_to(audience))))}
    return [found[i] for i in ids if i in found][:limit]


async def run(rt: Runtime) -> None:
    """The server's loop: recompute every `crm_lobby_popular_interval_seconds` (safe on several replicas: each
    computation replaces the whole table in one transaction)."""
    while True:
        await asyncio.sleep(rt.settings.crm_lobby_popular_interval_seconds)
        try:
            async with rt.database.transaction() as db:
                await compute(db, min_players=rt.settings.crm_lobby_popular_min_players)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crm_lobby_popular_failed")
