"""Cashier resolvers: thin; services/cashier/ decides everything."""

from __future__ import annotations

import uuid

import strawberry
from sqlmodel import col

from core.errors import ErrorCode, forbidden
from core.pagination import paginate
from models import payments as m
from resolvers.common import payload_errors, require_subject
from schema.base import Connection, UserError, node_uuid
from schema.cashier import (
    ApproveWithdrawalInput,
    ApproveWithdrawalPayload,
    CancelWithdrawalInput,
    CancelWithdrawalPayload,
    DepositInput,
    DepositPayload,
    HeldDepositDecisionInput,
    HeldDepositDecisionPayload,
    Payment,
    PaymentFilter,
    RejectWithdrawalInput,
    RejectWithdrawalPayload,
    RequestWithdrawalInput,
    RequestWithdrawalPayload,
)
from schema.context import Info
from services import cashier
from services.cashier import risk_holds


def _filter(where: PaymentFilter | None, player_id: uuid.UUID | None = None) -> cashier.PaymentFilter:
    if where is None:
        return cashier.PaymentFilter(player_id=player_id)
    return cashier.PaymentFilter(
        status=where.status.value if where.status else None,
        kind=where.kind.value if where.kind else None,
        player_id=player_id or (node_uuid(where.player_id, "Player") if where.player_id else None),
    )


async def list_payments(
    info: Info,
    filter: PaymentFilter | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[Payment]:
    """Payments of the viewer's brand (the withdrawal queue: `filter: {kind: WITHDRAWAL, status: REQUESTED}`)."""
    stmt = cashier.filtered(info.context.viewer, _filter(filter))
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(m.Payment.created_at), col(m.Payment.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, Payment.from_model)


async def player_payments(
    info: Info,
    player_id: uuid.UUID,
    where: PaymentFilter | None,
    *,
    first: int | None,
    after: str | None,
    last: int | None,
    before: str | None,
) -> Connection[Payment]:
    stmt = cashier.filtered(info.context.viewer, _filter(where, player_id))
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db, stmt, (col(m.Payment.created_at), col(m.Payment.id)), first=first, after=after, last=last, before=before
        )
    return Connection.of(page, Payment.from_model)


async def payment(info: Info, id: strawberry.ID) -> Payment | None:
    payment_id = node_uuid(id, "Payment")
    async with info.context.rt.database.session() as db:
        found = await db.scalar(cashier.readable_payments(info.context.viewer).where(col(m.Payment.id) == payment_id))
    return Payment.from_model(found) if found else None


def _refusal(found: m.Payment) -> list[UserError]:
    """A payment that failed is still returned; its failure is also an error of the payload."""
    if found.status == m.PaymentStatus.FAILED and found.failure_code:
        return [
            UserError(
                code=ErrorCode(found.failure_code), field=None, message=found.failure_message or "The payment failed."
            )
        ]
    return []


@payload_errors(DepositPayload)
async def deposit(info: Info, input: DepositInput) -> DepositPayload:
    viewer = info.context.viewer
    if not viewer.is_player:
        raise forbidden("Only players deposit.")
    found = await cashier.deposit(
        info.context.rt,
        viewer,
        amount=input.amount,
        currency=input.currency,
        method=input.method.value,
        psp_token=input.psp_token,
        idempotency_key=input.idempotency_key,
        bonus_code=input.bonus_code,
    )
    return DepositPayload(payment=Payment.from_model(found), errors=_refusal(found))


@payload_errors(RequestWithdrawalPayload)
async def request_withdrawal(info: Info, input: RequestWithdrawalInput) -> RequestWithdrawalPayload:
    viewer = info.context.viewer
    if not viewer.is_player:
        raise forbidden("Only players withdraw.")
    found = await cashier.request_withdrawal(
        info.context.rt,
        viewer,
        amount=input.amount,
        currency=input.currency,
        method=input.method.value,
        psp_token=input.psp_token,
        idempotency_key=input.idempotency_key,
        forfeit_bonuses=input.forfeit_bonuses,
    )
    return RequestWithdrawalPayload(payment=Payment.from_model(found), errors=_refusal(found))


@payload_errors(ApproveWithdrawalPayload)
async def approve_withdrawal(info: Info, input: ApproveWithdrawalInput) -> ApproveWithdrawalPayload:
    require_subject(info)
    decision = await cashier.approve_withdrawal(
        info.context.rt, info.context.viewer, payment_id=node_uuid(input.payment_id, "Payment"), reason=input.reason
    )
    return ApproveWithdrawalPayload(
        payment=Payment.from_model(decision.payment), awaiting_second_approval=decision.awaiting_second_approval
    )


@payload_errors(CancelWithdrawalPayload)
async def cancel_withdrawal(info: Info, input: CancelWithdrawalInput) -> CancelWithdrawalPayload:
    require_subject(info)
    found = await cashier.cancel_withdrawal(
        info.context.rt, info.context.viewer, payment_id=node_uuid(input.payment_id, "Payment")
    )
    return CancelWithdrawalPayload(payment=Payment.from_model(found))


@payload_errors(RejectWithdrawalPayload)
async def reject_withdrawal(info: Info, input: RejectWithdrawalInput) -> RejectWithdrawalPayload:
    require_subject(info)
    found = await cashier.reject_withdrawal(
        info.context.rt, info.context.viewer, payment_id=node_uuid(input.payment_id, "Payment"), reason=input.reason
    )
    return RejectWithdrawalPayload(payment=Payment.from_model(found))


@payload_errors(HeldDepositDecisionPayload)
async def release_held_deposit(info: Info, input: HeldDepositDecisionInput) -> HeldDepositDecisionPayload:
    require_subject(info)
    found = await risk_holds.release_deposit(
        info.context.rt, info.context.viewer, payment_id=node_uuid(input.payment_id, "Payment"), reason=input.reason
    )
    return HeldDepositDecisionPayload(payment=Payment.from_model(found), errors=_refusal(found))


@payload_errors(HeldDepositDecisionPayload)
async def decline_held_deposit(info: Info, input: HeldDepositDecisionInput) -> HeldDepositDecisionPayload:
    require_subject(info)
    found = await risk_holds.decline_deposit(
        info.context.rt, info.context.viewer, payment_id=node_uuid(input.payment_id, "Payment"), reason=input.reason
    )
    return HeldDepositDecisionPayload(payment=Payment.from_model(found))
