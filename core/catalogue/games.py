"""Play outside the money: a real-money game launched (services/games.py), and the catalogue synced from the
providers' game lists (services/providers/catalogue_sync.py). Stakes and wins are ledger events."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import (
    CURRENCY,
    MINOR_UNITS,
    OPTIONAL_TEXT,
    OPTIONAL_UUID,
    TEXT,
    UUID,
    EventType,
    obj,
    one_of,
)

_COUNT: dict[str, Any] = {"type": "integer", "minimum": 0}

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
    *(
        EventType(
            f"catalogue.game_{kind}",
            1,
            summary,
            obj(
                {
                    "provider": {**TEXT, "description": "the provider's code"},
                    "sync_run_id": UUID,
                    "game": {**TEXT, "description": "the provider's game code"},
                    "title": TEXT,
                    "fields": {"type": "array", "items": TEXT, "description": "the catalogue fields it set or changed"},
                }
            ),
        )
        for kind, summary in (
            ("added", "A catalogue sync added a game the provider's list names for the first time."),
            ("changed", "A catalogue sync changed a game's fields (RTP, limits, jurisdictions…) as the list has them."),
            ("withdrawn", "A catalogue sync withdrew a game its provider's list no longer names: switched off, kept."),
            ("restored", "A catalogue sync restored a withdrawn game its provider's list names again."),
        )
    ),
    EventType(
        "catalogue.synced",
        1,
        "A provider's game list was applied to the catalogue; the counts of what the run did.",
        obj(
            {
                "provider": {**TEXT, "description": "the provider's code"},
                "sync_run_id": UUID,
                "trigger": one_of("schedule", "cli", "staff"),
                **{k: _COUNT for k in ("added", "changed", "withdrawn", "restored", "unchanged")},
            }
        ),
    ),
    EventType(
        "catalogue.sync_failed",
        1,
        "A provider's game list could not be synced (unreachable, not a list, or refused): nothing changed.",
        obj(
            {
                "provider": {**TEXT, "description": "the provider's code"},
                "sync_run_id": UUID,
                "trigger": one_of("schedule", "cli", "staff"),
                "error": {"type": ["string", "null"], "maxLength": 1000},
            }
        ),
    ),
)
