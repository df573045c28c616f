"""The RG worker, one per API process (its steps are safe to run on several replicas at once): pushes
due reality checks, ends sessions whose time limit is spent, and scans for risk patterns."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy import text
from sqlmodel import col, select

from core.clock import clock
from core.logging import get_logger
from core.runtime import Runtime
from models.players import Player
from models.rg import LimitKind, RgLimit
from services import auth, game_sessions
from services.rg import flags, limits, reality

log = get_logger(__name__)

# Players with a time limit and a session in use now: a running login span, or a running game span of a
# game session that can still bet.
_TIMED_PLAYERS = text("""
SELECT s.subject_id FROM auth_sessions s
JOIN session_spans sp ON sp.session_id = s.id AND sp.ends_at > :now
JOIN rg_limits l ON l.player_id = s.subject_id AND l.kind = 'session_time' AND l.amount IS NOT NULL
WHERE s.subject_type = 'player' AND s.scope = 'full' AND s.revoked_at IS NULL
UNION
SELECT g.player_id FROM game_session_spans gp
JOIN game_sessions g ON g.id = gp.game_session_id AND g.ended_at IS NULL AND g.expires_at > :now
JOIN rg_limits l ON l.player_id = g.player_id AND l.kind = 'session_time' AND l.amount IS NOT NULL
WHERE gp.ends_at > :now
""")


async def end_spent_sessions(rt: Runtime) -> int:
    """Players logged in past a session-time limit: their sessions end (and they are told)."""
    now = clock.now()
    ended = 0
    async with rt.database.session() as db:
        player_ids = list((await db.execute(_TIMED_PLAYERS, {"now": now})).scalars())
    for player_id in player_ids:
        revoked: list[uuid.UUID] = []
        async with rt.database.transaction() as db:
            player = await db.get(Player, player_id)
            rows = (
                await db.scalars(
                    select(RgLimit).where(
                        col(RgLimit.player_id) == player_id,
                        col(RgLimit.kind) == LimitKind.SESSION_TIME.value,
                        col(RgLimit.amount).is_not(None),
                    )
                )
            ).all()
            if player is None:
                continue
            for limit in rows:
                if (await limits.usage(db, player, limit, now, rt.settings.stated_rates)).remaining <= 0:
                    sessions = (
                        (
                            await db.execute(
                                text(
                                    "SELECT id FROM auth_sessions WHERE subject_type = 'player' AND subject_id = :p "
                                    "AND scope = 'full' AND revoked_at IS NULL"
                                ),
                                {"p": player_id},
                            )
                        )
                        .scalars()
                        .all()
                    )
                    for session_id in sessions:
                        revoked += await reality.end_session(db, player_id, session_id, reason="session_time_limit")
                    await game_sessions.end_for_player(db, player_id)  # also games whose login lapsed
                    break
        await auth.after_commit_revoked(rt, revoked)
        ended += len(revoked)
    return ended


async def run(rt: Runtime) -> None:
    loop = asyncio.get_running_loop()
    next_scan = loop.time()
    while True:
        try:
            await reality.push_due(rt)
            await end_spent_sessions(rt)
            if loop.time() >= next_scan:
                await flags.scan(rt)
                next_scan = loop.time() + rt.settings.rg_flag_scan_seconds
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("rg_worker_failed")
        await asyncio.sleep(rt.settings.rg_worker_interval_seconds)
