"""Sanctions and PEP screening (services/aml): an alert raised by a match, and staff's decision on it.
No names: the alert's id, the list entity's id (public list data) and the score."""

from __future__ import annotations

from core.catalogue.fragments import UUID, EventType, obj, one_of

_ENTITY = {"type": "string", "maxLength": 200, "description": "the list entity's id (FollowTheMoney)"}
_SCORE = {"type": "number", "minimum": 0, "maximum": 1}

TYPES = (
    EventType(
        "aml.screening_alert_raised",
        1,
        "A player's details matched a sanctions or PEP list entity above the threshold: an alert awaits review.",
        obj(
            {
                "alert_id": UUID,
                "player_id": UUID,
                "entity_id": _ENTITY,
                "list_version": {"type": "string", "maxLength": 64},
                "score": _SCORE,
                "topics": {"type": "array", "items": {"type": "string", "maxLength": 64}},
            }
        ),
    ),
    EventType(
        "aml.screening_alert_decided",
        1,
        "Staff decided a screening alert: a false positive (remembered) or a confirmed match (a case follows).",
        obj(
            {
                "alert_id": UUID,
                "player_id": UUID,
                "entity_id": _ENTITY,
                "decision": one_of("false_positive", "confirmed"),
                "staff_id": UUID,
            }
        ),
    ),
)
