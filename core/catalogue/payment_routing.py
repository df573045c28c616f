"""Payment routing (services/cashier/routing_admin.py): staff stored a new routing version."""

from __future__ import annotations

from core.catalogue.fragments import OPTIONAL_UUID, EventType, obj

TYPES = (
    EventType(
        "payment_routing.changed",
        1,
        "Staff stored a new version of the cashier's routing (rules and cascade, PSP terms, payment limits, BIN "
        "rules; subject `payment_routing:<version>`; the entry before and after is in the audit log). The next "
        "payment is routed and limited by it.",
        obj(
            {
                "version": {"type": "integer", "minimum": 1},
                "change": {"type": "string", "maxLength": 200, "description": "what changed, e.g. `rule cards saved`"},
                "staff_id": {**OPTIONAL_UUID, "description": "none when the command line changed it"},
            }
        ),
    ),
)
