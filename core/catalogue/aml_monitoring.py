"""Transaction monitoring (services/aml/monitoring): alerts raised by the rules, staff decisions on them, and
the rule version that went live. Staff's reasons stay in the alert and the audit log, never in an event."""

from __future__ import annotations

from core.catalogue.fragments import OPTIONAL_UUID, UUID, EventType, obj, one_of

_OUTCOME = one_of("review", "block_and_review", "decline")
_VERSION = {"type": "integer", "minimum": 1, "description": "the monitoring rules' version"}

TYPES = (
    EventType(
        "aml.alert_raised",
        1,
        "Transaction monitoring raised an alert on a player for staff (rules that fired, score, outcome).",
        obj(
            {
                "alert_id": UUID,
                "player_id": UUID,
                "version": _VERSION,
                "score": {"type": "integer", "minimum": 0},
                "outcome": _OUTCOME,
                "rules": {"type": "array", "items": {"type": "string", "maxLength": 64}},
                "event_id": {"type": "integer", "description": "the event it was raised on (outbox id)"},
            }
        ),
    ),
    EventType(
        "aml.alert_decided",
        1,
        "Staff decided a monitoring alert: confirmed as suspicious or dismissed (their reason stays inside).",
        obj(
            {
                "alert_id": UUID,
                "player_id": UUID,
                "decision": one_of("confirmed", "dismissed"),
                "staff_id": OPTIONAL_UUID,
            }
        ),
    ),
    EventType(
        "aml.scenario_activated",
        1,
        "A version of the monitoring rules and scenario went live (subject `aml_monitoring:<version>`).",
        obj({"version": _VERSION, "previous": {"type": ["integer", "null"]}, "staff_id": OPTIONAL_UUID}),
    ),
)
