"""Play outside the money: a real-money game launched (services/games.py). Stakes and wins are ledger events."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, MINOR_UNITS, OPTIONAL_TEXT, OPTIONAL_UUID, TEXT, UUID, EventType, obj

TYPES = (
    EventType(
        "game.launched",
        1,
        "A player launched a game for real money: a game session whose token the provider's wallet calls carry.",
        obj(
            {
                "player_id": UUID,
                "game_session_id": UUID,
                "game": {"type": "string", "maxLength": 200, "description": "the provider's game code"},
                "provider": {"type": "string", "maxLength": 200, "description": "the provider's code"},
                "currency": CURRENCY,
                "session_id": {**OPTIONAL_UUID, "description": "the login session it was launched from"},
            }
        ),
    ),
    EventType(
        "game.supplier_promo_win",
        1,
        "A game supplier paid a player from its own promotion (Hub88 is_supplier_promo): cash credited with no bet,"
        " funded by the supplier (the brand's supplier_promo receivable), whenever it arrives.",
        obj(
            {
                "player_id": UUID,
                "provider": {**TEXT, "description": "the provider's code"},
                "game": {**OPTIONAL_TEXT, "description": "the provider's game code"},
                "round": {**OPTIONAL_TEXT, "description": "the provider's round id"},
                "transaction_uuid": {**OPTIONAL_TEXT, "description": "the provider's transaction id"},
                "currency": CURRENCY,
                "amount": MINOR_UNITS,
                "ledger_transaction_id": {**OPTIONAL_UUID, "description": "null when the amount is zero"},
            }
        ),
    ),
)
