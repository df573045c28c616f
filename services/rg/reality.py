"""Reality checks: every N minutes of a login session the player is shown how long they have played
and their net result since the session began, and chooses to continue or stop.

A check belongs to a login session (rg_reality_checks, made at login). When it falls due, the RG
worker pushes it to the player (outbox → `realityCheck` subscription); until the player answers,
launches are refused (REALITY_CHECK_DUE) and the provider's bets get LIMIT_REACHED, so the game
pauses. Continue: the next check is due an interval later. Stop: the session ends.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, delete, select

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.auth import AuthSession
from models.players import Player
from models.rg import RgRealityCheck
from services import auth, wallet
from services.rg import history
from services.rg.profiles import profile

MIN_MINUTES, MAX_MINUTES = 5, 240

_NET_RESULT = text("""
SELECT p.currency, sum(p.amount) AS net
FROM ledger_transactions t
JOIN ledger_postings p ON p.transaction_id = t.id
JOIN ledger_accounts a ON a.id = p.account_id AND a.owner_type = 'player' AND a.purpose = 'cash'
WHERE t.player_id = :player AND t.created_at >= :since AND t.status = 'committed'
  AND t.kind IN ('game_bet', 'game_win', 'game_bet_rollback', 'game_win_rollback')
GROUP BY p.currency ORDER BY p.currency
""")


# A new interval keeps the time already played: the next check is due at the earlier of the old due
# time and the new interval counted from when the current one began (it may be due at once). Choosing
# again never postpones a check, and a check already due stays due (changing it is not an answer).
_RESCHEDULE = text("""
UPDATE rg_reality_checks SET interval_seconds = :seconds,
    next_due_at = least(next_due_at, interval_started_at + :interval)
WHERE player_id = :player
""")

# Checks turned on (or back on): each playing login session of the player without a check gets one, its
# interval counted from the session's start, as if checks had been on all along (the time it has been
# played, `minutesPlayed`, runs from there too). So turning checks off and on again restarts nothing, and
# a session opened on another device while they were off is checked as well. It may be due at once.
_START_OPEN_SESSIONS = text("""
INSERT INTO rg_reality_checks (session_id, player_id, interval_seconds, interval_started_at, next_due_at)
SELECT s.id, s.subject_id, :seconds, s.created_at, s.created_at + :interval FROM auth_sessions s
WHERE s.subject_type = 'player' AND s.subject_id = :player AND s.scope = 'full'
  AND s.revoked_at IS NULL AND s.expires_at > :now
ON CONFLICT (session_id) DO NOTHING
""")


def interval_minutes(player: Player) -> int:
    """The player's choice, else the jurisdiction's default; a required check cannot be turned off."""
    rules = profile(player.jurisdiction)
    chosen = player.reality_check_minutes
    if chosen is None or (chosen == 0 and rules.reality_check_required):
        return rules.reality_check_minutes
    return chosen


async def start(db: AsyncSession, player: Player, session_id: uuid.UUID, now: datetime) -> None:
    """At login: the session's first check, if the player has checks."""
    minutes = interval_minutes(player)
    if minutes > 0:
        db.add(
            RgRealityCheck(
                session_id=session_id,
                player_id=player.id,
                interval_seconds=minutes * 60,
                interval_started_at=now,
                next_due_at=now + timedelta(minutes=minutes),
            )
        )
        await db.flush()


async def choose_interval(rt: Runtime, viewer: Viewer, player: Player, minutes: int) -> Player:
    """The player's interval (0 turns checks off where the jurisdiction allows it); open sessions follow."""
    rules = profile(player.jurisdiction)
    if minutes == 0 and rules.reality_check_required:
        raise DomainError(
            f"{rules.name} requires reality checks; choose an interval.", field="minutes", code=ErrorCode.LIMIT_REQUIRED
        )
    if minutes != 0 and not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise DomainError(
            f"Choose between {MIN_MINUTES} and {MAX_MINUTES} minutes (0 turns them off).", field="minutes"
        )
    now = clock.now()
    async with rt.database.transaction() as db:
        locked = (await wallet.lock_player_money(db, player.id, standing=True)).player
        assert locked is not None
        before = locked.reality_check_minutes
        locked.reality_check_minutes = minutes
        if minutes == 0:
            await db.execute(delete(RgRealityCheck).where(col(RgRealityCheck.player_id) == player.id))
        else:  # every open session follows; a check already due stays due (changing it is not an answer)
            interval = {"player": player.id, "seconds": minutes * 60, "interval": timedelta(minutes=minutes)}
            await db.execute(_RESCHEDULE, interval)
            await db.execute(_START_OPEN_SESSIONS, {**interval, "now": now})
        await history.add(db, player.id, "rg.reality_check_interval_set", viewer, {"before": before, "after": minutes})
        await outbox.emit(
            db,
            "rg.reality_check_interval_set",
            f"player:{player.id}",
            {"player_id": str(player.id), "minutes": minutes, "previous_minutes": before, "by": viewer.actor_type},
            brand_id=locked.brand_id,
        )
    return locked


@dataclass(frozen=True)
class CheckState:
    session_started_at: datetime
    interval_seconds: int
    next_due_at: datetime
    due: bool
    seconds_played: int
    net_result: list[tuple[str, int]]  # (currency, wins minus stakes) since the session began


async def state(db: AsyncSession, session_id: uuid.UUID, now: datetime) -> CheckState | None:
    row = (
        await db.execute(
            select(RgRealityCheck, AuthSession)
            .join(AuthSession, col(AuthSession.id) == col(RgRealityCheck.session_id))
            .where(col(RgRealityCheck.session_id) == session_id)
        )
    ).first()
    if row is None:
        return None
    check, session = row
    net = (await db.execute(_NET_RESULT, {"player": check.player_id, "since": session.created_at})).all()
    return CheckState(
        session.created_at,
        check.interval_seconds,
        check.next_due_at,
        check.next_due_at <= now,
        int((now - session.created_at).total_seconds()),
        [(r.currency, int(r.net)) for r in net],
    )


async def answer(rt: Runtime, viewer: Viewer, player: Player, *, keep_playing: bool) -> CheckState | None:
    """Continue (the next check is an interval away) or stop (this session ends)."""
    assert viewer.session_id is not None
    now = clock.now()
    revoked: list[uuid.UUID] = []
    async with rt.database.transaction() as db:
        check = await db.scalar(
            select(RgRealityCheck).where(col(RgRealityCheck.session_id) == viewer.session_id).with_for_update()
        )
        if check is None or check.next_due_at > now:
            raise DomainError("No reality check is waiting for an answer.", code=ErrorCode.INVALID_STATE)
        current = await state(db, viewer.session_id, now)
        details = {
            "continue": keep_playing,
            "due_at": check.next_due_at.isoformat(),
            "seconds_played": current.seconds_played if current else None,
        }
        await outbox.emit(
            db,
            "rg.reality_check_answered",
            f"player:{player.id}",
            {"player_id": str(player.id), "session_id": str(viewer.session_id), **details},
            brand_id=player.brand_id,
        )
        if keep_playing:
            check.interval_started_at = now
            check.next_due_at = now + timedelta(seconds=check.interval_seconds)
        else:
            revoked = await end_session(db, player.id, viewer.session_id, reason="reality_check_stop")
        await history.add(db, player.id, "rg.reality_check_answered", viewer, details)
    await auth.after_commit_revoked(rt, revoked)
    if not keep_playing:
        return None
    async with rt.database.session() as db:
        return await state(db, viewer.session_id, now)


async def end_session(db: AsyncSession, player_id: uuid.UUID, session_id: uuid.UUID, *, reason: str) -> list[uuid.UUID]:
    """End a login session and the games launched from it (call auth.after_commit_revoked after commit); the
    `player.session_ended` event tells the player's `realityCheck` subscription why."""
    return await auth.revoke_sessions(db, subject_type="player", subject_id=player_id, reason=reason, only=session_id)


_DUE = text("""
UPDATE rg_reality_checks c SET notified_for = c.next_due_at
FROM auth_sessions s
WHERE s.id = c.session_id AND s.revoked_at IS NULL AND c.next_due_at <= :now
  AND c.notified_for IS DISTINCT FROM c.next_due_at
RETURNING c.session_id, c.player_id, c.next_due_at, s.brand_id
""")


async def push_due(rt: Runtime) -> int:
    """Tell players whose check fell due (once per due time; safe on every replica at once)."""
    now = clock.now()
    async with rt.database.transaction() as db:
        due = (await db.execute(_DUE, {"now": now})).all()
        for row in due:
            await outbox.emit(
                db,
                "rg.reality_check_due",
                f"player:{row.player_id}",
                {
                    "player_id": str(row.player_id),
                    "session_id": str(row.session_id),
                    "due_at": row.next_due_at.isoformat(),
                },
                brand_id=row.brand_id,
            )
    return len(due)
