"""Disputes of chargebacks (services/cashier/chargebacks.py, services/disputes.py): opened by a PSP's
chargeback, worked by finance and risk staff, won when the PSP reverses the chargeback, lost when staff close
it so. The money moves in `ledger.chargeback` and `ledger.chargeback_reversal` events."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, OPTIONAL_TEXT, TEXT, UUID, EventType, obj, one_of

DISPUTE = obj(
    {
        "dispute_id": UUID,
        "payment_id": UUID,
        "player_id": UUID,
        "psp": TEXT,
        "chargeback_id": TEXT,
        "state": one_of("open", "evidence_submitted", "won", "lost"),
        "currency": CURRENCY,
        "amount": MINOR_UNITS,
        "reason": {**OPTIONAL_TEXT, "description": "the PSP's reason code for the chargeback"},
    },
    {"staff_id": {**UUID, "description": "staff steps: who took it"}},
)

STATES = {
    "dispute.opened": "A chargeback opened a dispute, with its evidence snapshot.",
    "dispute.evidence_submitted": "Staff submitted the dispute's evidence to the PSP.",
    "dispute.won": "The PSP reversed the chargeback: the dispute is won.",
    "dispute.lost": "Staff closed the dispute as lost: the chargeback stands (and any debt it booked).",
}

TYPES = tuple(EventType(name, 1, summary, DISPUTE) for name, summary in STATES.items())
