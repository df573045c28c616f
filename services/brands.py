"""Brands an operator runs.

A brand's code, name and currencies show in every lobby and in kept GraphQL answers
(services/lobby_cache.py, schema/kept_answers.py): every write here marks its transaction as changing
the catalogue, so once it commits (core/db.py `Database.transaction`) this process drops what it kept
and tells the others on `lobby_cache.channel`.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from core.db import changed
from core.errors import DomainError, NotFound
from core.runtime import CATALOGUE
from models.brands import Brand
from services.rg.profiles import DEFAULT, unknown_codes


async def list_brands(db: AsyncSession) -> Sequence[Brand]:
    return (await db.scalars(select(Brand).order_by(col(Brand.code)))).all()


def normalise_code(code: str) -> str:
    """A brand code as stored: what a client sends (`X-Brand`, an argument) is matched this way everywhere."""
    return code.strip().lower()


async def get_by_code(db: AsyncSession, code: str) -> Brand:
    brand: Brand | None = await db.scalar(select(Brand).where(col(Brand.code) == normalise_code(code)))
    if brand is None:
        raise NotFound(f"No brand with code {code!r}.", field="brand")
    return brand


async def get_many(db: AsyncSession, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Brand]:
    rows = (await db.scalars(select(Brand).where(col(Brand.id).in_(ids)))).all()
    return {brand.id: brand for brand in rows}


async def create_brand(
    db: AsyncSession,
    *,
    code: str,
    name: str,
    default_currency: str,
    currencies: list[str],
    countries: list[str],
    minimum_age: int = 18,
    jurisdictions: Sequence[str] = (DEFAULT,),
) -> Brand:
    unknown = unknown_codes(jurisdictions)
    if unknown:
        raise DomainError(f"Unknown jurisdiction profiles: {', '.join(unknown)}.", field="jurisdictions")
    brand = Brand(
        code=code.lower(),
        name=name,
        default_currency=default_currency,
        currencies=currencies,
        countries=countries,
        minimum_age=minimum_age,
        jurisdictions=list(jurisdictions),
    )
    db.add(brand)
    await db.flush()
    changed(db, CATALOGUE)
    return brand
