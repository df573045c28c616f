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


@strawberry.type(
    description=(
        "How many items wait in each compliance queue of the staff's brand scope. Each count is readable by "
        "the desks that work that queue (null with FORBIDDEN for others)."
    )
)
class ComplianceQueues:
    at: datetime
    trigger: str = strawberry.field(description="Why this update came: `initial`, `activity` or `heartbeat`.")
    kyc_level_reviews: int | None = strawberry.field(description="Players whose KYC level waits for an officer.")
    kyc_documents: int | None = strawberry.field(description="KYC documents waiting for review.")
    screening_matches: int | None = strawberry.field(description="Sanctions/PEP screening matches waiting for review.")
    aml_alerts: int | None = strawberry.field(description="Open transaction-monitoring alerts.")
    aml_cases_open: int | None = strawberry.field(description="AML cases opened and not yet being investigated.")
    aml_cases_investigating: int | None = strawberry.field(description="AML cases under investigation.")
    aml_cases_escalated: int | None = strawberry.field(description="AML cases escalated to the MLRO.")
    aml_cases_overdue: int | None = strawberry.field(description="AML cases not closed past their due date.")
