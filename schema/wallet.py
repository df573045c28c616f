"""Wallet types: balances, ledger transactions with their postings, manual adjustments."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay

from models import adjustments as adjustment_models
from models import ledger as ledger_models
from schema.base import Money, UserError
from schema.context import Info
from schema.input_limits import IDEMPOTENCY_KEY, REASON, text

if TYPE_CHECKING:
    from schema.players import Player


@strawberry.type(description="A player's balances in one currency.")
class WalletBalance:
    currency: str
    cash: Money
    bonus: Money
    withdrawal_pending: Money
    debt: Money = strawberry.field(
        description="What the player owes the operator after a chargeback larger than their cash (zero when "
        "nothing): a later deposit repays it first where the operator has it so (docs/chargebacks.md)."
    )


@strawberry.type(description="How one of the viewer's accounts moved in a transaction.")
class BalanceChange:
    account: str  # cash | bonus | withdrawal_pending
    amount: Money
    balance_after: Money


@strawberry.type(description="An account of the ledger, as staff see it on a posting.")
class LedgerAccountRef:
    id: strawberry.ID
    owner_type: str
    owner_id: str
    purpose: str
    currency: str


@strawberry.type(description="One line of a double-entry transaction: the postings of a transaction sum to zero.")
class LedgerPosting:
    account: LedgerAccountRef
    amount: Money
    balance_after: Money | None


@strawberry.type(description="A money movement. `changes` are the player's own accounts; staff also see `postings`.")
class LedgerTransaction(relay.Node):
    id: relay.NodeID[str]
    kind: str
    status: str
    refusal_code: str | None
    created_at: datetime
    reference_type: str | None
    reference_id: str | None
    changes: list[BalanceChange]
    player_id: strawberry.Private[uuid.UUID | None]

    @strawberry.field(description="Every posting of the transaction, house side included.")  # type: ignore[untyped-decorator]
    async def postings(self, info: Info) -> list[LedgerPosting] | None:
        from resolvers.wallet import transaction_postings

        return await transaction_postings(info, uuid.UUID(self.id))


TransactionKind = ledger_models.TransactionKind
strawberry.enum(ledger_models.TransactionKind, name="TransactionKind")


@strawberry.input
class TransactionFilter:
    kinds: list[TransactionKind] | None = None
    currency: str | None = None
    since: datetime | None = None
    until: datetime | None = None


AdjustmentStatus = adjustment_models.AdjustmentStatus
strawberry.enum(adjustment_models.AdjustmentStatus, name="AdjustmentStatus")


@strawberry.enum
class AdjustmentDirection(Enum):
    CREDIT = "credit"
    DEBIT = "debit"


@strawberry.type(description="A manual correction of a player's cash; large ones wait for a second approver.")
class Adjustment(relay.Node):
    id: relay.NodeID[str]
    player_id: strawberry.ID
    amount: Money  # signed: negative takes money away
    reason: str
    status: AdjustmentStatus
    requested_by: strawberry.ID
    approved_by: strawberry.ID | None
    decision_reason: str | None
    transaction_id: strawberry.ID | None
    created_at: datetime
    decided_at: datetime | None

    @classmethod
    def from_model(cls, row: adjustment_models.Adjustment) -> Adjustment:
        from schema.base import to_global_id

        return cls(
            id=str(row.id),
            player_id=strawberry.ID(str(to_global_id("Player", row.player_id))),
            amount=Money.of(row.amount, row.currency),
            reason=row.reason,
            status=AdjustmentStatus(row.status),
            requested_by=strawberry.ID(str(to_global_id("StaffUser", row.requested_by))),
            approved_by=strawberry.ID(str(to_global_id("StaffUser", row.approved_by))) if row.approved_by else None,
            decision_reason=row.decision_reason,
            transaction_id=strawberry.ID(str(to_global_id("LedgerTransaction", row.transaction_id)))
            if row.transaction_id
            else None,
            created_at=row.created_at,
            decided_at=row.decided_at,
        )

    @strawberry.field(description="The player, with the fields the viewer may read.")  # type: ignore[untyped-decorator]
    async def player(self, info: Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.players import player_by_id

        return await player_by_id(info, self.player_id)


@strawberry.input
class RequestAdjustmentInput:
    player_id: strawberry.ID
    amount: str = strawberry.field(description='Positive decimal string, e.g. "25.00"')
    currency: str
    direction: AdjustmentDirection
    reason: str = text(REASON)
    idempotency_key: str = text(IDEMPOTENCY_KEY, description="Unique per adjustment; a retry with it changes nothing")


@strawberry.type
class RequestAdjustmentPayload:
    adjustment: Adjustment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class DecideAdjustmentInput:
    adjustment_id: strawberry.ID
    approve: bool
    reason: str = text(REASON, default="")


@strawberry.type
class DecideAdjustmentPayload:
    adjustment: Adjustment | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
