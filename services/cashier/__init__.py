"""The cashier: deposits and withdrawals through PSPs, with routing, cascade and repair.

Guarantees:
- A payment is credited (deposit) or paid out (withdrawal) at most once: the ledger keys the money
  movement by the payment id (services/wallet.py), and a payment's state only moves forward under
  its row lock. The money movement, the payment's new state and its outbox event commit together.
- The cascade never charges twice: every attempt is written (outcome `sending`) before its PSP is
  called, with the attempt id as the PSP's idempotency key. On a technical failure (timeout, 5xx,
  unreachable) the attempt's status is asked first; only an attempt the PSP never took lets the next
  PSP be tried. A hard decline stops the cascade. A success of an attempt the cascade had already
  left, arriving after another attempt won, is refunded at its PSP, never credited.
- Chargebacks take from cash only what it holds; the rest is the player's debt (chargebacks.py).
- Webhooks (HMAC-signed) are processed once per (PSP, event id), in any order: an attempt's outcome
  never moves back from succeeded, and the same set of events gives the same final state whatever
  their order (a success wins over a decline of the same attempt, because the money moved).
- A crash between a PSP's success and our commit leaves the attempt `sending` or `pending`; its
  webhook or `reconcile` (a status poll) applies the PSP's answer later, through the same function.
- Withdrawals hold the funds when requested (so concurrent requests never overdraw), are approved
  automatically below a threshold, by finance staff above it, and by two different finance staff
  above a second threshold; a rejection or a failed payout voids the hold. Every staff decision is
  in the audit log.
- Card data never reaches the platform: deposits carry a PSP vault token only.

Nothing here holds a database transaction open across a PSP call.

Locks, in one order (a step that needs a later one never waits for an earlier one while holding it):
1. the payment's row — one payment per transaction, never two;
2. the attempt the step acts on (both through `payments.lock_payment` / `lock_attempt`, never by hand);
3. rows that reference them: a new attempt, a webhook's receipt, a bonus waiting for the deposit.
   Inserting such a row takes a KEY SHARE lock on the row it names, so it comes after that row's own
   lock: a webhook that inserted its receipt first and then waited for the payment deadlocked with
   the cascade recording the same attempt's answer (issue 12);
4. the player's money, when the step moves it (services/wallet.py `lock_player_money`, in its order).
Payments and attempts are locked FOR NO KEY UPDATE (no step changes their keys), a mode that a KEY
SHARE lock taken by an insert elsewhere never waits for, nor blocks.

The package, one job a module (each imports only those above it):
- psp/: the PSP port (requests, answers, failures, webhook signatures) and its HTTP adapters;
- payments.py: what every step shares (errors, the locks above, status changes, outbox events);
- routing.py: which PSPs to try, in order, and the adapter for each; payment_rules.py: limits and BIN rules as
  data; routing_config.py: the versions that hold both (routing_admin.py: staff's edits and the preview);
- payment_limits.py: the BIN rules and payment limits and velocity checked at intake;
- queries.py: what a viewer may read, attempts, the back office's filters and withdrawal queue;
- intake.py: checking a player's request and inserting the payment once per idempotency key;
- answers.py: applying a PSP's answer about one attempt (the state machine above);
- payout_checks.py: the last look before a withdrawal's payout (a restriction since its approval holds it back);
- cascade.py: calling the PSPs in turn, recording their answers, refunds and sending payouts;
- deposits.py, withdrawals.py: the player's and finance's entry points (each reads risk's rules and restrictions in
  its transaction: services/risk/inline.py);
- risk_holds.py: the risk desk's release or decline of a deposit a risk rule held (no PSP asked until released);
- chargebacks.py: a PSP's chargeback of a deposit, its reversal, a returned payout (the books, the debt, the
  restriction, the dispute; docs/chargebacks.md);
- webhooks.py: PSP notifications; repair.py: status polls (`refresh`, `reconcile`).
"""

from services.cashier.cascade import process_withdrawal, record_answer
from services.cashier.deposits import deposit
from services.cashier.intake import DEPOSIT_METHODS, LOOKS_LIKE_CARD, TOKEN_PATTERN, WITHDRAWAL_METHODS
from services.cashier.payments import PaymentDeclined, PaymentUnavailable
from services.cashier.queries import (
    PaymentFilter,
    attempts_of,
    awaiting_decision,
    filtered,
    get_readable,
    readable_payments,
)
from services.cashier.repair import ReconcileReport, reconcile, refresh
from services.cashier.routing import DEFAULT_RULES, RoutingRule, adapter_for, payout_route, route, routing_rules
from services.cashier.webhooks import WebhookOutcome, handle_webhook
from services.cashier.withdrawals import (
    Decision,
    approve_withdrawal,
    cancel_withdrawal,
    reject_withdrawal,
    request_withdrawal,
)

__all__ = [
    "DEFAULT_RULES",
    "DEPOSIT_METHODS",
    "LOOKS_LIKE_CARD",
    "TOKEN_PATTERN",
    "WITHDRAWAL_METHODS",
    "Decision",
    "PaymentDeclined",
    "PaymentFilter",
    "PaymentUnavailable",
    "ReconcileReport",
    "RoutingRule",
    "WebhookOutcome",
    "adapter_for",
    "approve_withdrawal",
    "attempts_of",
    "awaiting_decision",
    "cancel_withdrawal",
    "deposit",
    "filtered",
    "get_readable",
    "handle_webhook",
    "payout_route",
    "process_withdrawal",
    "readable_payments",
    "reconcile",
    "record_answer",
    "refresh",
    "reject_withdrawal",
    "request_withdrawal",
    "route",
    "routing_rules",
]
