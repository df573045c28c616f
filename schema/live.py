"""Types pushed over subscriptions: a player's live balances and the staff's live operations figures."""

from __future__ import annotations

from datetime import datetime

import strawberry

from schema.base import Money
from schema.wallet import WalletBalance


@strawberry.type(description="A player's balances after a money movement (the first one is the current state).")
class BalanceUpdate:
    transaction_id: strawberry.ID | None = strawberry.field(
        description="The ledger transaction that moved the balance; null on a snapshot."
    )
    kind: str = strawberry.field(
        description=(
            "The transaction's kind (deposit, bet, win, …), or `snapshot`: the balances now, on subscribing "
            "and again when the live feed resumes after an outage."
        )
    )
    balances: list[WalletBalance]


@strawberry.type(description="Live figures for the staff's brand scope.")
class OperationsFigures:
    at: datetime
    trigger: str = strawberry.field(description="Why this update came: `initial`, `activity` or `heartbeat`.")
    bets_per_minute: int = strawberry.field(description="Bets booked in the last 60 seconds.")
    wins_per_minute: int = strawberry.field(description="Wins booked in the last 60 seconds.")
    ggr_today: list[Money] = strawberry.field(description="Stakes minus wins since midnight UTC, per currency.")
    deposits_today: list[Money] = strawberry.field(description="Deposits credited since midnight UTC, per currency.")
    active_players: int = strawberry.field(description="Players with a ledger transaction in the last 15 minutes.")
