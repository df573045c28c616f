"""A player's KYC state: the level reached, the level required and why, and its status.

Every KYC command takes the state row's lock first (`lock_state`, creating the row at the profile's first
level), so two officers, a trigger and a provider result on one player are decided one after the other.
In the cashier's transactions it comes after the player's money lock (services/wallet.py), which those
take first. Levels only go up: `advance` reaches each next level whose requirements are all met, in order.
`require` records a trigger once per (player, trigger, level) and raises the required level; `status`
is recomputed by every command (the queue filters on it), and `Player.kyc` recomputes it on reading.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core import outbox
from core.clock import clock
from models.kyc import KycRequirement, KycState, KycStatus
from models.players import Player
from services.kyc import requirements
from services.kyc.levels import KycProfile, Level, profile_for


def profile_of(player: Player) -> KycProfile:
    return profile_for(player.jurisdiction)


async def lock_state(db: AsyncSession, player: Player) -> KycState:
    first = profile_of(player).first
    now = clock.now()
    await db.flush()  # a change made earlier in this transaction survives the re-read below
    await db.execute(
        insert(KycState)
        .values(
            player_id=player.id,
            brand_id=player.brand_id,
            level=first.code,
            level_rank=first.rank,
            required_level=first.code,
            required_rank=first.rank,
            required_details={},
            status=KycStatus.VERIFIED.value,
            restricted=False,
            high_risk=False,
            created_at=now,
            updated_at=now,
        )
        .on_conflict_do_nothing(index_elements=["player_id"])
    )
    state = await db.get(KycState, player.id, with_for_update=True, populate_existing=True)
    assert state is not None
    return state


async def read_state(db: AsyncSession, player: Player) -> KycState:
    """The state without a lock (a reader's): no row yet reads as the profile's first level."""
    found = await db.get(KycState, player.id)
    if found is not None:
        return found
    first = profile_of(player).first
    return KycState(
        player_id=player.id,
        brand_id=player.brand_id,
        level=first.code,
        level_rank=first.rank,
        required_level=first.code,
        required_rank=first.rank,
        status=KycStatus.VERIFIED.value,
    )


async def emit(db: AsyncSession, state: KycState, topic: str, **data: Any) -> None:
    await outbox.emit(
        db,
        topic,
        f"player:{state.player_id}",
        {"player_id": str(state.player_id), "level": state.level, **data},
        brand_id=state.brand_id,
    )


async def require(
    db: AsyncSession,
    player: Player,
    state: KycState,
    *,
    trigger: str,
    level: str,
    gates: Sequence[str],
    details: dict[str, Any],
) -> bool:
    """Record that `trigger` requires `level` (once); True when it is new. Under `lock_state`."""
    target = profile_of(player).level(level)
    inserted = await db.scalar(
        insert(KycRequirement)
        .values(
            id=uuid.uuid4(),
            player_id=player.id,
            level=target.code,
            level_rank=target.rank,
            trigger=trigger,
            gates=list(gates),
            details=details,
            created_at=clock.now(),
        )
        .on_conflict_do_nothing(constraint="uq_kyc_requirements_trigger")
        .returning(col(KycRequirement.id))
    )
    if inserted is None and not await _share(db, player, trigger=trigger, level=target.code, details=details):
        return False
    if target.rank > state.required_rank:
        state.required_level, state.required_rank = target.code, target.rank
        state.required_trigger, state.required_details = trigger, details
        state.updated_at = clock.now()
    await emit(
        db,
        state,
        "kyc.level_required",
        required_level=target.code,
        trigger=trigger,
        gates=list(gates),
        details=details,
    )
    return True


def _signals(details: dict[str, Any]) -> list[str]:
    """The sources a requirement row stands for: its `signal`, then those that required its level after it."""
    return [str(details["signal"]), *details.get("also", [])] if "signal" in details else []


async def _share(db: AsyncSession, player: Player, *, trigger: str, level: str, details: dict[str, Any]) -> bool:
    """The row of (player, trigger, level) exists: a second source (`details["signal"]`) of the same level is
    added to it (`also`), so withdrawing one source never withdraws the other's. True when it was added."""
    signal = details.get("signal")
    row = await db.scalar(
        select(KycRequirement).where(
            col(KycRequirement.player_id) == player.id,
            col(KycRequirement.trigger) == trigger,
            col(KycRequirement.level) == level,
        )
    )
    if signal is None or row is None or signal in _signals(row.details):
        return False
    row.details = {**row.details, "also": [*row.details.get("also", []), signal]}
    await db.flush()
    return True


async def withdraw(db: AsyncSession, player: Player, state: KycState, *, trigger: str, signal: str) -> bool:
    """The requirements `trigger` recorded for `signal` go (their source withdrew them: a risk action lifted),
    unless another source required the same level too (it stays, theirs); the level required falls back to the
    highest of those left. Under `lock_state`; True when one went."""
    rows = (
        await db.scalars(
            select(KycRequirement).where(
                col(KycRequirement.player_id) == player.id, col(KycRequirement.trigger) == trigger
            )
        )
    ).all()
    gone, changed = [], False
    for row in rows:
        signals = _signals(row.details)
        if signal not in signals:
            continue
        changed = True
        rest = [s for s in signals if s != signal]
        if rest:  # another source still requires this level: the row stays, theirs
            kept = {k: v for k, v in row.details.items() if k != "also"}
            row.details = {**kept, "signal": rest[0], **({"also": rest[1:]} if rest[1:] else {})}
        else:
            gone.append(row)
    for row in gone:
        await db.delete(row)
    await db.flush()
    if not changed:
        return False
    left = (
        await db.scalars(
            select(KycRequirement)
            .where(col(KycRequirement.player_id) == player.id)
            .order_by(col(KycRequirement.level_rank).desc(), col(KycRequirement.created_at))
            .limit(1)
        )
    ).first()
    first = profile_of(player).first
    state.required_level, state.required_rank = (left.level, left.level_rank) if left else (first.code, first.rank)
    state.required_trigger = left.trigger if left else None
    state.required_details = left.details if left else {}
    state.updated_at = clock.now()
    if not gone:
        return False
    await emit(
        db,
        state,
        "kyc.requirement_withdrawn",
        required_level=state.required_level,
        trigger=trigger,
        withdrawn=[row.level for row in gone],
        details={"signal": signal},
    )
    return True


async def open_requirements(db: AsyncSession, state: KycState) -> list[KycRequirement]:
    """The triggers whose level the player has not reached yet, highest level first."""
    rows = await db.scalars(
        select(KycRequirement)
        .where(col(KycRequirement.player_id) == state.player_id, col(KycRequirement.level_rank) > state.level_rank)
        .order_by(col(KycRequirement.level_rank).desc(), col(KycRequirement.created_at))
    )
    return list(rows.all())


async def next_missing(
    db: AsyncSession, player: Player, state: KycState
) -> tuple[Level | None, list[requirements.Missing]]:
    """The next level towards the required one and what it still lacks (None: nothing is required)."""
    if state.level_rank >= state.required_rank:
        return None, []
    above = profile_of(player).above(state.level_rank)
    level = above[0]
    return level, await requirements.missing(db, player.id, level)


def status_of(state: KycState, missing: Sequence[requirements.Missing]) -> KycStatus:
    if state.restricted:
        return KycStatus.RESTRICTED
    if state.level_rank >= state.required_rank:
        return KycStatus.VERIFIED
    if any(m.player_can_act for m in missing):
        return KycStatus.ACTION_REQUIRED
    return KycStatus.PENDING_REVIEW


async def advance(db: AsyncSession, player: Player, state: KycState) -> list[str]:
    """Reach every next level whose requirements are met (in order), then recompute the status; returns the
    levels reached. Under `lock_state`."""
    reached: list[str] = []
    for level in profile_of(player).above(state.level_rank):
        if level.rank != state.level_rank + 1 or await requirements.missing(db, player.id, level):
            break
        state.level, state.level_rank = level.code, level.rank
        state.updated_at = clock.now()
        reached.append(level.code)
        await emit(db, state, "kyc.level_reached", rank=level.rank)
    _, missing = await next_missing(db, player, state)
    new_status = status_of(state, missing).value
    if new_status != state.status:
        state.status = new_status
        state.updated_at = clock.now()
    return reached
