"""What the GraphQL endpoint accepts on the wire, before the schema sees anything.

HTTP bodies, GET parameters and graphql-transport-ws messages are decoded here: UTF-8, JSON, nested at
most `MAX_JSON_DEPTH` deep (nothing in a GraphQL request legitimately nests further, and every later
step — variable coercion, the NUL check, logging — may then walk it freely). A GraphQL request is a JSON
object whose `query` and `operationName` are strings and whose `variables` and `extensions` are objects.
Anything else is refused here with a message saying what is wrong, so no edge answers a 500 for it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

MAX_JSON_DEPTH = 32


class MalformedJson(json.JSONDecodeError):
    """Not UTF-8, not JSON, or nested too deep. A JSONDecodeError (what strawberry's parsers expect); the
    WebSocket endpoint (schema/transport_ws.py) closes with 4400 on it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason, "", 0)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason


def decode_json(raw: str | bytes) -> Any:
    """The JSON value of `raw`, or MalformedJson."""
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError as exc:
        raise MalformedJson("The request is not UTF-8.") from exc
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:  # the parser's own guard, far deeper than MAX_JSON_DEPTH
        raise MalformedJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.") from exc
    except ValueError as exc:  # a syntax error, or an integer of more digits than Python converts
        raise MalformedJson("The request is not valid JSON.") from exc
    if _depth_exceeds(value, MAX_JSON_DEPTH):
        raise MalformedJson(f"JSON nested deeper than {MAX_JSON_DEPTH} levels.")
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")  # Python's json module accepts NaN and Infinity; JSON does not


def _depth_exceeds(value: Any, limit: int) -> bool:
    """Whether containers nest deeper than `limit`; without recursion, stopping at the first too deep."""
    if not isinstance(value, (dict, list)):
        return False
    pending: list[tuple[Any, int]] = [(value, 1)]
    while pending:
        container, depth = pending.pop()
        children = container.values() if isinstance(container, dict) else container
        for child in children:
            if isinstance(child, (dict, list)):
                if depth + 1 > limit:
                    return True
                pending.append((child, depth + 1))
    return False


def request_problem(request: Any) -> str | None:
    """What makes `request` not a GraphQL request (None when it is one); `query` may be missing,
    which the endpoint answers on its own."""
    if not isinstance(request, Mapping):
        return "A GraphQL request is a JSON object with a `query` (batches are not accepted)."
    expected = {"query": str, "operationName": str, "variables": Mapping, "extensions": Mapping}
    for key, kind in expected.items():
        value = request.get(key)
        if value is not None and not isinstance(value, kind):
            return f"`{key}` must be {'a string' if kind is str else 'an object'}."
    return None
