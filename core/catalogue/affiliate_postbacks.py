"""Affiliate postbacks (services/affiliates/postbacks, docs/affiliate-postbacks.md): a delivery to a partner's
URL ended, answered 2xx or failed on its last try. The attempts themselves are in the delivery log, not
events (a partner that is down would fill the stream with them)."""

from __future__ import annotations

from typing import Any

from core.catalogue.fragments import UUID, EventType, obj, one_of

_DELIVERY: dict[str, Any] = obj(
    {
        "delivery_id": UUID,
        "config_id": UUID,
        "affiliate_id": UUID,
        "trigger": one_of("registration", "first_deposit", "qualification"),
        "event_id": {"type": "integer", "minimum": 1, "description": "the event the postback announced"},
        "attempts": {"type": "integer", "minimum": 1, "description": "tries made, the last one included"},
    }
)

TYPES = (
    EventType(
        "affiliate.postback_delivered",
        1,
        "A partner answered a postback with a 2xx: it is never sent again.",
        _DELIVERY,
    ),
    EventType(
        "affiliate.postback_failed",
        1,
        "A postback failed on its last try (staff may retry it from the delivery log).",
        _DELIVERY,
    ),
)
