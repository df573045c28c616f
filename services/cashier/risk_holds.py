"""Deposits a risk rule held (services/risk/inline.py): the risk desk releases or declines them.

A held deposit has asked no PSP and moved no money; the deposit offer claimed with it keeps waiting.
- `release_deposit`: held → created, then the normal cascade, routed as a new deposit is under the
  restrictions in force now (3-D Secure, PSPs). The gates the deposit passed when it was made are asked again
  (the account may have changed while it was held): an exclusion, the deposit limits (this deposit counted in
  flight again), the account's status, an AML restriction, risk's block, KYC. A refusal leaves it held (the
  desk declines it, or releases it once the reason is gone).
- `decline_deposit`: held → failed (RISK_DECLINED); the offer claimed with it is released as with any failed
  deposit (services/bonuses/issue.py `on_deposit_failed`).
Each under the payment's row lock (a release and a decline racing decide it once), audited with the reason.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core.errors import DomainError, ErrorCode, NotFound
from core.money import format_amount
from core.runtime import Runtime
from models.payments import Payment, PaymentKind, PaymentStatus
from models.players import Player, PlayerStatus
from services import audit, wallet
from services.aml import restrictions as aml
from services.cashier import payment_limits
from services.cashier.cascade import _cascade
from services.cashier.payments import _event, _set_status, fail_payment, lock_payment
from services.cashier.routing import deposit_route
from services.kyc import gates as kyc_gates
from services.rg import gates as rg_gates
from services.risk import actions as risk_actions
from services.risk import inline as risk_inline
from services.risk.store import OnSession

RISK_DESK = frozenset({"risk_analyst", "brand_admin", "superadmin"})


def _staff(viewer: Viewer, reason: str) -> str:
    if not viewer.is_staff or viewer.id is None or not viewer.roles & RISK_DESK:
        raise DomainError("Only the risk desk decides on held deposits.", code=ErrorCode.NOT_ALLOWED)
    why = (reason or "").strip()
    if len(why) < 3:
        raise DomainError("Say why (at least 3 characters).", field="reason")
    return why[:500]


async def _held(db: AsyncSession, viewer: Viewer, payment_id: uuid.UUID) -> Payment:
    payment = await lock_payment(db, payment_id)
    if viewer.brand_id is not None and viewer.brand_id != payment.brand_id:
        raise NotFound("No such payment.", field="paymentId")
    if payment.kind != PaymentKind.DEPOSIT or payment.status != PaymentStatus.HELD:
        raise DomainError(
            f"Only a held deposit can be released or declined (this one is {payment.status}).",
            code=ErrorCode.INVALID_STATE,
            field="paymentId",
        )
    return payment


async def _audit(db: AsyncSession, viewer: Viewer, payment: Payment, action: str, why: str) -> None:
    await audit.append(
        db,
        actor=viewer,
        action=action,
        target_type="payment",
        target_id=payment.id,
        brand_id=payment.brand_id,
        before={"status": PaymentStatus.HELD.value},
        after={
            "status": payment.status,
            "amount": format_amount(payment.amount, payment.currency),
            "currency": payment.currency,
        },
        reason=why,
    )


async def release_deposit(rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID, reason: str) -> Payment:
    """The risk desk lets a held deposit go on: its cascade runs now."""
    why = _staff(viewer, reason)
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
        player = await db.get(Player, found.player_id) if found is not None else None
    if player is not None:  # an exclusion found at a matching account is copied (its own transaction)
        await rg_gates.check_person(rt, player)
    try:
        psps, three_ds = await _release(rt, viewer, payment_id, why)
    except kyc_gates.KycRequired as refusal:  # rolled back: still held; the player is asked for the level
        assert player is not None
        await kyc_gates.record_refused(rt, player.id, refusal)
        raise
    if psps:
        await _cascade(rt, payment_id, psps, three_ds=three_ds)
    async with rt.database.session() as db:
        released = await db.get(Payment, payment_id)
        assert released is not None
        return released


async def _release(rt: Runtime, viewer: Viewer, payment_id: uuid.UUID, why: str) -> tuple[list[str], bool]:
    async with rt.database.transaction() as db:
        payment = await _held(db, viewer, payment_id)
        player = await db.get(Player, payment.player_id)
        assert player is not None
        # The deposit's gates again, in its order (services/cashier/deposits.py `_start`), counted in flight.
        _set_status(payment, PaymentStatus.CREATED)
        await db.flush()
        await rg_gates.check_deposit(db, rt, player, payment.currency)
        standing = (await wallet.lock_player_money(db, player.id, standing=True)).player
        if standing is None or standing.status != PlayerStatus.ACTIVE:
            raise DomainError("The account is not active.", code=ErrorCode.ACCOUNT_BLOCKED, field="paymentId")
        limits = await payment_limits.check_again(db, payment)  # the cashier's limits and BIN rules, as at intake
        await aml.check(db, player.id, "depositing")
        restrictions = await risk_actions.in_force(OnSession(db), payment.player_id)
        if restrictions.blocked:
            raise DomainError(
                "The account is blocked: decline the deposit (or lift the block first).",
                code=ErrorCode.RISK_RESTRICTED,
                field="paymentId",
            )
        await risk_inline.require_kyc(db, restrictions, player.id)
        await kyc_gates.check_deposit(db, rt, player, payment)
        three_ds = restrictions.three_ds and payment.method == "card"
        psps = await deposit_route(
            db,
            method=payment.method,
            country=payment.country,
            currency=payment.currency,
            amount=payment.amount,
            restrictions=restrictions,
            bin_country=limits.bin_country,
            risk_score=limits.risk_score,
            seed=str(payment.id),
            config=limits.config,
        )
        await _event(db, payment, "payment.released", released_by=str(viewer.id))
        if not psps:
            await fail_payment(db, payment, ErrorCode.PAYMENT_UNAVAILABLE, "No payment provider takes this payment.")
        await _audit(db, viewer, payment, "risk.deposit_released", why)
    return psps, three_ds


async def decline_deposit(rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID, reason: str) -> Payment:
    """The risk desk refuses a held deposit: it fails (RISK_DECLINED); nothing was charged."""
    why = _staff(viewer, reason)
    async with rt.database.transaction() as db:
        payment = await _held(db, viewer, payment_id)
        await fail_payment(
            db, payment, ErrorCode.RISK_DECLINED, "The deposit was declined after a review; nothing was charged."
        )
        await _audit(db, viewer, payment, "risk.deposit_declined", why)
        return payment
