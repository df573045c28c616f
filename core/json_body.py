"""The parsing gate for JSON bodies from outside parties (game providers, PSPs).

A body passes only if it is UTF-8, strict JSON (no NaN or Infinity), a JSON object, nested no deeper
than `MAX_DEPTH`, and every string in it (keys included) can be stored as PostgreSQL text: no NUL
character and no unpaired surrogate (`\\u0000` and `\\ud800` are valid JSON escapes that PostgreSQL's
text and jsonb refuse, which would surface as a 500 half-way through a command). Each protocol calls
this once, before it reads a field, and turns the refusal into its own answer; nothing downstream
then needs its own check. Cost is linear in the body: one decode, one parse, one walk of the values.
"""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 32  # the deepest a provider or PSP body legitimately goes is a handful of levels

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


class BodyRefused(ValueError):
    """The body did not pass the gate."""


class MalformedJson(BodyRefused):
    """Not UTF-8, not strict JSON, not an object, or nested deeper than allowed."""


class UnstorableText(BodyRefused):
    """Well-formed JSON holding a string PostgreSQL cannot store (NUL, an unpaired surrogate)."""


def _reject_constant(value: str) -> Any:
    raise MalformedJson(f"not JSON: {value}")


def parse_object(raw: bytes, *, max_depth: int = MAX_DEPTH, storable: bool = True) -> dict[str, Any]:
    """The body as a dict; raises MalformedJson or (with `storable`) UnstorableText."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except RecursionError as exc:  # the C parser's own guard, far deeper than MAX_DEPTH
        raise MalformedJson("nested too deep") from exc
    except ValueError as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise MalformedJson(str(exc)) from exc
    if not isinstance(body, dict):
        raise MalformedJson("not a JSON object")
    # The common case needs no walk: without a `\u` escape no string can hold a NUL or a surrogate (a raw
    # one is not valid JSON or not valid UTF-8), and with few brackets nothing can be nested deep.
    if b"\\u" in raw or raw.count(b"[") + raw.count(b"{") > max_depth:
        _check(body, max_depth, storable)
    return body


def _check(body: dict[str, Any], max_depth: int, storable: bool) -> None:
    """Walk the containers without recursion: their depth, and the text of every key and string."""
    pending: list[tuple[dict[str, Any] | list[Any], int]] = [(body, 1)]
    while pending:
        container, depth = pending.pop()
        if depth > max_depth:
            raise MalformedJson("nested too deep")
        if isinstance(container, dict):
            if storable and any(_UNSTORABLE.search(key) for key in container):
                raise UnstorableText("a key holds a character that cannot be stored")
            values: Any = container.values()
        else:
            values = container
        for value in values:
            if isinstance(value, (dict, list)):
                pending.append((value, depth + 1))
            elif storable and isinstance(value, str) and _UNSTORABLE.search(value):
                raise UnstorableText("a string holds a character that cannot be stored")
