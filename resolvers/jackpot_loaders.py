"""Per-request DataLoaders of the jackpot surfaces: a page of jackpots loads every one's pots in one
statement, and a level's history pages find their pot's currency in one."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import col, select
from strawberry.dataloader import DataLoader

from core.runtime import Runtime
from models.jackpots import JackpotPool
from services.jackpots import reads


class JackpotLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.pools: DataLoader[uuid.UUID, list[JackpotPool]] = DataLoader(self._pools)
        self.pool: DataLoader[uuid.UUID, JackpotPool | None] = DataLoader(self._pool)

    async def _pools(self, jackpot_ids: Sequence[uuid.UUID]) -> list[list[JackpotPool]]:
        async with self.rt.database.session() as db:
            found = await reads.pools_of(db, jackpot_ids)
        for pots in found.values():
            for pot in pots:
                self.pool.prime(pot.id, pot)  # a level's history then needs no statement for its currency
        return [found.get(i, []) for i in jackpot_ids]

    async def _pool(self, pool_ids: Sequence[uuid.UUID]) -> list[JackpotPool | None]:
        async with self.rt.database.session() as db:
            rows = {p.id: p for p in await db.scalars(select(JackpotPool).where(col(JackpotPool.id).in_(pool_ids)))}
        return [rows.get(i) for i in pool_ids]
