"""`permissions`: which schema coordinates the viewer may use, so a client offers only what will work.

The answer is the very decision set the field-permission extension checks every field against
(`Context.allowed`, from Casbin): a client that hides what is not listed needs no copy of the policy.
"""

from __future__ import annotations

from core.errors import bad_input
from schema.context import Info

MAX_ASKED = 500


async def permissions(info: Info, coordinates: list[str] | None = None) -> list[str]:
    allowed = info.context.allowed
    if coordinates is None:
        return sorted(allowed)
    if len(coordinates) > MAX_ASKED:
        raise bad_input(f"Ask about at most {MAX_ASKED} coordinates at once.", field="coordinates")
    return [coordinate for coordinate in dict.fromkeys(coordinates) if coordinate in allowed]
