"""The bonus lifecycle (services/bonuses). Bonus money moves in `ledger.bonus_*` events."""

from __future__ import annotations

from core.catalogue.fragments import UUID, EventType, obj, one_of

STATUS = one_of("issued", "active", "completed", "forfeited", "expired", "cancelled", "released")

TYPES = (
    EventType(
        "bonus.changed",
        1,
        "A player's bonus changed status without moving money (claimed, its offer released, ...).",
        obj({"player_id": UUID, "bonus_id": UUID, "status": STATUS}),
    ),
)
