"""Brand resolvers (public)."""

from __future__ import annotations

from core.errors import NotFound
from schema.brands import Brand
from schema.context import Info
from services import brands


async def list_brands(info: Info) -> list[Brand]:
    async with info.context.rt.database.session() as db:
        return [Brand.from_model(b) for b in await brands.list_brands(db)]


async def brand(info: Info, code: str) -> Brand | None:
    async with info.context.rt.database.session() as db:
        try:
            return Brand.from_model(await brands.get_by_code(db, code))
        except NotFound:
            return None
