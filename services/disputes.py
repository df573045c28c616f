"""Disputes of chargebacks, as staff work them: the queue, one dispute, submitting its evidence to the PSP,
closing it as lost. Opening one and winning one are the PSP's notices (services/cashier/chargebacks.py):
no staff step moves money, and a PSP's reversal wins a dispute whatever staff decided before.

Who: finance and risk analysts (and the roles inheriting theirs), of the request's brand scope; Casbin
decides per field (the evidence, with the player's sessions, is risk's, not finance's), and the service
checks the role again for its steps. Every step is audited and announced (`dispute.*`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, false, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.runtime import Runtime
from models.disputes import Dispute, DisputeState
from services import audit
from services.cashier.chargebacks import announce

DISPUTE_DESK = frozenset({"finance", "risk_analyst", "brand_admin", "superadmin"})
OPEN_STATES = (DisputeState.OPEN, DisputeState.EVIDENCE_SUBMITTED)


def readable_disputes(viewer: Viewer) -> SelectOfScalar[Dispute]:
    """The disputes this viewer may read, as SQL: staff (and the platform) those of the request's brand scope."""
    stmt = select(Dispute)
    if not (viewer.is_staff or viewer.kind == "system"):
        return stmt.where(false())
    return stmt if viewer.brand_id is None else stmt.where(col(Dispute.brand_id) == viewer.brand_id)


@dataclass(frozen=True)
class DisputeFilter:
    states: tuple[DisputeState, ...] = ()
    player_id: uuid.UUID | None = None


def queue(viewer: Viewer, where: DisputeFilter) -> SelectOfScalar[Dispute]:
    stmt = readable_disputes(viewer).where(col(Dispute.chargeback_transaction_id).is_not(None))
    if where.states:
        stmt = stmt.where(col(Dispute.state).in_([s.value for s in where.states]))
    if where.player_id is not None:
        stmt = stmt.where(col(Dispute.player_id) == where.player_id)
    return stmt


async def get_readable(db: AsyncSession, viewer: Viewer, dispute_id: uuid.UUID, *, lock: bool = False) -> Dispute:
    stmt = readable_disputes(viewer).where(col(Dispute.id) == dispute_id)
    found = await db.scalar(stmt.with_for_update() if lock else stmt)
    if found is None or found.chargeback_transaction_id is None:  # a reversal waiting for its chargeback
        raise NotFound("No such dispute.", field="disputeId")
    return found


def _staff(viewer: Viewer, what: str) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None or not (viewer.roles & DISPUTE_DESK):
        raise DomainError(f"Only finance or risk staff {what}.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


def _reason(text: str, field: str) -> str:
    if not text or not text.strip():
        raise DomainError("Say why.", field=field)
    return text.strip()[:2000]


async def _step(
    rt: Runtime, viewer: Viewer, dispute_id: uuid.UUID, *, to: DisputeState, text: str, action: str, field: str
) -> Dispute:
    staff_id = _staff(viewer, "work disputes")
    why = _reason(text, field)
    async with rt.database.transaction() as db:
        dispute = await get_readable(db, viewer, dispute_id, lock=True)
        allowed = (DisputeState.OPEN,) if to == DisputeState.EVIDENCE_SUBMITTED else OPEN_STATES
        if dispute.state not in allowed:
            raise DomainError(
                f"This dispute is {dispute.state}: it cannot become {to.value}.",
                code=ErrorCode.INVALID_STATE,
                field="disputeId",
            )
        before = {"state": dispute.state}
        now = clock.now()
        dispute.state, dispute.note, dispute.updated_at = to.value, why, now
        if to == DisputeState.LOST:
            dispute.decided_at, dispute.decided_by = now, staff_id
        await db.flush()
        await announce(db, dispute, f"dispute.{to.value}", staff_id=str(staff_id))
        await audit.append(
            db,
            actor=viewer,
            action=action,
            target_type="dispute",
            target_id=dispute.id,
            brand_id=dispute.brand_id,
            before=before,
            after={"state": dispute.state},
            reason=why,
        )
        return dispute


async def submit_evidence(rt: Runtime, viewer: Viewer, dispute_id: uuid.UUID, note: str) -> Dispute:
    """Staff sent the dispute's evidence to the PSP (with what they wrote to it): open → evidence_submitted."""
    return await _step(
        rt, viewer, dispute_id, to=DisputeState.EVIDENCE_SUBMITTED, text=note, action="dispute.submit", field="note"
    )


async def close_lost(rt: Runtime, viewer: Viewer, dispute_id: uuid.UUID, reason: str) -> Dispute:
    """The PSP decided for the cardholder (or the operator gives up): the chargeback stands, and its debt is
    the player's to repay. A reversal arriving later still wins it (the PSP's word on the money)."""
    return await _step(rt, viewer, dispute_id, to=DisputeState.LOST, text=reason, action="dispute.lose", field="reason")
