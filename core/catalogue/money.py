"""Money movements: one event per ledger transaction and player (services/ledger.py writes them, in the
transaction's own database transaction), typed by the transaction's kind."""

from __future__ import annotations

from core.catalogue.fragments import (
    CURRENCY,
    MINOR_UNITS,
    OPTIONAL_TEXT,
    UUID,
    EventType,
    obj,
)

KINDS = {
    "deposit": "A deposit was credited to the player's cash.",
    "withdrawal_hold": "A withdrawal's amount moved from cash to pending (requested).",
    "withdrawal_paid": "A withdrawal was paid out: pending to the PSP.",
    "withdrawal_void": "A withdrawal was rejected, cancelled or failed: pending back to cash.",
    "adjustment": "Staff corrected a balance (with four-eyes approval where required).",
    "game_bet": "A stake: cash and/or bonus money to the house.",
    "game_win": "A win: house to the player's cash and/or bonus.",
    "game_bet_rollback": "A provider cancelled a stake: it returns to where it came from.",
    "game_win_rollback": "A provider cancelled a win: it goes back to the house.",
    "bonus_grant": "Bonus money granted to the player's bonus balance.",
    "bonus_cash": "A cash bonus (a cashback, a no-wagering reward) paid into cash.",
    "bonus_conversion": "Wagering completed: bonus money became cash.",
    "bonus_forfeit": "Bonus money taken back (forfeited by the player, a withdrawal or staff).",
    "bonus_expiry": "Bonus money taken back when its bonus expired.",
    "bonus_cancel": "Bonus money taken back when staff cancelled its bonus.",
    "chargeback": "A PSP took a deposit back: from cash up to its balance, the rest booked as the player's debt.",
    "chargeback_reversal": "A won dispute: the charged-back money returns, debt still owed first, then cash.",
    "payout_returned": "A paid withdrawal came back from the bank: the PSP to the player's cash.",
    "tournament_buy_in": "A tournament buy-in or re-buy: the player's cash to the tournament's pool.",
    "tournament_refund": "A cancelled tournament's buy-in or re-buy back from its pool to the player's cash.",
    "tournament_prize": "A tournament's cash prize: from its pool (a share) or the operator (a fixed amount) to cash.",
    "jackpot_win": "A jackpot dropped: its pool to the winner's cash (services/jackpots).",
}
GAME_KINDS = frozenset({"game_bet", "game_win", "game_bet_rollback", "game_win_rollback"})

MOVEMENT = obj(
    {
        "transaction_id": UUID,
        "kind": {"type": "string", "enum": sorted(KINDS)},
        "player_id": UUID,
        "currency": CURRENCY,
        "cash": {**MINOR_UNITS, "description": "signed change of the player's cash balance"},
        "bonus": {**MINOR_UNITS, "description": "signed change of the player's bonus balance"},
        "pending": {**MINOR_UNITS, "description": "signed change of withdrawals pending payout"},
        "balances": obj({}, {"cash": MINOR_UNITS, "bonus": MINOR_UNITS, "pending": MINOR_UNITS, "debt": MINOR_UNITS})
        | {"description": "balances after the transaction, of the accounts it moved"},
        "reference_type": {"type": ["string", "null"], "maxLength": 64},
        "reference_id": {"type": ["string", "null"], "maxLength": 200},
    },
    {
        "game": {**OPTIONAL_TEXT, "description": "game transactions: the provider's game code"},
        "provider": {**OPTIONAL_TEXT, "description": "game transactions: the provider's code"},
        "round": {**OPTIONAL_TEXT, "description": "game transactions: the provider's round id"},
        "provider_reference": {**OPTIONAL_TEXT, "description": "rollbacks: the provider transaction undone"},
        "psp": {**OPTIONAL_TEXT, "description": "deposits and payouts: the payment service provider"},
        "debt": {
            **MINOR_UNITS,
            "description": "signed change of what the player owes, present when it moved (negative: more owed)",
        },
    },
)

TYPES = tuple(EventType(f"ledger.{kind}", 1, summary, MOVEMENT) for kind, summary in KINDS.items())


def is_movement(type_: object) -> bool:
    """Whether an event of this type moved a player's money (live balances and figures re-read on it)."""
    return isinstance(type_, str) and type_.startswith("ledger.")
