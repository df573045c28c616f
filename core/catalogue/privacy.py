"""Privacy: data exports and erasures (services/privacy). Never the data itself: which player, which
categories, how many rows."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import TIME, UUID, EventType, obj, one_of

# The categories of a player's data an erasure treats alike (services/privacy/retention.toml gives each its
# retention); defined here, where the events name them, so the catalogue depends on no service.
CATEGORIES = (
    "contact",
    "identity",
    "kyc_documents",
    "transactions",
    "aml",
    "responsible_gambling",
    "staff_notes",
)
CATEGORY: dict[str, Any] = one_of(*CATEGORIES)

TYPES = (
    EventType(
        "privacy.exported",
        1,
        "A copy of everything held about a player was produced: for the player themselves (subject: the "
        "AML categories withheld) or for staff (every category).",
        obj({"player_id": UUID, "audience": one_of("subject", "staff"), "rows": {"type": "integer", "minimum": 0}}),
    ),
    EventType(
        "privacy.erasure_requested",
        1,
        "A player asked to be erased; the data-protection officer carries it out (privacy.erased) or refuses it.",
        obj({"player_id": UUID, "request_id": UUID}),
    ),
    EventType(
        "privacy.erased",
        1,
        "A player was pseudonymised: the account closed, the categories without a retention duty erased; "
        "the others held until their retention ends (`croupier privacy sweep` erases them then).",
        obj(
            {
                "player_id": UUID,
                "request_id": UUID,
                "erased": {"type": "array", "items": CATEGORY, "uniqueItems": True},
                "held": {
                    "type": "array",
                    "items": obj({"category": CATEGORY, "retained_until": TIME}),
                },
            }
        ),
    ),
)
