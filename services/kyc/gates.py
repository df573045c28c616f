"""Where KYC is enforced: the cashier's deposit and withdrawal decisions, and game launch.

One function per question, read in the transaction of the decision (DESIGN.md §8):
- `check_deposit`: a deposit whose triggers (or an earlier one) require a level the player lacks, with a
  `deposit` gate, is refused with KYC_REQUIRED and the next step before any money moves: no payment is
  created, nothing is sent to a PSP. The refusal rolls the deposit's transaction back, so the triggers
  it set off are recorded again by `record_refused` in a transaction of their own.
- `withdrawal_waits`: a withdrawal (its amount already held) waits in WAITING_FOR_KYC while a requirement
  with a `withdrawal` gate is open or the account is restricted; services/cashier/kyc_waits.py releases it.
  `check_withdrawal_approval`: one already requested when that came is not approved by finance meanwhile.
- A restricted account (staff, pending review) can still log in, read its account and ask to withdraw (the
  withdrawal waits, its money held, as services/rg exclusions never refuse taking one's money out); it
  cannot deposit, launch a game or claim a bonus.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import DomainError, ErrorCode, KycDetails
from core.runtime import Runtime
from models.kyc import KycState
from models.payments import Payment
from models.players import Player
from services.kyc import state as kyc_state
from services.kyc import triggers
from services.kyc.triggers import Fired

RESTRICTED_STEP = "Your account is restricted pending a review by our compliance team; contact support."


class KycRequired(DomainError):
    code = ErrorCode.KYC_REQUIRED

    def __init__(self, message: str, *, kyc: KycDetails, fired: Sequence[Fired] = (), field: str = "amount") -> None:
        super().__init__(message, field=field, kyc=kyc)
        self.fired = tuple(fired)


async def _fire(db: AsyncSession, rt: Runtime, player: Player, state: KycState, payment: Payment) -> list[Fired]:
    """Record the triggers the payment sets off; while a level is required, see whether it is reached (a
    player with nothing required has nothing to reach: the common deposit pays no requirement checks)."""
    found = await triggers.fired(db, player, kyc_state.profile_of(player), payment, rt.settings.stated_rates)
    await _record(db, player, state, found)
    if state.required_rank > state.level_rank:
        await kyc_state.advance(db, player, state)
    return found


async def _record(db: AsyncSession, player: Player, state: KycState, found: Sequence[Fired]) -> None:
    for item in found:
        await kyc_state.require(
            db,
            player,
            state,
            trigger=item.trigger.name,
            level=item.trigger.level,
            gates=item.trigger.gates,
            details=item.details,
        )


async def _gated(db: AsyncSession, player: Player, state: KycState, gate: str) -> KycDetails | None:
    """What blocks `gate`: the highest open requirement with that gate, and the next step towards it."""
    if state.restricted:
        return KycDetails(required_level=state.required_level, trigger="restricted", next_step=RESTRICTED_STEP)
    if state.required_rank <= state.level_rank:  # every requirement's level is at most the one required
        return None
    blocking = [r for r in await kyc_state.open_requirements(db, state) if gate in r.gates]
    if not blocking:
        return None
    _, missing = await kyc_state.next_missing(db, player, state)
    step = missing[0].next_step if missing else "A KYC officer reviews your account: nothing to do."
    return KycDetails(required_level=blocking[0].level, trigger=blocking[0].trigger, next_step=step)


async def check_deposit(db: AsyncSession, rt: Runtime, player: Player, payment: Payment) -> None:
    """Call after rg's check_deposit (which took the player's money lock), with the deposit inserted."""
    state = await kyc_state.lock_state(db, player)
    found = await _fire(db, rt, player, state, payment)
    blocked = await _gated(db, player, state, "deposit")
    if blocked is not None:
        raise KycRequired(
            f"Verification to level {blocked.required_level} is required before this deposit. {blocked.next_step}",
            kyc=blocked,
            fired=found,
        )


async def record_fired(db: AsyncSession, player: Player, refusal: KycRequired) -> None:
    """In the caller's transaction, after the refused check was undone (a savepoint): record the triggers it
    set off, so the player is asked (a crypto deposit held: services/cashier/crypto/holds.py)."""
    if not refusal.fired:
        return
    state = await kyc_state.lock_state(db, player)
    await _record(db, player, state, refusal.fired)
    await kyc_state.advance(db, player, state)


async def record_refused(rt: Runtime, player_id: uuid.UUID, refusal: KycRequired) -> None:
    """After a refused deposit rolled back: record the triggers it set off, so the player is asked."""
    if not refusal.fired:
        return
    async with rt.database.transaction() as db:
        player = await db.get(Player, player_id)
        assert player is not None
        state = await kyc_state.lock_state(db, player)
        await _record(db, player, state, refusal.fired)
        await kyc_state.advance(db, player, state)


async def withdrawal_waits(db: AsyncSession, rt: Runtime, player: Player, payment: Payment) -> bool:
    """Call after the withdrawal's hold (under the player's money lock)."""
    state = await kyc_state.lock_state(db, player)
    await _fire(db, rt, player, state, payment)
    return await _gated(db, player, state, "withdrawal") is not None


async def withdrawal_blocked(db: AsyncSession, player: Player) -> bool:
    """Still held back? (a waiting withdrawal's release asks, under the payment's lock)."""
    state = await kyc_state.read_state(db, player)
    return await _gated(db, player, state, "withdrawal") is not None


async def check_withdrawal_approval(db: AsyncSession, player: Player) -> None:
    """Finance's approval of a requested withdrawal (under the payment's lock): refused while the withdrawal
    gate holds, as for one requested now (a restriction or a requirement that came after the request)."""
    state = await kyc_state.read_state(db, player)
    blocked = await _gated(db, player, state, "withdrawal")
    if blocked is not None:
        raise KycRequired(
            f"The player's withdrawals wait for KYC ({blocked.trigger}): approve it once that is cleared.",
            kyc=blocked,
            field="paymentId",
        )


async def check_launch(db: AsyncSession, player: Player) -> None:
    state = await kyc_state.read_state(db, player)
    if state.restricted:
        raise KycRequired(
            f"This account is restricted. {RESTRICTED_STEP}",
            kyc=KycDetails(required_level=state.required_level, trigger="restricted", next_step=RESTRICTED_STEP),
        )


async def check_claim(db: AsyncSession, player: Player) -> None:
    """A bonus claim: refused while the account is restricted, as a deposit and a game launch are."""
    await check_launch(db, player)
