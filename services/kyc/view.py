"""What `Player.kyc` shows: level, required level and why, status, and the next steps; and the officers'
review queue (one statement a page: the states needing attention in the officer's brands)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from models.kyc import KycReview, KycState, KycStatus
from models.kyc_idv import IdvApplicant
from models.players import Player
from services.kyc import requirements
from services.kyc import state as kyc_state
from services.kyc.levels import RISK_SIGNAL


@dataclass(frozen=True)
class Overview:
    state: KycState
    status: KycStatus
    next_level: str | None
    missing: list[requirements.Missing]
    requested: str | None  # what an officer asked for, while the next level's review asks for more
    levels: tuple[str, ...]
    reason: dict[str, Any]
    verification: IdvApplicant | None = None  # the player's applicant at the identity-verification provider


async def overview(db: AsyncSession, player: Player, *, for_player: bool = False) -> Overview:
    """`for_player`: the player's own view, where a risk signal shows without its code (such as
    `aml.structuring`: telling a player what they are suspected of is tipping off)."""
    state = await kyc_state.read_state(db, player)
    level, missing = await kyc_state.next_missing(db, player, state)
    requested = None
    if level is not None:
        review = await db.scalar(
            select(KycReview).where(col(KycReview.player_id) == player.id, col(KycReview.level) == level.code)
        )
        if review is not None and review.status == "more_requested":
            requested = review.requested
    reason = {"trigger": state.required_trigger, **state.required_details} if state.required_trigger else {}
    verification = await db.scalar(
        select(IdvApplicant)
        .where(col(IdvApplicant.player_id) == player.id)
        .order_by(col(IdvApplicant.updated_at).desc())
        .limit(1)
    )
    if for_player and state.required_trigger == RISK_SIGNAL:
        reason = {"trigger": RISK_SIGNAL}
    return Overview(
        state,
        kyc_state.status_of(state, missing),
        level.code if level else None,
        missing,
        requested,
        tuple(x.code for x in kyc_state.profile_of(player).levels),
        reason,
        verification,
    )


def review_queue(viewer: Viewer, status: KycStatus | None) -> SelectOfScalar[KycState]:
    """States that need an officer (not verified), in the viewer's brands, oldest change first."""
    stmt = select(KycState).where(col(KycState.status) != KycStatus.VERIFIED.value)
    if status is not None:
        stmt = select(KycState).where(col(KycState.status) == status.value)
    if viewer.brand_id is not None:
        stmt = stmt.where(col(KycState.brand_id) == viewer.brand_id)
    return stmt
