"""The one ownership rule every player-owned table follows, applied in SQL (never a post-filter):
a player reads their own rows, staff (and the platform itself) the rows of the brand their request
is scoped to — every brand for global roles — and anyone else nothing."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import false
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core.errors import DomainError, NotFound
from models.brands import Brand

T = TypeVar("T")


def scoped(stmt: SelectOfScalar[T], viewer: Viewer, *, player_column: Any, brand_column: Any) -> SelectOfScalar[T]:
    if viewer.is_player:
        return stmt.where(player_column == viewer.id)
    if viewer.is_staff or viewer.kind == "system":
        return stmt if viewer.brand_id is None else stmt.where(brand_column == viewer.brand_id)
    return stmt.where(false())


async def brand_to_write(db: AsyncSession, viewer: Viewer, code: str | None, *, field: str, what: str) -> Brand:
    """The brand a staff member's new `what` (a campaign, a journey) is for: their own when scoped to one (a
    code naming another is not found), else the one `code` names, which they must name."""
    if viewer.brand_id is not None:
        brand = await db.get(Brand, viewer.brand_id)
    elif code:
        brand = (await db.scalars(select(Brand).where(col(Brand.code) == code))).first()
    else:
        raise DomainError(f"Name the brand the {what} is for.", field=field)
    if brand is None or (code and brand.code != code):
        raise NotFound("No such brand.", field=field)
    return brand
