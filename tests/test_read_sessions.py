"""`Database.session()` reads in autocommit (core/db.py): a write through it would commit each row on
its own, so the ORM refuses to flush one there, and nothing reaches the database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from models.brands import Brand


async def test_a_read_session_refuses_an_orm_write_and_writes_nothing(rt: Any) -> None:
    async with rt.database.session() as db:
        before = (await db.execute(select(func.count()).select_from(Brand))).scalar_one()
        db.add(Brand(code="read-only", name="Read only", default_currency="EUR"))
        with pytest.raises(RuntimeError, match="does not write"):
            await db.flush()
    async with rt.database.session() as db:
        assert (await db.execute(select(func.count()).select_from(Brand))).scalar_one() == before


async def test_a_transaction_still_writes(rt: Any) -> None:
    async with rt.database.transaction() as db:
        db.add(Brand(code="written", name="Written", default_currency="EUR"))
    async with rt.database.session() as db:
        assert (await db.execute(select(Brand).where(Brand.code == "written"))).scalar_one().name == "Written"
