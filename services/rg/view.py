"""The RG view of one player, as the player and the RG team see it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.clock import clock
from core.runtime import Runtime
from models.players import Player
from models.rg import LimitPeriod, RgExclusion
from services.rg import activity, limits, reality
from services.rg.profiles import Profile, profile


@dataclass(frozen=True)
class PeriodActivity:
    period: LimitPeriod
    starts_at: datetime
    resets_at: datetime
    currency: str
    totals: activity.Totals
    seconds_played: int


@dataclass(frozen=True)
class Overview:
    player: Player
    rules: Profile
    limits: list[limits.Usage]
    exclusions: list[RgExclusion]
    active_exclusion: RgExclusion | None
    reality_check_minutes: int
    reality_check: reality.CheckState | None
    activity: list[PeriodActivity]
    now: datetime


async def overview(db: AsyncSession, rt: Runtime, player: Player, session_id: uuid.UUID | None) -> Overview:
    now = clock.now()
    rules = profile(player.jurisdiction)
    rates = rt.settings.stated_rates
    usages = [await limits.usage(db, player, limit, now, rates) for limit in await limits.limits_of(db, player.id)]
    exclusions = list(
        (
            await db.scalars(
                select(RgExclusion)
                .where(col(RgExclusion.player_id) == player.id)
                .order_by(col(RgExclusion.starts_at).desc())
            )
        ).all()
    )
    in_force = next((e for e in exclusions if e.starts_at <= now and (e.ends_at is None or e.ends_at > now)), None)
    periods = []
    for period in LimitPeriod:
        starts, resets = rules.period(period, now)
        per_currency = await activity.totals(db, player.id, rules.local_day(starts), rules.local_day(resets))
        totals = limits.measured_totals(per_currency, player.currency, rates)
        played = await activity.seconds_played(db, player.id, since=starts, until=resets, now=now)
        periods.append(PeriodActivity(period, starts, resets, player.currency, totals, played))
    check = await reality.state(db, session_id, now) if session_id is not None else None
    return Overview(player, rules, usages, exclusions, in_force, reality.interval_minutes(player), check, periods, now)
