"""KYC officers' review of a player's level: approve (four eyes where the profile or a high-risk player asks),
reject, or request more, each with a reason, audited and announced (`kyc.review_decided`).

An officer approves the player's next level only, and only once every other requirement of that level is
met (documents, provider check, screening): the approval is the last requirement, and reaching the level
follows in the same transaction (`state.advance`). The officer who lifted a player's high-risk mark gives
only a first approval of their levels (one officer cannot lift the mark and then approve alone). Under the
state's lock, so two officers approving at once are decided one after the other: the second finds the
level approved (INVALID_STATE) or, with four eyes, completes it. After the commit, withdrawals that waited
for the level are released (services/cashier/kyc_waits.py).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.kyc import KycReview, KycState, ReviewStatus
from models.players import Player
from services import audit, players
from services.kyc import requirements
from services.kyc import state as kyc_state
from services.kyc.levels import Level


@dataclass(frozen=True)
class ReviewOutcome:
    review: KycReview
    state: KycState
    awaiting_second_approval: bool


def staff_id(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Only KYC officers decide on verification.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


def _reason(reason: str | None, field: str = "reason") -> str:
    if not reason or not reason.strip():
        raise DomainError("A reason is required.", field=field)
    return reason.strip()[:500]


async def locked(db: AsyncSession, viewer: Viewer, player_id: uuid.UUID) -> tuple[Player, KycState]:
    """The player (within the officer's brands) and their state, locked."""
    player = await players.get_readable(db, viewer, player_id)
    return player, await kyc_state.lock_state(db, player)


def _next_level(player: Player, state: KycState, level: str) -> Level:
    profile = kyc_state.profile_of(player)
    if not profile.has(level):
        raise DomainError(f"Unknown level {level!r}.", field="level")
    target = profile.level(level)
    if target.rank != state.level_rank + 1:
        raise DomainError(
            f"Only the player's next level can be decided (they are at {state.level}).",
            code=ErrorCode.INVALID_STATE,
            field="level",
        )
    return target


async def _review(db: AsyncSession, player_id: uuid.UUID, level: str) -> KycReview:
    found = await db.scalar(
        select(KycReview).where(col(KycReview.player_id) == player_id, col(KycReview.level) == level).with_for_update()
    )
    if found is None:
        found = KycReview(player_id=player_id, level=level, status=ReviewStatus.PENDING.value)
        db.add(found)
    return found


async def _record(
    db: AsyncSession, viewer: Viewer, state: KycState, review: KycReview, action: str, before: dict[str, Any]
) -> None:
    await db.flush()
    await kyc_state.emit(
        db,
        state,
        "kyc.review_decided",
        reviewed_level=review.level,
        decision=review.status,
        officer=str(viewer.id),
    )
    await audit.append(
        db,
        actor=viewer,
        action=action,
        target_type="player",
        target_id=state.player_id,
        brand_id=state.brand_id,
        before=before,
        after={"level": state.level, "review": review.status, "reviewed_level": review.level},
        reason=review.reason or review.requested,
    )


async def approve_level(rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, level: str, reason: str) -> ReviewOutcome:
    officer = staff_id(viewer)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        target = _next_level(player, state, level)
        missing = await requirements.missing(db, player.id, target, skip=frozenset({"officer_approval"}))
        if missing:
            raise DomainError(
                "Not every requirement of this level is met: " + ", ".join(m.requirement for m in missing) + ".",
                code=ErrorCode.INVALID_STATE,
                field="level",
            )
        review = await _review(db, player.id, target.code)
        before = {"level": state.level, "review": review.status}
        four_eyes = (
            state.high_risk
            or state.high_risk_lifted_by == officer
            or target.code in kyc_state.profile_of(player).four_eyes_levels
        )
        waiting = four_eyes and review.status != ReviewStatus.FIRST_APPROVAL
        if waiting:
            review.status, review.first_approved_by = ReviewStatus.FIRST_APPROVAL.value, officer
            action = "kyc.level_first_approval"
        else:
            if review.first_approved_by == officer:
                raise DomainError(
                    "Four eyes: a second, different KYC officer must approve this level.",
                    code=ErrorCode.APPROVAL_REQUIRED,
                    field="level",
                )
            review.status, review.decided_by = ReviewStatus.APPROVED.value, officer
            action = "kyc.level_approve"
        review.reason, review.decided_at = why, clock.now()
        await db.flush()
        await kyc_state.advance(db, player, state)
        await _record(db, viewer, state, review, action, before)
        outcome = ReviewOutcome(review, state, waiting)
    await after_change(rt, player_id)
    return outcome


async def reject_level(rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, level: str, reason: str) -> ReviewOutcome:
    """The level is not granted (the player stays where they are; a new submission reopens the review)."""
    officer = staff_id(viewer)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        target = _next_level(player, state, level)
        review = await _review(db, player.id, target.code)
        before = {"level": state.level, "review": review.status}
        review.status, review.decided_by, review.first_approved_by = ReviewStatus.REJECTED.value, officer, None
        review.reason, review.decided_at = why, clock.now()
        await kyc_state.advance(db, player, state)
        await _record(db, viewer, state, review, "kyc.level_reject", before)
        return ReviewOutcome(review, state, False)


async def request_more(rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, level: str, what: str) -> ReviewOutcome:
    """Ask the player for more (`what` is shown to them); the review is open again."""
    officer = staff_id(viewer)
    asked = _reason(what, "what")
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        target = _next_level(player, state, level)
        review = await _review(db, player.id, target.code)
        before = {"level": state.level, "review": review.status}
        review.status, review.decided_by, review.first_approved_by = ReviewStatus.MORE_REQUESTED.value, officer, None
        review.requested, review.reason, review.decided_at = asked, None, clock.now()
        await kyc_state.advance(db, player, state)
        await _record(db, viewer, state, review, "kyc.level_request_more", before)
        return ReviewOutcome(review, state, False)


async def after_change(rt: Runtime, player_id: uuid.UUID) -> None:
    """After a commit that may have reached a level or lifted a restriction: release waiting withdrawals, and
    the crypto deposits held by a gate that now passes."""
    from services.cashier.crypto.holds import release_cleared  # the cashier imports this package's gates
    from services.cashier.kyc_waits import release_waiting

    await release_waiting(rt, player_id)
    await release_cleared(rt, player_id)
