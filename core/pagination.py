"""Keyset pagination for Relay connections (`first`/`after`, `last`/`before`, at most 100).

Lists are ordered newest first on a unique key (e.g. `created_at, id`); a cursor is the key of its
row, so pages stay stable while rows are added and the database walks an index instead of an
OFFSET. Cursors are opaque to clients and validated on decode.
"""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute, Mapped

from core.errors import bad_input

MAX_PAGE = 100
DEFAULT_PAGE = 20
T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    cursors: list[str]
    has_next_page: bool
    has_previous_page: bool


def _encode(values: Sequence[Any]) -> str:
    raw = json.dumps(
        [v.isoformat() if isinstance(v, date) else str(v) if isinstance(v, uuid.UUID) else v for v in values]
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str, keys: Sequence[InstrumentedAttribute[Any]]) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = json.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != len(keys):
            raise ValueError
        values: list[Any] = []
        for key, value in zip(keys, raw, strict=True):
            kind = key.type.python_type
            if kind is datetime:
                values.append(datetime.fromisoformat(value))
            elif kind is date:  # a day (jackpot contributions by day)
                values.append(date.fromisoformat(value))
            elif kind is uuid.UUID:
                values.append(uuid.UUID(value))
            else:
                values.append(kind(value))
        return values
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise bad_input("Invalid pagination cursor.") from exc


def _attributes(keys: Sequence[Mapped[Any]]) -> list[InstrumentedAttribute[Any]]:
    """The keys as mapped class attributes (`col(Model.field)` is typed `Mapped` but is one at runtime)."""
    attributes: list[InstrumentedAttribute[Any]] = []
    for key in keys:
        if not isinstance(key, InstrumentedAttribute):
            raise TypeError(f"A pagination key must be a mapped column attribute, not {key!r}.")
        attributes.append(key)
    return attributes


def check_page_args(first: int | None, last: int | None) -> None:
    for name, value in (("first", first), ("last", last)):
        if value is not None and not 0 <= value <= MAX_PAGE:
            raise bad_input(f"`{name}` must be between 0 and {MAX_PAGE}.", field=name)
    if first is not None and last is not None:
        raise bad_input("Use either `first` or `last`, not both.")


async def paginate(
    db: AsyncSession,
    stmt: Select[Any],
    keys: Sequence[Mapped[Any]],
    *,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Page[Any]:
    """Run `stmt` (which selects one entity) one page at a time, newest first by `keys`.

    `keys` are the model's column attributes, e.g. `(col(Player.created_at), col(Player.id))`.
    """
    check_page_args(first, last)
    attributes = _attributes(keys)
    key = tuple_(*attributes)
    if after:
        stmt = stmt.where(key < tuple_(*_decode(after, attributes)))
    if before:
        stmt = stmt.where(key > tuple_(*_decode(before, attributes)))
    backwards = last is not None and first is None
    size = last if backwards else (first if first is not None else DEFAULT_PAGE)
    assert size is not None
    order = [k.asc() for k in attributes] if backwards else [k.desc() for k in attributes]
    rows = list((await db.scalars(stmt.order_by(*order).limit(size + 1))).all())
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    cursors = [_encode([getattr(row, k.key) for k in attributes]) for row in rows]
    return Page(
        items=rows,
        cursors=cursors,
        has_next_page=bool(before) if backwards else more,
        has_previous_page=more if backwards else bool(after),
    )
