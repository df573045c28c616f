"""Deposits a risk rule held (services/risk/inline.py): the risk desk releases or declines them.

A held deposit has asked no PSP and moved no money; the deposit offer claimed with it keeps waiting.
- `release_deposit`: held → created, then the normal cascade, routed as a new deposit is under the
  restrictions in force now (3-D Secure, PSPs). Refused while the account is blocked (decline it instead).
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
from services import audit
from services.cashier.cascade import _cascade
from services.cashier.payments import _event, _set_status, fail_payment, lock_payment
from services.cashier.routing import deposit_route
from services.risk import actions as risk_actions
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
    async with rt.database.transaction() as db:
        payment = await _held(db, viewer, payment_id)
        restrictions = await risk_actions.in_force(OnSession(db), payment.player_id)
        if restrictions.blocked:
            raise DomainError(
                "The account is blocked: decline the deposit (or lift the block first).",
                code=ErrorCode.RISK_RESTRICTED,
                field="paymentId",
            )
        three_ds = restrictions.three_ds and payment.method == "card"
        psps = deposit_route(
            rt.settings,
            method=payment.method,
            country=payment.country,
            currency=payment.currency,
            amount=payment.amount,
            restrictions=restrictions,
        )
        _set_status(payment, PaymentStatus.CREATED)
        await _event(db, payment, "payment.released", released_by=str(viewer.id))
        if not psps:
            await fail_payment(db, payment, ErrorCode.PAYMENT_UNAVAILABLE, "No payment provider takes this payment.")
        await _audit(db, viewer, payment, "risk.deposit_released", why)
    if psps:
        await _cascade(rt, payment_id, psps, three_ds=three_ds)
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
        assert found is not None
        return found


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
