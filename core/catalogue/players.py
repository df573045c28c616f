"""Accounts: registration, sign-in, profile and status changes (services/players.py, services/auth.py)."""

from __future__ import annotations

from core.catalogue.fragments import CURRENCY, UUID, EventType, obj, one_of

TYPES = (
    EventType(
        "player.registered",
        1,
        "A player account was created (in the brand of the envelope), with its wallet currency.",
        obj(
            {
                "player_id": UUID,
                "currency": CURRENCY,
                "jurisdiction": {"type": "string", "maxLength": 16, "description": "the rules it plays under"},
            }
        ),
    ),
    EventType(
        "player.status_changed",
        1,
        "Staff changed a player's account status (active, blocked, closed).",
        obj({"player_id": UUID, "status": one_of("active", "blocked", "closed")}),
    ),
)
