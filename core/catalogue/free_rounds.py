"""Free rounds granted through a provider's API (services/free_rounds): one `free_rounds.<what happened>` event per
change of a grant's status. The rounds' wins are money movements (`ledger.game_win`, paid from the bonus cost) and
their bonus's own events (`bonus.*`)."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import (
    CURRENCY,
    MINOR_UNITS,
    OPTIONAL_TEXT,
    OPTIONAL_TIME,
    TEXT,
    UUID,
    EventType,
    obj,
    one_of,
)

GRANT: dict[str, Any] = {
    "grant_id": UUID,
    "bonus_id": {**UUID, "description": "the free-spins bonus the rounds belong to"},
    "player_id": UUID,
    "provider": {**TEXT, "description": "the provider's code"},
    "status": one_of("pending", "granted", "failed", "cancelled"),
    "rounds": {"type": "integer", "minimum": 1},
    "bet": {**MINOR_UNITS, "description": "each round's bet"},
    "currency": CURRENCY,
    "reward_uuid": {**OPTIONAL_TEXT, "description": "the provider's id of the reward"},
    "expires_at": OPTIONAL_TIME,
}


def _grant(name: str, summary: str, optional: dict[str, Any] | None = None) -> EventType:
    return EventType(name, 1, summary, obj(GRANT, optional))


TYPES = (
    _grant("free_rounds.requested", "A free-spins bonus asked its provider for free rounds (sent after the commit)."),
    _grant("free_rounds.granted", "The provider acknowledged the free rounds: its reward id now names the bonus."),
    _grant(
        "free_rounds.failed",
        "The provider refused the free rounds, or never answered after every attempt: the bonus is cancelled.",
        {"error": {**OPTIONAL_TEXT, "description": "the provider's status or the transport error"}},
    ),
    _grant(
        "free_rounds.cancelled",
        "The free rounds were cancelled: by staff (at the provider, then their bonus), or because the bonus engine "
        "cancelled or forfeited their bonus (the reward cancelled at the provider, retried until it answers).",
        {
            "cause": one_of("staff", "bonus_ended"),
            "at_provider": {"type": "boolean", "description": "the provider confirmed the reward's cancellation"},
        },
    ),
)
