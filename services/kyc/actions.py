"""Staff and system actions on a player's KYC besides level reviews: restricting an account pending review
(and lifting it), marking a player high risk (their level approvals take four eyes), recording an
identity-verification provider's result, and `require_level`, the entry point other modules call on a
risk signal. Staff actions are audited; each announces itself through the outbox.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from models.kyc import KycCheck, KycState
from models.players import Player
from services import audit
from services.kyc import state as kyc_state
from services.kyc.levels import RISK_SIGNAL
from services.kyc.reviews import _reason, after_change, locked, staff_id

SIGNAL = re.compile(r"[a-z0-9_.:-]{1,64}")


async def _audit(
    db: AsyncSession, viewer: Viewer, state: KycState, action: str, before: dict[str, Any], reason: str
) -> None:
    await db.flush()
    await audit.append(
        db,
        actor=viewer,
        action=action,
        target_type="player",
        target_id=state.player_id,
        brand_id=state.brand_id,
        before=before,
        after={"restricted": state.restricted, "high_risk": state.high_risk, "status": state.status},
        reason=reason,
    )


async def restrict(rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, reason: str) -> KycState:
    """Restrict the account pending review: no deposits, no game launches; withdrawals wait, held."""
    staff_id(viewer)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        if state.restricted:
            raise DomainError("The account is already restricted.", code=ErrorCode.INVALID_STATE, field="playerId")
        before = {"restricted": False, "status": state.status}
        state.restricted, state.restricted_reason, state.updated_at = True, why, clock.now()
        await kyc_state.advance(db, player, state)
        await kyc_state.emit(db, state, "kyc.restricted", restricted=True)
        await _audit(db, viewer, state, "kyc.restrict", before, why)
        return state


async def lift_restriction(rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, reason: str) -> KycState:
    staff_id(viewer)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        if not state.restricted:
            raise DomainError("The account is not restricted.", code=ErrorCode.INVALID_STATE, field="playerId")
        before = {"restricted": True, "status": state.status}
        state.restricted, state.restricted_reason, state.updated_at = False, None, clock.now()
        await kyc_state.advance(db, player, state)
        await kyc_state.emit(db, state, "kyc.restricted", restricted=False)
        await _audit(db, viewer, state, "kyc.lift_restriction", before, why)
    await after_change(rt, player_id)
    return state


async def set_high_risk(rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, high_risk: bool, reason: str) -> KycState:
    officer = staff_id(viewer)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        _, state = await locked(db, viewer, player_id)
        before = {"high_risk": state.high_risk}
        if state.high_risk and not high_risk:  # lifting the mark must not lift four eyes for the one who lifts it
            state.high_risk_lifted_by = officer
        state.high_risk, state.updated_at = high_risk, clock.now()
        await _audit(db, viewer, state, "kyc.set_high_risk", before, why)
        return state


async def record_provider_check(
    rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, provider: str, passed: bool, reference: str | None = None
) -> KycState:
    """A provider's result (staff entering it, the CLI, or the provider adapter as `SYSTEM`)."""
    if not provider.strip() or len(provider) > 32:
        raise DomainError("Name the provider (at most 32 characters).", field="provider")
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        await record_check(db, viewer, player, state, provider=provider, passed=passed, reference=reference)
    await after_change(rt, player_id)
    return state


async def record_check(
    db: AsyncSession,
    viewer: Viewer,
    player: Player,
    state: KycState,
    *,
    provider: str,
    passed: bool,
    reference: str | None,
) -> None:
    """In the caller's transaction, under the state's lock: the check, the level it may reach, the audit
    (staff). The caller releases waiting withdrawals after its commit (`after_change`)."""
    db.add(
        KycCheck(
            player_id=player.id,
            provider=provider.strip(),
            result="passed" if passed else "failed",
            reference=(reference or "")[:100] or None,
            recorded_by_type=viewer.actor_type,
            recorded_by_id=viewer.id,
        )
    )
    await db.flush()
    before = {"status": state.status}
    await kyc_state.advance(db, player, state)
    if viewer.is_staff:
        await _audit(db, viewer, state, "kyc.provider_check", before, f"{provider}: {'passed' if passed else 'failed'}")


async def require_level(db: AsyncSession, player_id: uuid.UUID, level: str, reason: str) -> bool:
    """A risk signal from another module: the player needs `level` (withdrawals wait until then). In the
    caller's transaction, once per level (True when new). `reason` is the caller's code (such as
    `aml.structuring`: it travels in events, so never prose); an unknown level or a malformed code is a
    programming error."""
    if not SIGNAL.fullmatch(reason):
        raise ValueError(f"a risk signal's reason is a code like 'aml.structuring', not {reason!r}")
    player = await db.get(Player, player_id)
    if player is None:
        raise DomainError("No such player.", code=ErrorCode.NOT_FOUND, field="playerId")
    if not kyc_state.profile_of(player).has(level):
        raise ValueError(f"unknown KYC level {level!r} for {player.jurisdiction}")
    state = await kyc_state.lock_state(db, player)
    new = await kyc_state.require(
        db, player, state, trigger=RISK_SIGNAL, level=level, gates=("withdrawal",), details={"signal": reason}
    )
    await kyc_state.advance(db, player, state)
    return new


async def withdraw_level(db: AsyncSession, player_id: uuid.UUID, reason: str) -> bool:
    """The risk signal `reason` no longer stands (risk lifted the action that raised it): the requirement it
    recorded goes, never one from another source (a deposit threshold, another module's signal); the level
    required is then the highest of those left. In the caller's transaction; True when one went. Withdrawals
    waiting for KYC are the caller's to release after its commit (services/cashier/kyc_waits.py)."""
    player = await db.get(Player, player_id)
    if player is None:
        raise DomainError("No such player.", code=ErrorCode.NOT_FOUND, field="playerId")
    state = await kyc_state.lock_state(db, player)
    if not await kyc_state.withdraw(db, player, state, trigger=RISK_SIGNAL, signal=reason):
        return False
    await kyc_state.advance(db, player, state)
    return True


STAFF_SIGNAL = "staff.required"  # the risk signal's code when staff require a level (their prose is audited)
REQUIRERS = frozenset({"kyc_officer", "risk_analyst", "mlro"})


async def require_level_by_staff(
    rt: Runtime, viewer: Viewer, *, player_id: uuid.UUID, level: str, reason: str
) -> KycState:
    """KYC or AML staff require `level` of a player (withdrawals wait until it is reached): `require_level`
    with the staff code as its signal, in the officer's brands, audited with their reason. A level the player
    holds already, or one already required this way, is refused (INVALID_STATE)."""
    staff_id(viewer)
    if not viewer.roles & REQUIRERS and "superadmin" not in viewer.roles:
        raise DomainError("Only KYC and AML staff require a KYC level.", code=ErrorCode.NOT_ALLOWED)
    why = _reason(reason)
    async with rt.database.transaction() as db:
        player, state = await locked(db, viewer, player_id)
        profile = kyc_state.profile_of(player)
        if not profile.has(level):
            known = ", ".join(x.code for x in profile.levels)
            raise DomainError(f"No level {level!r} here (one of {known}).", code=ErrorCode.INVALID_INPUT, field="level")
        if profile.level(level).rank <= state.level_rank:
            raise DomainError("The player holds this level already.", code=ErrorCode.INVALID_STATE, field="level")
        before = {"required_level": state.required_level, "status": state.status}
        if not await require_level(db, player.id, level, STAFF_SIGNAL):
            raise DomainError("Staff already required this level.", code=ErrorCode.INVALID_STATE, field="level")
        await audit.append(
            db,
            actor=viewer,
            action="aml.kyc_level_required",  # the AML topic: a reason support must not read
            target_type="player",
            target_id=state.player_id,
            brand_id=state.brand_id,
            before=before,
            after={"required_level": state.required_level, "level": level, "status": state.status},
            reason=why,
        )
        return state


async def restrict_for(db: AsyncSession, player_id: uuid.UUID, reason: str) -> bool:
    """Another module restricts the account pending review (a chargeback: services/cashier/chargebacks.py), in
    the caller's transaction, as staff's `restrict` does; lifting it is staff's (`lift_restriction`). False when
    it was restricted already (the first reason stays)."""
    player = await db.get(Player, player_id)
    if player is None:
        raise DomainError("No such player.", code=ErrorCode.NOT_FOUND, field="playerId")
    state = await kyc_state.lock_state(db, player)
    if state.restricted:
        return False
    state.restricted, state.restricted_reason, state.updated_at = True, reason[:500], clock.now()
    await kyc_state.advance(db, player, state)
    await kyc_state.emit(db, state, "kyc.restricted", restricted=True)
    return True
