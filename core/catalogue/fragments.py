"""Pieces the event types' schemas share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EventType:
    name: str  # "<domain>.<fact>", e.g. "ledger.game_bet"
    version: int  # the version of `data`'s schema; a breaking change is a new version
    summary: str  # one line for docs/events.md and the schema's description
    data: dict[str, Any]  # the JSON Schema of the event's data


UUID: dict[str, Any] = {"type": "string", "format": "uuid"}
OPTIONAL_UUID: dict[str, Any] = {"type": ["string", "null"], "format": "uuid"}
MINOR_UNITS: dict[str, Any] = {"type": "integer", "description": "minor units of `currency`"}
CURRENCY: dict[str, Any] = {"type": "string", "pattern": "^[A-Z0-9]{3,8}$"}
TEXT: dict[str, Any] = {"type": "string", "maxLength": 200}
OPTIONAL_TEXT: dict[str, Any] = {"type": ["string", "null"], "maxLength": 200}
TIME: dict[str, Any] = {"type": "string", "format": "date-time"}
OPTIONAL_TIME: dict[str, Any] = {"type": ["string", "null"], "format": "date-time"}


def obj(required: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    """A closed object: every field named, `required` ones always present."""
    return {
        "type": "object",
        "required": sorted(required),
        "additionalProperties": False,
        "properties": {**required, **(optional or {})},
    }


def one_of(*values: str) -> dict[str, Any]:
    return {"type": "string", "enum": list(values)}
