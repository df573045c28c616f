"""Per-request DataLoaders of a player's risk picture: the score with its reasons, the restrictions in
force and the flags, one statement per batch whatever the number of players (a list of players, the risk queue)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from strawberry.dataloader import DataLoader

from core.runtime import Runtime
from models.risk import RiskFlag
from services.risk import review, score
from services.risk.store import OnSession


class RiskLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.score: DataLoader[uuid.UUID, score.Score] = DataLoader(self._scores)
        self.restrictions: DataLoader[uuid.UUID, list[review.Restriction]] = DataLoader(self._restrictions)
        self.flags: DataLoader[uuid.UUID, list[RiskFlag]] = DataLoader(self._flags)

    async def _scores(self, ids: Sequence[uuid.UUID]) -> list[score.Score]:
        async with self.rt.database.session() as db:
            found = await score.scores(OnSession(db), ids)
        return [found[i] for i in ids]

    async def _restrictions(self, ids: Sequence[uuid.UUID]) -> list[list[review.Restriction]]:
        async with self.rt.database.session() as db:
            found = await review.restrictions_of(db, ids)
        return [found[i] for i in ids]

    async def _flags(self, ids: Sequence[uuid.UUID]) -> list[list[RiskFlag]]:
        async with self.rt.database.session() as db:
            found = await review.flags_of(db, ids)
        return [found[i] for i in ids]
