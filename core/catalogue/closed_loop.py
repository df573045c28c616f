"""Closed-loop exceptions (services/cashier/closed_loop_exceptions.py): staff waive part of a player's loop share
(what withdrawals must send back to a deposit's method first), or revoke such a waiver. No money moves; the
instrument (a vault token, an address) and the staff's free-text reason stay out of the event."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, TEXT, UUID, EventType, obj

EXCEPTION = obj(
    {
        "exception_id": UUID,
        "player_id": UUID,
        "currency": CURRENCY,
        "method": {**TEXT, "description": "the share's payment method (card, ewallet, bank_transfer, crypto)"},
        "amount": {**MINOR_UNITS, "description": "minor units of `currency` waived"},
        "staff_id": {**UUID, "description": "who granted or revoked it"},
    }
)

TYPES = (
    EventType(
        "closed_loop.exception_granted",
        1,
        "Staff waived part of a player's closed-loop share: withdrawals may go elsewhere for that much.",
        EXCEPTION,
    ),
    EventType(
        "closed_loop.exception_revoked",
        1,
        "Staff revoked a closed-loop exception: its amount is owed to the deposit's method again.",
        EXCEPTION,
    ),
)
