"""Closed-loop types: where a player's withdrawals must go first, how much per method, and staff exceptions
(services/cashier/closed_loop.py, docs/closed-loop.md)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from core.money import parse_amount
from models.closed_loop import ClosedLoopException as ExceptionRow
from schema.base import Money, UserError, to_global_id
from schema.cashier import PaymentMethod
from schema.input_limits import REASON, text
from services.cashier.closed_loop import Leg, LoopShare
from services.cashier.closed_loop import plan as plan_legs

INSTRUMENT = 128


@strawberry.type(description="What deposits through one method and instrument brought in, and what is still owed back.")
class ClosedLoopShare:
    method: PaymentMethod
    instrument: str = strawberry.field(
        description="The share's key: a PSP token, a crypto asset (BTC), or empty for deposits that named none"
    )
    instrument_token: str | None = strawberry.field(
        description="The latest deposit's own token (for crypto, the deposit address id)"
    )
    psp: str | None = strawberry.field(description="The PSP of the latest deposit through it")
    deposited: Money
    charged_back: Money
    sent_back: Money = strawberry.field(description="Withdrawals to it requested, in progress or paid")
    waived: Money = strawberry.field(description="What staff exceptions waived")
    owed: Money = strawberry.field(description="What withdrawals must send back here before any other method")

    @classmethod
    def of(cls, share: LoopShare) -> ClosedLoopShare:
        def money(minor: int) -> Money:
            return Money.of(minor, share.currency)

        return cls(
            method=PaymentMethod(share.method),
            instrument=share.instrument,
            instrument_token=share.instrument_token,
            psp=share.psp,
            deposited=money(share.deposited),
            charged_back=money(share.charged_back),
            sent_back=money(share.sent_back),
            waived=money(share.waived),
            owed=money(share.owed),
        )


@strawberry.type(description="Part of a withdrawal: to a loop share's method and instrument, or (null) any method.")
class ClosedLoopLeg:
    method: PaymentMethod | None
    instrument: str | None
    instrument_token: str | None = strawberry.field(description="The token to send as the withdrawal's pspToken")
    amount: Money

    @classmethod
    def of(cls, leg: Leg, currency: str) -> ClosedLoopLeg:
        share = leg.share
        return cls(
            method=PaymentMethod(share.method) if share else None,
            instrument=share.instrument if share else None,
            instrument_token=share.instrument_token if share else None,
            amount=Money.of(leg.amount, currency),
        )


@strawberry.type(description="A staff waiver of (part of) a loop share, with its reason; revocable.")
class ClosedLoopException:
    id: strawberry.ID
    method: PaymentMethod
    instrument: str
    amount: Money
    reason: str
    granted_by: strawberry.ID
    created_at: datetime
    revoked_at: datetime | None
    revoked_by: strawberry.ID | None
    revoke_reason: str | None

    @classmethod
    def of(cls, row: ExceptionRow) -> ClosedLoopException:
        return cls(
            id=strawberry.ID(str(row.id)),
            method=PaymentMethod(row.method),
            instrument=row.instrument,
            amount=Money.of(row.amount, row.currency),
            reason=row.reason,
            granted_by=strawberry.ID(str(to_global_id("StaffUser", row.granted_by))),
            created_at=row.created_at,
            revoked_at=row.revoked_at,
            revoked_by=strawberry.ID(str(to_global_id("StaffUser", row.revoked_by))) if row.revoked_by else None,
            revoke_reason=row.revoke_reason,
        )


@strawberry.type(description="Where a player's withdrawals in one currency may go: the deposits' methods first.")
class ClosedLoop:
    currency: str
    enforced: bool = strawberry.field(description="Whether the player's jurisdiction applies the closed loop")
    owed: Money = strawberry.field(description="The open shares' total: withdrawals up to it go to them")
    shares: list[ClosedLoopShare] = strawberry.field(description="Every share, open or closed, oldest first")
    exceptions: list[ClosedLoopException] | None = strawberry.field(description="Staff waivers, newest first")
    loop: strawberry.Private[list[LoopShare]]

    @strawberry.field(  # type: ignore[untyped-decorator]
        description="Where a withdrawal of `amount` may go: the open shares in proportion to what each is owed, "
        "the rest to any method (method null)."
    )
    def plan(self, amount: str) -> list[ClosedLoopLeg]:
        minor = parse_amount(amount, self.currency)
        return [ClosedLoopLeg.of(leg, self.currency) for leg in plan_legs(self.loop, minor)]


@strawberry.input(description="Waive (part of) an open loop share, with a reason (audited).")
class GrantClosedLoopExceptionInput:
    player_id: strawberry.ID
    currency: str
    method: PaymentMethod
    instrument: str = text(INSTRUMENT, description="The share's `instrument` as ClosedLoopShare shows it")
    amount: str | None = strawberry.field(default=None, description="Decimal amount; null: all the share is owed")
    reason: str = text(REASON)


@strawberry.type
class GrantClosedLoopExceptionPayload:
    exception: ClosedLoopException | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Revoke a closed-loop exception, with a reason (audited).")
class RevokeClosedLoopExceptionInput:
    exception_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.type
class RevokeClosedLoopExceptionPayload:
    exception: ClosedLoopException | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
