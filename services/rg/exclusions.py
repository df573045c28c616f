"""Time-outs (24 hours to 6 weeks) and self-exclusion (at least 6 months, or permanent).

Effective at once and never shortened, by the player or by staff: there is no code path that ends
one early. Starting one ends the player's login sessions and withdraws marketing consent; while it
lasts the gates refuse play logins, deposits, launches and bets, and the player can still sign in
with `purpose: WITHDRAWAL` to take their money out. The player takes one, or staff impose one with a
reason (audited).

One person, every brand: an exclusion covers every account of the person (services/rg/matching.py).
It is copied, as a row of that account's own (same kind and end, `origin_*` naming the row it copies),
to each matching account when it starts, and to an account found to match later (at login, deposit or
a profile change; registration of a matching person is refused). So the gates, and the provider bet
path above all, only ever read a player's own rows. An account already covered as long or longer
gets no copy, so repeated checks write nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, or_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import SYSTEM, Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, LimitDetails
from core.runtime import Runtime
from models.players import Player
from models.rg import ExclusionKind, RgExclusion
from services import audit, auth, wallet
from services.rg import history, matching


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


LINKED = "linked_account"  # the source of a copy made for a matching account


def _covered(existing: RgExclusion | None, kind: str, ends_at: datetime | None) -> bool:
    """Whether an exclusion in force already lasts as long as (and is as strong as) the one offered."""
    if existing is None or (kind == ExclusionKind.SELF_EXCLUSION and existing.kind != kind):
        return False
    return existing.ends_at is None or (ends_at is not None and existing.ends_at >= ends_at)


async def _strongest(db: AsyncSession, player_ids: list[uuid.UUID], at: datetime) -> RgExclusion | None:
    """Among these accounts, the exclusion in force that lasts longest (a self-exclusion before a time-out)."""
    found: RgExclusion | None = await db.scalar(
        select(RgExclusion)
        .where(
            col(RgExclusion.player_id).in_(player_ids),
            col(RgExclusion.starts_at) <= at,
            or_(col(RgExclusion.ends_at).is_(None), col(RgExclusion.ends_at) > at),
        )
        .order_by(
            col(RgExclusion.ends_at).desc().nulls_first(),
            case((col(RgExclusion.kind) == ExclusionKind.SELF_EXCLUSION.value, 0), else_=1),
        )
        .limit(1)
    )
    return found


async def _lock_in_order(db: AsyncSession, player_ids: list[uuid.UUID]) -> dict[uuid.UUID, Player]:
    """The players' rows, locked in id order (the one order every multi-player lock follows)."""
    locked: dict[uuid.UUID, Player] = {}
    for player_id in sorted(set(player_ids)):
        player = (await wallet.lock_player_money(db, player_id, standing=True)).player
        assert player is not None
        locked[player_id] = player
    return locked


@dataclass
class _Written:
    """What one transaction excluded: the audit records to append last, the sessions it ended."""

    audits: list[tuple[Player, dict[str, Any]]] = field(default_factory=list)
    revoked: list[uuid.UUID] = field(default_factory=list)


async def _exclude(
    db: AsyncSession,
    actor: Viewer,
    player: Player,
    written: _Written,
    *,
    kind: str,
    starts_at: datetime,
    ends_at: datetime | None,
    source: str,
    origin: RgExclusion | None = None,
    reason: str | None = None,
) -> RgExclusion:
    """One account's exclusion row, its consequences (sessions end, marketing off) and its history."""
    exclusion = RgExclusion(
        player_id=player.id,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        source=source,
        origin_exclusion_id=origin.id if origin else None,
        origin_player_id=origin.player_id if origin else None,
        created_at=clock.now(),
    )
    db.add(exclusion)
    consent_before = player.marketing_consent
    player.marketing_consent = False  # no marketing to an excluded player; they may opt in again later
    await db.flush()
    details: dict[str, Any] = {
        "kind": kind,
        "ends_at": ends_at.isoformat() if ends_at else None,
        "source": exclusion.source,
        "marketing_consent_before": consent_before,
    }
    if origin is not None:
        details["origin_player_id"] = str(origin.player_id)
    if reason is not None:
        details["reason"] = reason
    await history.add(db, player.id, f"rg.{kind}_started", actor, details)
    public = {key: value for key, value in details.items() if key != "reason"}  # staff's words stay inside
    await outbox.emit(
        db, "player.excluded", f"player:{player.id}", {"player_id": str(player.id), **public}, brand_id=player.brand_id
    )
    if consent_before:
        await outbox.emit(
            db,
            "player.marketing_consent_changed",
            f"player:{player.id}",
            {"player_id": str(player.id), "consent": False, "cause": "exclusion"},
            brand_id=player.brand_id,
        )
    # Logins end now, and the game sessions launched from them; the provider's next bet hears "user
    # disabled" (the wallet answers an excluded player so before it looks at the token).
    written.revoked += await auth.revoke_sessions(db, subject_type="player", subject_id=player.id, reason=kind)
    written.audits.append((player, details))
    return exclusion


async def _reach(
    db: AsyncSession, actor: Viewer, origin: RgExclusion, players: list[Player], written: _Written, now: datetime
) -> None:
    """Copy `origin` to each of these (locked) accounts of the same person not already covered by it."""
    for player in players:
        if player.id == origin.player_id or _covered(await active(db, player.id, now), origin.kind, origin.ends_at):
            continue
        await _exclude(
            db,
            actor,
            player,
            written,
            kind=origin.kind,
            starts_at=now,
            ends_at=origin.ends_at,
            source=LINKED,
            origin=origin,
        )


async def _finish(db: AsyncSession, actor: Viewer, written: _Written, reason: str | None) -> None:
    # Last in the transaction: the audit append holds the chain's lock until commit.
    for player, details in written.audits:
        await audit.append(
            db,
            actor=actor,
            action=f"rg.{details['kind']}_started",
            target_type="player",
            target_id=player.id,
            brand_id=player.brand_id,
            after=details,
            reason=reason,
        )


async def start(
    rt: Runtime,
    actor: Viewer,
    player: Player,
    kind: ExclusionKind,
    length: timedelta | None,
    *,
    source: str,
    reason: str | None = None,
) -> RgExclusion:
    """Start an exclusion on the player and every matching account of theirs, in one transaction."""
    now = clock.now()
    written = _Written()
    async with rt.database.transaction() as db:
        others = await matching.matching_ids(db, matching.Identity.of_player(player), besides=player.id)
        locked = await _lock_in_order(db, [player.id, *others])
        exclusion = await _exclude(
            db,
            actor,
            locked[player.id],
            written,
            kind=kind.value,
            starts_at=now,
            ends_at=now + length if length is not None else None,
            source=source,
            reason=reason,
        )
        await _reach(db, actor, exclusion, [locked[other] for other in others], written, now)
        await _finish(db, actor, written, reason)
    await auth.after_commit_revoked(rt, written.revoked)
    return exclusion


async def share_within(db: AsyncSession, player: Player, now: datetime) -> list[uuid.UUID]:
    """In the caller's transaction: the longest exclusion in force among the player's accounts (this one
    and its matches) reaches each of them not already covered. Returns the sessions it ended (pass them to
    `auth.after_commit_revoked` after the commit)."""
    others = await matching.matching_ids(db, matching.Identity.of_player(player), besides=player.id)
    if not others:
        return []
    strongest = await _strongest(db, [player.id, *others], now)
    if strongest is None:
        return []
    written = _Written()
    locked = await _lock_in_order(db, [player.id, *others])
    await _reach(db, SYSTEM, strongest, list(locked.values()), written, now)
    await _finish(db, SYSTEM, written, None)
    return written.revoked


async def share(rt: Runtime, player: Player) -> RgExclusion | None:
    """The login and deposit check: an exclusion in force at a matching account is extended to this
    one (so every later gate, the bet path included, refuses on the account's own row). Returns the
    exclusion now in force on this account, if any."""
    now = clock.now()
    async with rt.database.transaction() as db:
        revoked = await share_within(db, player, now)
        found = await active(db, player.id, now)
    await auth.after_commit_revoked(rt, revoked)
    return found


async def refused_person(db: AsyncSession, identity: matching.Identity) -> DomainError | None:
    """Registration: the refusal if this person has an exclusion in force at any brand."""
    ids = await matching.matching_ids(db, identity)
    found = await _strongest(db, ids, clock.now()) if ids else None
    if found is None:
        return None
    at_brand = refusal(found)
    return DomainError(
        "You have a time-out or self-exclusion at one of our brands; it covers all of them while it lasts.",
        code=at_brand.code,
        limit=at_brand.limit,
    )


async def take_time_out(rt: Runtime, actor: Viewer, player: Player, length: TimeOut) -> RgExclusion:
    return await start(rt, actor, player, ExclusionKind.TIME_OUT, TIME_OUTS[length], source=actor.actor_type)


async def self_exclude(rt: Runtime, actor: Viewer, player: Player, length: SelfExclusion) -> RgExclusion:
    return await start(
        rt, actor, player, ExclusionKind.SELF_EXCLUSION, SELF_EXCLUSIONS[length], source=actor.actor_type
    )


async def impose(
    rt: Runtime,
    actor: Viewer,
    player: Player,
    *,
    time_out: TimeOut | None,
    self_exclusion: SelfExclusion | None,
    reason: str,
) -> RgExclusion:
    """Staff exclude a player (and so every matching account), with a reason kept in the history and audit."""
    reason = reason.strip()
    if not reason:
        raise DomainError("Give a reason.", field="reason")
    if (time_out is None) == (self_exclusion is None):
        raise DomainError("Choose either a time-out or a self-exclusion length.", field="selfExclusion")
    length: timedelta | None
    if time_out is not None:
        kind, length = ExclusionKind.TIME_OUT, TIME_OUTS[time_out]
    else:
        assert self_exclusion is not None
        kind, length = ExclusionKind.SELF_EXCLUSION, SELF_EXCLUSIONS[self_exclusion]
    return await start(rt, actor, player, kind, length, source="staff", reason=reason)
