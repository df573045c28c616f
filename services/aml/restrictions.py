"""Accounts restricted by an AML case, and the one question the gates ask: is this player restricted?

A restricted player may not deposit, launch real-money play or claim a bonus (each refused with
AML_RESTRICTED, a message that says "under review" and nothing about a case), and a withdrawal they request
is held: never approved automatically, and not approved by finance until the restriction is lifted. They
can still log in, read their account and request (or cancel) a withdrawal: the money stays theirs.

Bets at game providers are not gated here: the provider wallet's hot path (services/provider_wallet,
sql/wallet) stays as lean as it is, and a restricted player can launch no new game session, so only a
session opened before the restriction can still bet until it expires.

The gates call `aml_restriction` inside the transaction that records their decision (DESIGN.md §8).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.aml_cases import AmlCase, AmlRestriction
from services.aml.cases import INVESTIGATORS, MLRO, get_readable, record, require_open, require_role

Restriction = AmlRestriction


async def aml_restriction(db: AsyncSession, player_id: uuid.UUID) -> Restriction | None:
    """The restriction in force on the player's account, if any (the oldest, when several cases restrict)."""
    stmt = (
        select(AmlRestriction)
        .where(col(AmlRestriction.player_id) == player_id, col(AmlRestriction.lifted_at).is_(None))
        .order_by(col(AmlRestriction.created_at))
        .limit(1)
    )
    found: Restriction | None = await db.scalar(stmt)
    return found


def refusal(action: str) -> DomainError:
    return DomainError(
        f"Your account is under review: {action} is not available for now. Contact support.",
        code=ErrorCode.AML_RESTRICTED,
    )


async def check(db: AsyncSession, player_id: uuid.UUID, action: str) -> None:
    """Refuse `action` (a deposit, play, a bonus claim) while the account is restricted."""
    if await aml_restriction(db, player_id) is not None:
        raise refusal(action)


async def restriction_of(db: AsyncSession, case: AmlCase) -> Restriction | None:
    stmt = select(AmlRestriction).where(col(AmlRestriction.case_id) == case.id, col(AmlRestriction.lifted_at).is_(None))
    found: Restriction | None = await db.scalar(stmt)
    return found


async def restrict(rt: Runtime, viewer: Viewer, case_id: uuid.UUID, reason: str) -> AmlCase:
    """An investigator restricts the case's player's account (audited with the reason)."""
    staff = require_role(viewer, INVESTIGATORS, "restrict accounts")
    if not reason.strip():
        raise DomainError("Give the reason.", field="reason")
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        require_open(case)
        if await restriction_of(db, case) is not None:
            raise DomainError("This case already restricts the account.", code=ErrorCode.INVALID_STATE)
        db.add(AmlRestriction(case_id=case.id, player_id=case.player_id, brand_id=case.brand_id, imposed_by=staff))
        await db.flush()
        event = ("aml.restriction_changed", {"restricted": True})
        await record(db, case, viewer, "account_restricted", {"restricted": True}, event=event, reason=reason.strip())
    return case


async def lift(db: AsyncSession, case: AmlCase, viewer: Viewer, reason: str) -> bool:
    """Lift the case's restriction in the caller's transaction; False if it had none."""
    found = await restriction_of(db, case)
    if found is None:
        return False
    found.lifted_at, found.lifted_by = clock.now(), viewer.id if viewer.is_staff else None
    await db.flush()
    event = ("aml.restriction_changed", {"restricted": False})
    await record(db, case, viewer, "restriction_lifted", {"restricted": False}, event=event, reason=reason)
    return True


async def after_lift(rt: Runtime, player_id: uuid.UUID) -> None:
    """After the commit that lifted a restriction: withdrawals it kept waiting proceed as new requests do."""
    from services.cashier.withdrawals import after_aml_lift  # the cashier imports this module's gate

    if await aml_restriction_of_player(rt, player_id) is None:  # another case may still restrict the account
        await after_aml_lift(rt, player_id)


async def aml_restriction_of_player(rt: Runtime, player_id: uuid.UUID) -> Restriction | None:
    async with rt.database.session() as db:
        return await aml_restriction(db, player_id)


async def lift_restriction(rt: Runtime, viewer: Viewer, case_id: uuid.UUID, reason: str) -> AmlCase:
    """The MLRO lifts a case's restriction (audited with the reason)."""
    require_role(viewer, frozenset({MLRO}), "lift restrictions")
    if not reason.strip():
        raise DomainError("Give the reason.", field="reason")
    async with rt.database.transaction() as db:
        case = await get_readable(db, viewer, case_id, lock=True)
        if not await lift(db, case, viewer, reason.strip()):
            raise DomainError("This case restricts nothing.", code=ErrorCode.INVALID_STATE)
    await after_lift(rt, case.player_id)
    return case
