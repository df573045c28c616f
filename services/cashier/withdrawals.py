"""Withdrawals: a player's request (funds held), finance's approval (four eyes) or rejection."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.money import currency as currency_info
from core.money import format_amount, parse_amount
from core.runtime import Runtime
from models.payments import Payment, PaymentKind, PaymentStatus
from models.players import Player
from services import audit, wallet
from services.aml import restrictions as aml
from services.bonuses import lifecycle as bonus_lifecycle
from services.cashier import closed_loop, payment_limits
from services.cashier.cascade import process_withdrawal
from services.cashier.intake import WITHDRAWAL_METHODS, _check_key, _check_method, _check_token, _create_payment, _payer
from services.cashier.payments import _event, _set_status, lock_payment
from services.cashier.queries import get_readable
from services.kyc import gates as kyc_gates
from services.risk import actions as risk_actions
from services.risk import cards as risk_cards
from services.risk import gates as risk_gates
from services.risk import inline as risk_inline
from services.risk import lists as risk_lists
from services.risk.observe import observed
from services.risk.signals import Observed
from services.risk.store import OnSession
from services.wallet import Actor

# A withdrawal not yet sent to a PSP: finance can reject it, the player can cancel it (the hold is voided).
NOT_SENT = (PaymentStatus.REQUESTED, PaymentStatus.APPROVED, PaymentStatus.WAITING_FOR_KYC)


def _threshold(table: Mapping[str, str], currency: str) -> int | None:
    raw = table.get(currency)
    return None if raw is None else parse_amount(raw, currency, allow_zero=True)


async def request_withdrawal(
    rt: Runtime,
    viewer: Viewer,
    *,
    amount: str,
    currency: str,
    method: str,
    psp_token: str | None = None,
    idempotency_key: str | None = None,
    forfeit_bonuses: bool = False,
) -> Payment:
    """A player asks to be paid out: the funds are held at once; small amounts are approved at once."""
    code = currency_info(currency).code
    minor = parse_amount(amount, code)
    method = _check_method(method, WITHDRAWAL_METHODS)
    token = _check_token(psp_token, required=False)
    key = _check_key(idempotency_key)
    card = await risk_cards.describe(rt.settings, token) if method == "card" else None
    return await requested(rt, viewer, code, minor, method, token, key, forfeit_bonuses, observed(viewer.meta, card))


async def requested(
    rt: Runtime,
    viewer: Viewer,
    code: str,
    minor: int,
    method: str,
    token: str | None,
    key: str,
    forfeit_bonuses: bool,
    seen: Observed,
) -> Payment:
    """A checked request (the crypto cashier checks its own: services/cashier/crypto/withdrawals.py), held."""
    try:
        return await _request(rt, viewer, code, minor, method, token, key, forfeit_bonuses, seen)
    except risk_lists.RiskBlocked as refusal:  # rolled back: nothing held, no money moved; flagged for review
        async with rt.database.session() as db:
            player, _ = await _payer(db, viewer, code)
        await risk_lists.record_blocked(
            rt, brand_id=player.brand_id, player_id=player.id, occasion=risk_lists.Occasion.WITHDRAWAL, refusal=refusal
        )
        raise


async def _request(
    rt: Runtime,
    viewer: Viewer,
    code: str,
    minor: int,
    method: str,
    token: str | None,
    key: str,
    forfeit_bonuses: bool,
    seen: Observed,
) -> Payment:
    async with rt.database.transaction() as db:
        player, _ = await _payer(db, viewer, code)
        payment, created = await _create_payment(
            db,
            kind=PaymentKind.WITHDRAWAL,
            player=player,
            currency=code,
            amount=minor,
            method=method,
            token=token,
            key=key,
            status=PaymentStatus.REQUESTED,
            fingerprint=seen.card_fingerprint if method == "card" else None,
        )
        if created:  # an active bonus: ask first (BONUS_ACTIVE), or forfeit it once the hold succeeds
            # The deposits' methods first (closed_loop.py): a refusal holds nothing.
            await closed_loop.check_withdrawal(db, player, payment)
            await risk_gates.check_payment(db, player, payment, seen)  # a block: nothing held
            to_forfeit = await bonus_lifecycle.before_withdrawal(db, player.id, code, forfeit=forfeit_bonuses)
            result, hold = await wallet.hold_withdrawal(
                db,
                player_id=player.id,
                currency=code,
                amount=minor,
                payment_id=payment.id,
                actor=Actor("player", player.id),
            )
            if hold is None:  # refused (and the refusal is recorded): the request stays refused
                _set_status(
                    payment,
                    PaymentStatus.REJECTED,
                    code=ErrorCode(result.refusal_code or "INSUFFICIENT_FUNDS"),
                    message="Not enough funds.",
                )
                await _event(db, payment, "payment.rejected")
            else:
                await payment_limits.check(db, payment)  # under the hold's money lock: the cashier's limits
                # The forfeit and the hold succeed together: a refused request (above) forfeits nothing,
                # and an error from here on rolls both back with the transaction.
                await bonus_lifecycle.forfeit_for_withdrawal(db, to_forfeit, Actor("player", player.id))
                payment.hold_id = hold.id
                await _event(db, payment, "payment.requested")
                # Risk's rules (velocity, cycling, score) and restrictions, this request counted: a hold in
                # force (or imposed now) keeps it from the automatic approval and from finance. A hold being
                # imposed meanwhile commits first (its turn on the player's withdrawals: after the money lock,
                # as a claim's or a deposit's rule imposing one takes it), so this reading sees it.
                await risk_actions.take_turn(OnSession(db), player.id)
                risk = await risk_inline.at_withdrawal(
                    db, player_id=player.id, brand_id=player.brand_id, currency=code, seen=seen
                )
                if await kyc_gates.withdrawal_waits(db, rt, player, payment):  # held until the level is reached
                    _set_status(payment, PaymentStatus.WAITING_FOR_KYC)
                    await _event(db, payment, "payment.waiting_for_kyc")
                else:
                    await auto_approve(rt, db, payment, risk_held=risk.restrictions.withdrawals_held)
                await risk_inline.audit_deferred(db)  # last: the audit chain's lock is held until the commit
        snapshot = (payment.id, payment.status, payment.failure_code)
    payment_id, status, failure = snapshot
    if status == PaymentStatus.REJECTED and failure == ErrorCode.INSUFFICIENT_FUNDS:
        raise DomainError(
            "Not enough funds to withdraw that amount.", field="amount", code=ErrorCode.INSUFFICIENT_FUNDS
        )
    if status == PaymentStatus.APPROVED and created:
        await process_withdrawal(rt, payment_id)
    async with rt.database.session() as db:
        return await get_readable(db, viewer, payment_id)


async def auto_approve(rt: Runtime, db: AsyncSession, payment: Payment, *, risk_held: bool | None = None) -> bool:
    """A requested withdrawal below the threshold is approved at once (its payout follows the commit), unless
    an AML case restricts the account or risk holds its withdrawals (`risk_held`: the caller's reading of the
    restrictions in this transaction; None: read here): then it waits for finance, and finance for the lift."""
    auto_below = _threshold(rt.settings.withdrawal_auto_approve_below, payment.currency)
    if auto_below is None or payment.amount >= auto_below:
        return False
    if await aml.aml_restriction(db, payment.player_id) is not None:
        return False
    if risk_held is None:  # after a hold being imposed now (its turn: services/risk/actions.py)
        await risk_actions.take_turn(OnSession(db), payment.player_id)
        risk_held = (await risk_actions.in_force(OnSession(db), payment.player_id)).withdrawals_held
    if risk_held:
        return False
    payment.decision_reason = "approved automatically (below the threshold)"
    _set_status(payment, PaymentStatus.APPROVED)
    await _event(db, payment, "payment.approved", automatic=True)
    return True


async def after_risk_lift(rt: Runtime, player_id: uuid.UUID) -> list[uuid.UUID]:
    """After the commit that lifted a risk hold (services/risk/review.py): as after an AML lift, once nothing
    else holds the player's withdrawals (another risk action, an AML restriction); the ids approved."""
    async with rt.database.session() as db:
        held = (await risk_actions.in_force(OnSession(db), player_id)).withdrawals_held
        if held or await aml.aml_restriction(db, player_id) is not None:
            return []
    return await after_aml_lift(rt, player_id)


async def after_aml_lift(rt: Runtime, player_id: uuid.UUID) -> list[uuid.UUID]:
    """After the commit that lifted an AML restriction: the player's withdrawals that the restriction kept in
    `requested` get the decision a new request gets (`auto_approve`: below the threshold approved and sent,
    else still finance's), unless KYC holds the player's withdrawals back by now. Each under its row lock,
    so a racing release or approval decides it once; the ids approved."""
    stmt = select(col(Payment.id)).where(
        col(Payment.player_id) == player_id,
        col(Payment.kind) == PaymentKind.WITHDRAWAL.value,
        col(Payment.status) == PaymentStatus.REQUESTED.value,
    )
    async with rt.database.session() as db:
        requested = list((await db.scalars(stmt.order_by(col(Payment.created_at)))).all())
    approved = []
    for payment_id in requested:
        async with rt.database.transaction() as db:
            payment = await lock_payment(db, payment_id)
            if payment.status != PaymentStatus.REQUESTED:
                continue
            player = await db.get(Player, payment.player_id)
            assert player is not None
            if await kyc_gates.withdrawal_blocked(db, player) or not await auto_approve(rt, db, payment):
                continue  # KYC holds it back since (a restriction, a level now required): still finance's
        await process_withdrawal(rt, payment_id)
        approved.append(payment_id)
    return approved


def _check_brand(viewer: Viewer, payment: Payment) -> None:
    if viewer.brand_id is not None and viewer.brand_id != payment.brand_id:
        raise NotFound("No such payment.", field="paymentId")


def _staff_id(viewer: Viewer) -> uuid.UUID:
    if not viewer.is_staff or viewer.id is None:
        raise DomainError("Only staff decide on withdrawals.", code=ErrorCode.NOT_ALLOWED)
    return viewer.id


@dataclass(frozen=True)
class Decision:
    payment: Payment
    awaiting_second_approval: bool


async def approve_withdrawal(
    rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID, reason: str | None = None
) -> Decision:
    """Finance approves; above the four-eyes threshold a second, different approver completes it."""
    approver = _staff_id(viewer)
    async with rt.database.transaction() as db:
        payment = await lock_payment(db, payment_id)
        _check_brand(viewer, payment)
        if payment.kind != PaymentKind.WITHDRAWAL or payment.status != PaymentStatus.REQUESTED:
            raise DomainError(
                f"Only a requested withdrawal can be approved (this one is {payment.status}).",
                code=ErrorCode.INVALID_STATE,
                field="paymentId",
            )
        if await aml.aml_restriction(db, payment.player_id) is not None:
            raise DomainError(
                "The player's account is restricted pending an AML review: the withdrawal waits until it is lifted.",
                code=ErrorCode.AML_RESTRICTED,
                field="paymentId",
            )
        if (await risk_actions.in_force(OnSession(db), payment.player_id)).withdrawals_held:
            raise DomainError(
                "Risk holds the player's withdrawals for review: the withdrawal waits until the hold is lifted.",
                code=ErrorCode.RISK_HOLD,
                field="paymentId",
            )
        player = await db.get(Player, payment.player_id)
        assert player is not None
        await kyc_gates.check_withdrawal_approval(db, player)
        before = {"status": payment.status, "first_approved_by": payment.first_approved_by}
        four_eyes = _threshold(rt.settings.withdrawal_four_eyes_above, payment.currency)
        needs_two = four_eyes is None or payment.amount > four_eyes
        waiting = False
        if needs_two and payment.first_approved_by is None:
            payment.first_approved_by = approver
            payment.updated_at = clock.now()
            waiting = True
            action = "withdrawal.first_approval"
            await _event(db, payment, "payment.first_approval", approver=str(approver))
        else:
            if needs_two and payment.first_approved_by == approver:
                raise DomainError(
                    "Four eyes: a second, different finance approver must approve this withdrawal.",
                    code=ErrorCode.APPROVAL_REQUIRED,
                    field="paymentId",
                )
            payment.approved_by = approver
            payment.decision_reason = (reason or "")[:500] or None
            _set_status(payment, PaymentStatus.APPROVED)
            action = "withdrawal.approve"
            await _event(db, payment, "payment.approved", approver=str(approver))
        await audit.append(
            db,
            actor=viewer,
            action=action,
            target_type="payment",
            target_id=payment.id,
            brand_id=payment.brand_id,
            before=before,
            after={
                "status": payment.status,
                "first_approved_by": payment.first_approved_by,
                "approved_by": payment.approved_by,
                "amount": format_amount(payment.amount, payment.currency),
                "currency": payment.currency,
            },
            reason=reason,
        )
    if not waiting:
        await process_withdrawal(rt, payment_id)
    async with rt.database.session() as db:
        found = await db.get(Payment, payment_id)
        assert found is not None
        return Decision(found, waiting)


async def reject_withdrawal(rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID, reason: str) -> Payment:
    """Finance refuses: the hold is voided, the money is back in the player's cash."""
    rejecter = _staff_id(viewer)
    if not reason or not reason.strip():
        raise DomainError("A reason is required.", field="reason")
    async with rt.database.transaction() as db:
        payment = await lock_payment(db, payment_id)
        _check_brand(viewer, payment)
        if payment.kind != PaymentKind.WITHDRAWAL or payment.status not in NOT_SENT:
            raise DomainError(
                f"Only a withdrawal not yet sent can be rejected (this one is {payment.status}).",
                code=ErrorCode.INVALID_STATE,
                field="paymentId",
            )
        assert payment.hold_id is not None
        before = {"status": payment.status}
        await wallet.void_withdrawal(
            db, hold_id=payment.hold_id, payment_id=payment.id, actor=Actor("staff", rejecter), reason=reason.strip()
        )
        payment.rejected_by = rejecter
        payment.decision_reason = reason.strip()[:500]
        _set_status(payment, PaymentStatus.REJECTED)
        await _event(db, payment, "payment.rejected", rejected_by=str(rejecter))
        await audit.append(
            db,
            actor=viewer,
            action="withdrawal.reject",
            target_type="payment",
            target_id=payment.id,
            brand_id=payment.brand_id,
            before=before,
            after={
                "status": payment.status,
                "amount": format_amount(payment.amount, payment.currency),
                "currency": payment.currency,
            },
            reason=reason.strip(),
        )
        return payment


async def cancel_withdrawal(rt: Runtime, viewer: Viewer, *, payment_id: uuid.UUID) -> Payment:
    """The player takes back a withdrawal not yet sent: the hold is voided, the money is back in cash."""
    if not viewer.is_player or viewer.id is None:
        raise DomainError("Only the player can cancel their withdrawal.", code=ErrorCode.NOT_ALLOWED)
    async with rt.database.transaction() as db:
        payment = await lock_payment(db, payment_id)
        if payment.player_id != viewer.id:
            raise NotFound("No such payment.", field="paymentId")
        if payment.kind != PaymentKind.WITHDRAWAL or payment.status not in NOT_SENT:
            raise DomainError(
                f"Only a withdrawal not yet sent can be cancelled (this one is {payment.status}).",
                code=ErrorCode.INVALID_STATE,
                field="paymentId",
            )
        assert payment.hold_id is not None
        before = {"status": payment.status}
        await wallet.void_withdrawal(
            db,
            hold_id=payment.hold_id,
            payment_id=payment.id,
            actor=Actor("player", viewer.id),
            reason="cancelled by the player",
        )
        _set_status(payment, PaymentStatus.CANCELLED)
        await _event(db, payment, "payment.cancelled")
        await audit.append(
            db,
            actor=viewer,
            action="withdrawal.cancel",
            target_type="payment",
            target_id=payment.id,
            brand_id=payment.brand_id,
            before=before,
            after={"status": payment.status},
        )
        return payment
