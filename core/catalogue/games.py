"""Play outside the money: a real-money game launched (services/games.py). Stakes and wins are ledger events."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, OPTIONAL_UUID, UUID, EventType, obj

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
)
