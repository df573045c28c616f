"""Payments: every state a deposit or a withdrawal passes through (services/cashier). The money itself
moves in `ledger.*` events; these say where the payment stands and why."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, OPTIONAL_TEXT, TEXT, UUID, EventType, obj, one_of

PAYMENT = obj(
    {
        "payment_id": UUID,
        "kind": one_of("deposit", "withdrawal"),
        "status": one_of(
            "created",
            "pending",
            "succeeded",
            "failed",
            "requested",
            "approved",
            "processing",
            "paid",
            "rejected",
            "cancelled",
            "waiting_for_kyc",
            "returned",
            "held",
        ),
        "player_id": UUID,
        "brand_id": UUID,
        "currency": CURRENCY,
        "amount": MINOR_UNITS,
        "psp": {**OPTIONAL_TEXT, "description": "the PSP (none yet for a withdrawal not sent)"},
    },
    {
        "attempt_id": {**UUID, "description": "the PSP attempt the change came from"},
        "reason": {**OPTIONAL_TEXT, "description": "failures: the PSP's or the platform's reason code and text"},
        "abandoned": {"type": "boolean", "description": "failures: left unfinished (3-D Secure never answered)"},
        "automatic": {"type": "boolean", "description": "approvals: by the auto-approval rules, not staff"},
        "approver": {**UUID, "description": "approvals: the staff member"},
        "rejected_by": {**UUID, "description": "rejections: the staff member"},
        "released_by": {**UUID, "description": "held deposits released: the risk desk's staff member"},
        "dispute_id": {**UUID, "description": "chargebacks: the dispute it opened"},
        "chargeback_id": {**TEXT, "description": "chargebacks: the PSP's id of the chargeback"},
        "charged_back": {**MINOR_UNITS, "description": "chargebacks: the amount the PSP took back"},
        "cash_debited": {**MINOR_UNITS, "description": "chargebacks: the part taken from the player's cash"},
        "debt_booked": {**MINOR_UNITS, "description": "chargebacks: the rest, booked as the player's debt"},
        "cash_returned": {**MINOR_UNITS, "description": "reversals: the part returned to cash"},
        "debt_cancelled": {**MINOR_UNITS, "description": "reversals: the part that cancelled debt still owed"},
    },
)

STATES = {
    "payment.created": "A deposit was started with a PSP.",
    "payment.held": "A risk rule, or a BIN rule that could not decide on the card, held a deposit for the risk desk: "
    "no PSP asked, no money moved.",
    "payment.released": "The risk desk released a held deposit: it goes to the PSPs as a new one.",
    "payment.pending": "The PSP needs more (3-D Secure, a bank transfer to arrive).",
    "payment.processing": "A withdrawal was sent to a PSP.",
    "payment.succeeded": "A deposit succeeded (its money is in the ledger.deposit event).",
    "payment.failed": "A deposit or a payout failed (every PSP of the cascade declined, or it was abandoned).",
    "payment.requested": "A player asked for a withdrawal (its amount is held).",
    "payment.waiting_for_kyc": "A requested withdrawal waits for the player's KYC level (its amount stays held).",
    "payment.kyc_cleared": "A withdrawal that waited for KYC goes on as a requested one (the level was reached).",
    "payment.first_approval": "The first of two staff approvals of a large withdrawal.",
    "payment.approved": "A withdrawal was approved (by staff or the auto-approval rules).",
    "payment.rejected": "A withdrawal was rejected (its amount returns to cash).",
    "payment.cancelled": "The player cancelled a withdrawal before payout.",
    "payment.payout_held": "An approved withdrawal was held back before its payout (a restriction since): still held.",
    "payment.paid": "A withdrawal was paid out.",
    "payment.duplicate_charge": "A PSP charged a deposit twice: flagged for refund, not credited twice.",
    "payment.duplicate_payout": "A PSP reported a second payout of one withdrawal: flagged for finance.",
    "payment.payout_after_failure": "A PSP paid out a withdrawal already failed over: flagged for finance.",
    "payment.chargeback": "A PSP charged a deposit back: cash debited up to its balance, the rest booked as debt.",
    "payment.chargeback_reversed": "A PSP reversed a chargeback (the dispute was won): the money is back.",
    "payment.payout_returned": "A paid withdrawal came back from the bank: its amount is in cash again.",
}

TYPES = tuple(EventType(name, 1, summary, PAYMENT) for name, summary in STATES.items())
