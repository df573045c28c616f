"""Time-outs (24 hours to 6 weeks) and self-exclusion (at least 6 months, or permanent).

Effective at once and never shortened, by the player or by staff: there is no code path that ends
one early. Starting one ends the player's login sessions and withdraws marketing consent; while it
lasts the gates refuse play logins, deposits, launches and bets, and the player can still sign in
with `purpose: WITHDRAWAL` to take their money out.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, LimitDetails
from core.runtime import Runtime
from models.players import Player
from models.rg import ExclusionKind, RgExclusion
from services import audit, auth, wallet
from services.rg import history


class TimeOut(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    SIX_WEEKS = "six_weeks"


class SelfExclusion(StrEnum):
    SIX_MONTHS = "six_months"
    ONE_YEAR = "one_year"
    FIVE_YEARS = "five_years"
    PERMANENT = "permanent"


TIME_OUTS = {
    TimeOut.DAY: timedelta(hours=24),
    TimeOut.WEEK: timedelta(days=7),
    TimeOut.MONTH: timedelta(days=30),
    TimeOut.SIX_WEEKS: timedelta(weeks=6),
}
SELF_EXCLUSIONS: dict[SelfExclusion, timedelta | None] = {
    SelfExclusion.SIX_MONTHS: timedelta(days=183),
    SelfExclusion.ONE_YEAR: timedelta(days=365),
    SelfExclusion.FIVE_YEARS: timedelta(days=5 * 365),
    SelfExclusion.PERMANENT: None,
}


async def active(db: AsyncSession, player_id: uuid.UUID, at: datetime | None = None) -> RgExclusion | None:
    """The exclusion in force, the longest first (a permanent one wins)."""
    at = at or clock.now()
    found: RgExclusion | None = await db.scalar(
        select(RgExclusion)
        .where(
            col(RgExclusion.player_id) == player_id,
            col(RgExclusion.starts_at) <= at,
            or_(col(RgExclusion.ends_at).is_(None), col(RgExclusion.ends_at) > at),
        )
        .order_by(col(RgExclusion.ends_at).desc().nulls_first())
        .limit(1)
    )
    return found


def refusal(exclusion: RgExclusion) -> DomainError:
    until = exclusion.ends_at
    if exclusion.kind == ExclusionKind.TIME_OUT:
        assert until is not None
        return DomainError(
            f"You are taking a break until {until.isoformat()}.",
            code=ErrorCode.TIMED_OUT,
            limit=LimitDetails(kind="time_out", resets_at=until),
        )
    when = f"until {until.isoformat()}" if until else "permanently"
    return DomainError(
        f"This account is self-excluded {when}. You can still sign in to withdraw your balance.",
        code=ErrorCode.SELF_EXCLUDED,
        limit=LimitDetails(kind="self_exclusion", resets_at=until),
    )


async def start(
    rt: Runtime, actor: Viewer, player: Player, kind: ExclusionKind, length: timedelta | None, *, source: str
) -> RgExclusion:
    now = clock.now()
    async with rt.database.transaction() as db:
        locked = (await wallet.lock_player_money(db, player.id, standing=True)).player
        assert locked is not None
        exclusion = RgExclusion(
            player_id=player.id,
            kind=kind.value,
            starts_at=now,
            ends_at=now + length if length is not None else None,
            source=source,
            created_at=now,
        )
        db.add(exclusion)
        consent_before = locked.marketing_consent
        locked.marketing_consent = False  # no marketing to an excluded player; they may opt in again later
        # Logins end now, and the game sessions launched from them; the provider's next bet hears "user
        # disabled" (the wallet answers an excluded player so before it looks at the token).
        revoked = await auth.revoke_sessions(db, subject_type="player", subject_id=player.id, reason=kind.value)
        await db.flush()
        details = {
            "kind": kind.value,
            "ends_at": exclusion.ends_at.isoformat() if exclusion.ends_at else None,
            "source": source,
            "marketing_consent_before": consent_before,
        }
        await history.add(db, player.id, f"rg.{kind.value}_started", actor, details)
        await outbox.emit(db, "player.excluded", f"player:{player.id}", {"player_id": str(player.id), **details})
        await audit.append(
            db,
            actor=actor,
            action=f"rg.{kind.value}_started",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after=details,
        )
    await auth.after_commit_revoked(rt, revoked)
    return exclusion


async def take_time_out(rt: Runtime, actor: Viewer, player: Player, length: TimeOut) -> RgExclusion:
    return await start(rt, actor, player, ExclusionKind.TIME_OUT, TIME_OUTS[length], source=actor.actor_type)


async def self_exclude(rt: Runtime, actor: Viewer, player: Player, length: SelfExclusion) -> RgExclusion:
    return await start(
        rt, actor, player, ExclusionKind.SELF_EXCLUSION, SELF_EXCLUSIONS[length], source=actor.actor_type
    )
