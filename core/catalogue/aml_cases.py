"""AML cases (services/aml/cases.py and its commands). Ids and codes only: a case's summary, notes and
reasons stay in the case and the audit log. The subject is the case (`aml_case:<id>`), never the player,
so nothing about a case reaches the player's own channel."""

from __future__ import annotations

from core.catalogue.fragments import OPTIONAL_UUID, UUID, EventType, obj, one_of

STATE = one_of("open", "investigating", "escalated", "closed")
CASE = {"case_id": UUID, "player_id": UUID, "staff_id": {**OPTIONAL_UUID, "description": "null: an alert"}}

TYPES = (
    EventType(
        "aml.case_opened",
        1,
        "An AML case was opened about a player, from an alert or by staff (its source and type).",
        obj({**CASE, "source": {"type": "string", "maxLength": 32}, "case_type": {"type": "string", "maxLength": 32}}),
    ),
    EventType(
        "aml.case_state_changed",
        1,
        "An AML case moved between open, investigating and escalated (to the MLRO).",
        obj({**CASE, "from_state": STATE, "to_state": STATE}),
    ),
    EventType(
        "aml.case_closed",
        1,
        "An AML case was closed with its outcome (the reasons stay inside).",
        obj({**CASE, "outcome": one_of("no_action", "sar_filed", "account_closed", "other")}),
    ),
    EventType(
        "aml.restriction_changed",
        1,
        "An AML case restricted the player's account, or the restriction was lifted.",
        obj({**CASE, "restricted": {"type": "boolean"}}),
    ),
    EventType(
        "aml.sar_exported",
        1,
        "The MLRO exported an AML case as a goAML SAR/STR draft (the report code only).",
        obj({**CASE, "report_code": one_of("SAR", "STR")}),
    ),
)
