"""Dispute types, inputs and payloads (staff only: Casbin gives them to finance and risk; docs/chargebacks.md)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from strawberry import relay
from strawberry.scalars import JSON

from models import disputes as m
from schema.base import Money, UserError, to_global_id
from schema.input_limits import REASON, text

if TYPE_CHECKING:
    from schema.players import Player

strawberry.enum(m.DisputeState, name="DisputeState")
DisputeState = m.DisputeState


@strawberry.type(description="A PSP's chargeback of a deposit and the operator's dispute of it.")
class Dispute(relay.Node):
    id: relay.NodeID[str]
    state: DisputeState
    psp: str
    chargeback_id: str = strawberry.field(description="The PSP's own id of the chargeback.")
    reason_code: str | None = strawberry.field(description="The PSP's reason code (fraud, not received, …).")
    amount: Money = strawberry.field(description="What the PSP took back.")
    cash_debited: Money = strawberry.field(description="The part taken from the player's cash.")
    debt_booked: Money = strawberry.field(description="The rest, booked as the player's debt (cash never < 0).")
    payment_id: strawberry.ID = strawberry.field(description="The charged-back deposit (a Payment).")
    evidence: JSON | None = strawberry.field(
        description="The snapshot taken when the chargeback came: deposits, login and game sessions, rounds, KYC."
    )
    note: str | None = strawberry.field(description="Staff's last word on it: what was submitted, or why lost.")
    opened_at: datetime | None
    decided_at: datetime | None
    created_at: datetime
    player_uuid: strawberry.Private[str]

    @strawberry.field
    async def player(self, info: strawberry.Info) -> Annotated[Player, strawberry.lazy("schema.players")] | None:
        from resolvers.disputes import dispute_player

        return await dispute_player(info, self.player_uuid)

    @classmethod
    def from_model(cls, row: m.Dispute) -> Dispute:
        return cls(
            id=str(row.id),
            state=m.DisputeState(row.state),
            psp=row.psp,
            chargeback_id=row.chargeback_id,
            reason_code=row.reason_code,
            amount=Money.of(row.amount, row.currency),
            cash_debited=Money.of(row.cash_debited, row.currency),
            debt_booked=Money.of(row.debt_booked, row.currency),
            payment_id=strawberry.ID(str(to_global_id("Payment", row.payment_id))),
            evidence=JSON(row.evidence),
            note=row.note,
            opened_at=row.opened_at,
            decided_at=row.decided_at,
            created_at=row.created_at,
            player_uuid=str(row.player_id),
        )


@strawberry.input
class DisputeFilter:
    states: list[DisputeState] | None = None
    player_id: strawberry.ID | None = None


@strawberry.input
class SubmitDisputeEvidenceInput:
    dispute_id: strawberry.ID
    note: str = text(REASON, description="What was sent to the PSP (kept on the dispute and in the audit log).")


@strawberry.input
class CloseDisputeLostInput:
    dispute_id: strawberry.ID
    reason: str = text(REASON)


@strawberry.type
class DisputePayload:
    dispute: Dispute | None = None
    errors: list[UserError] = strawberry.field(default_factory=list)
