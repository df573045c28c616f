"""The one ownership rule every player-owned table follows, applied in SQL (never a post-filter):
a player reads their own rows, staff (and the platform itself) the rows of the brand their request
is scoped to — every brand for global roles — and anyone else nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import false
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer

T = TypeVar("T")


def scoped(stmt: SelectOfScalar[T], viewer: Viewer, *, player_column: Any, brand_column: Any) -> SelectOfScalar[T]:
    if viewer.is_player:
        return stmt.where(player_column == viewer.id)
    if viewer.is_staff or viewer.kind == "system":
        return stmt if viewer.brand_id is None else stmt.where(brand_column == viewer.brand_id)
    return stmt.where(false())
