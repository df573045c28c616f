"""The bonus lifecycle (services/bonuses): one `bonus.<what happened>` event per change of a bonus's status.

Every bonus's events begin with `bonus.issued` and, once it leaves play, end with one of `bonus.completed`,
`bonus.forfeited`, `bonus.expired`, `bonus.cancelled` or `bonus.released`; between them come
`bonus.activated` and, rarely, `bonus.reopened` (a rollback undid the stake its conversion rested on). The
bonus money itself moves in `ledger.bonus_*` events (`reference_id`: the bonus) in the same transaction.
Staff's and players' words (a cancellation's reason) stay inside: events carry codes."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import (
    CURRENCY,
    MINOR_UNITS,
    OPTIONAL_TIME,
    OPTIONAL_UUID,
    TIME,
    UUID,
    EventType,
    obj,
    one_of,
)

STATUS = one_of("issued", "active", "completed", "forfeited", "expired", "cancelled", "released")
KIND = one_of("deposit_match", "reload", "no_deposit", "free_spins", "cashback")

# What every bonus event says: which bonus, whose, of what campaign, and where it stands after the change.
BONUS: dict[str, Any] = {
    "bonus_id": UUID,
    "campaign_id": UUID,
    "player_id": UUID,
    "kind": {**KIND, "description": "the campaign's kind"},
    "status": {**STATUS, "description": "the bonus's status after this change"},
    "currency": CURRENCY,
    "amount": {**MINOR_UNITS, "description": "bonus money credited to it so far"},
    "wagering_required": {**MINOR_UNITS, "description": "stakes that must be wagered before it converts"},
    "wagering_done": {**MINOR_UNITS, "description": "stakes wagered (weighted by game contribution) so far"},
}
RETURNED = {**MINOR_UNITS, "description": "the bonus money it still held, returned to the operator"}


def _bonus(name: str, summary: str, required: dict[str, Any], optional: dict[str, Any] | None = None) -> EventType:
    return EventType(name, 1, summary, obj({**BONUS, **required}, optional))


TYPES = (
    _bonus(
        "bonus.issued",
        "A player was given a bonus: claimed (with a code or a deposit), granted by staff, or a cashback payout.",
        {
            "origin": one_of("claim", "deposit", "staff", "cashback"),
            "claim_number": {"type": "integer", "minimum": 1, "description": "the player's n-th of this campaign"},
            "expires_at": {**OPTIONAL_TIME, "description": "when it expires unless activated or completed"},
        },
        {
            "payment_id": {**OPTIONAL_UUID, "description": "deposit offers: the deposit it waits for"},
            "staff_id": {**OPTIONAL_UUID, "description": "manual grants: who granted it"},
            "period": {
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}[.][.][0-9]{4}-[0-9]{2}-[0-9]{2}$",
                "description": "cashback: the period it pays for (first day..day after the last)",
            },
        },
    ),
    _bonus(
        "bonus.activated",
        "A bonus became active: its bonus money (or free rounds) credited and its wagering clock started.",
        {
            "deposit_amount": {**MINOR_UNITS, "description": "deposit offers: the qualifying deposit (else 0)"},
            "free_rounds": {"type": "integer", "minimum": 0, "description": "free-spins bonuses: rounds to play"},
            "expires_at": TIME,
        },
    ),
    _bonus(
        "bonus.completed",
        "A bonus's wagering was met (or a cashback paid in cash): its bonus money converted into cash.",
        {
            "converted": {**MINOR_UNITS, "description": "paid into cash by this conversion"},
            "capped": {**MINOR_UNITS, "description": "withheld by the conversion cap (returned to the operator)"},
        },
    ),
    _bonus(
        "bonus.reopened",
        "A completed bonus is active again: the provider rolled back the stake its conversion rested on.",
        {"converted": {**MINOR_UNITS, "description": "the conversion taken back from cash"}},
    ),
    _bonus(
        "bonus.forfeited",
        "A bonus was given up: by the player, to withdraw while it was active, or because its deposit was "
        "charged back.",
        {"returned": RETURNED, "cause": one_of("player", "withdrawal", "chargeback")},
    ),
    _bonus("bonus.expired", "A bonus expired before its wagering was met.", {"returned": RETURNED}),
    _bonus(
        "bonus.cancelled",
        "A bonus was cancelled: by staff, because an exclusion started, a deposit offer whose deposit "
        "can no longer qualify, one whose deposit came after risk blocked the player's bonuses, or free rounds "
        "their provider refused (or never acknowledged).",
        {
            "returned": RETURNED,
            "cause": one_of("staff", "exclusion", "deposit_not_qualifying", "risk", "provider_refused"),
        },
        {"staff_id": {**OPTIONAL_UUID, "description": "staff cancellations: who cancelled it"}},
    ),
    _bonus(
        "bonus.released",
        "A deposit offer was released: its deposit failed or was abandoned, so it never counted as a claim.",
        {"payment_id": UUID},
    ),
)
LIFECYCLE = frozenset(t.name for t in TYPES)


def is_lifecycle(type_: object) -> bool:
    """Whether an event of this type changed a bonus's status (bonus progress re-reads on it)."""
    return type_ in LIFECYCLE
