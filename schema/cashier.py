"""Cashier types: payments (deposits and withdrawals), their PSP attempts, inputs and payloads."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import payments as m
from schema.base import Money, UserError, to_global_id
from schema.context import Info
from schema.input_limits import IDEMPOTENCY_KEY, PROMO_CODE, PSP_TOKEN, REASON, text
from schema.wallet import LedgerTransaction

if TYPE_CHECKING:
    from schema.players import Player


PaymentKind = m.PaymentKind
strawberry.enum(m.PaymentKind, name="PaymentKind")


PaymentStatus = m.PaymentStatus
strawberry.enum(
    m.PaymentStatus,
    name="PaymentStatus",
    description="Deposits: CREATED → PENDING → SUCCEEDED | FAILED; a deposit a risk rule holds is HELD (no PSP "
    "asked) until the risk desk releases it (→ CREATED) or declines it (→ FAILED). Withdrawals: REQUESTED → "
    "APPROVED → PROCESSING → PAID | REJECTED | FAILED, or CANCELLED by the player before it is sent.",
)


PaymentMethod = m.PaymentMethod
strawberry.enum(m.PaymentMethod, name="PaymentMethod")


AttemptOutcome = m.AttemptOutcome
strawberry.enum(m.AttemptOutcome, name="AttemptOutcome")


@strawberry.type(description="One try at one PSP, with what we sent (no card data) and what it answered.")
class PaymentAttempt:
    seq: int
    psp: str
    operation: str
    outcome: AttemptOutcome
    psp_reference: str | None
    request: JSON | None
    response: JSON | None
    error: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_model(cls, attempt: m.PaymentAttempt) -> PaymentAttempt:
        return cls(
            seq=attempt.seq,
            psp=attempt.psp,
            operation=attempt.operation,
            outcome=AttemptOutcome(attempt.outcome),
            psp_reference=attempt.psp_reference,
            request=JSON(attempt.request_summary),
            response=JSON(attempt.response_summary),
            error=attempt.error,
            created_at=attempt.created_at,
            updated_at=attempt.updated_at,
        )


@strawberry.type(description="A deposit or a withdrawal. For a 3-D Secure deposit, send the player to `redirectUrl`.")
class Payment(relay.Node):
    id: relay.NodeID[str]
    kind: PaymentKind
    status: PaymentStatus
    amount: Money
    method: PaymentMethod
    psp: str | None
    redirect_url: str | None
    failure_code: str | None
    failure_message: str | None
    decision_reason: str | None
    awaiting_second_approval: bool
    player_id: strawberry.ID
    first_approved_by: strawberry.ID | None
    approved_by: strawberry.ID | None
    rejected_by: strawberry.ID | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None

    @classmethod
    def from_model(cls, payment: m.Payment) -> Payment:
        def staff_id(value: uuid.UUID | None) -> strawberry.ID | None:
            return strawberry.ID(str(to_global_id("StaffUser", value))) if value else None

        return cls(
            id=str(payment.id),
            kind=PaymentKind(payment.kind),
            status=PaymentStatus(payment.status),
            amount=Money.of(payment.amount, payment.currency),
            method=PaymentMethod(payment.method),
            psp=payment.psp,
            redirect_url=payment.redirect_url,
            failure_code=payment.failure_code,
            failure_message=payment.failure_message,
            decision_reason=payment.decision_reason,
            awaiting_second_approval=payment.status == m.PaymentStatus.REQUESTED
            and payment.first_approved_by is not None,
            player_id=strawberry.ID(str(to_global_id("Player", payment.player_id))),
            first_approved_by=staff_id(payment.first_approved_by),
            approved_by=staff_id(payment.approved_by),
            rejected_by=staff_id(payment.rejected_by),
            created_at=payment.created_at,
            updated_at=payment.updated_at,
            completed_at=payment.completed_at,
        )

    @strawberry.field(description="Every attempt at a PSP, in order, with its answer.")  # type: ignore[untyped-decorator]
    async def attempts(self, info: Info) -> list[PaymentAttempt] | None:
        rows = await info.context.loaders.payment_attempts.load(uuid.UUID(self.id))
        return [PaymentAttempt.from_model(a) for a in rows]

    @strawberry.field(description="The player, with the fields the viewer may read.")  # type: ignore[untyped-decorator]
    async def player(self, info: Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.players import player_by_id

        return await player_by_id(info, self.player_id)

    @strawberry.field(description="The ledger transactions that moved this payment's money, oldest first.")  # type: ignore[untyped-decorator]
    async def ledger_transactions(self, info: Info) -> list[LedgerTransaction] | None:
        from resolvers.wallet import referenced_transactions

        return await referenced_transactions(info, "payment", uuid.UUID(self.id))


@strawberry.input
class PaymentFilter:
    status: PaymentStatus | None = None
    kind: PaymentKind | None = None
    player_id: strawberry.ID | None = None


@strawberry.input(description="A deposit. Card data never comes here: `pspToken` is the PSP payment form's token.")
class DepositInput:
    amount: str = strawberry.field(description='Decimal string in the currency\'s units, e.g. "25.00"')
    currency: str
    method: PaymentMethod
    psp_token: str | None = text(PSP_TOKEN, default=None)
    idempotency_key: str | None = text(
        IDEMPOTENCY_KEY, default=None, description="Retries with the same key return the same payment"
    )
    bonus_code: str | None = text(
        PROMO_CODE,
        default=None,
        description="Claim a deposit offer with this deposit (activated when the deposit succeeds)",
    )


@strawberry.type
class DepositPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RequestWithdrawalInput:
    amount: str
    currency: str
    method: PaymentMethod
    psp_token: str | None = text(PSP_TOKEN, default=None, description="The PSP's token of the destination")
    idempotency_key: str | None = text(IDEMPOTENCY_KEY, default=None)
    forfeit_bonuses: bool = strawberry.field(
        default=False,
        description="With an active bonus the request is refused (BONUS_ACTIVE) unless this confirms forfeiting it",
    )


@strawberry.type
class RequestWithdrawalPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ApproveWithdrawalInput:
    payment_id: strawberry.ID
    reason: str | None = text(REASON, default=None)


@strawberry.type
class ApproveWithdrawalPayload:
    payment: Payment | None = None
    awaiting_second_approval: bool = False
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RejectWithdrawalInput:
    payment_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.type
class RejectWithdrawalPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class CancelWithdrawalInput:
    payment_id: strawberry.ID


@strawberry.type
class CancelWithdrawalPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="The risk desk's decision on a deposit a risk rule held.")
class HeldDepositDecisionInput:
    payment_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.type
class HeldDepositDecisionPayload:
    payment: Payment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
