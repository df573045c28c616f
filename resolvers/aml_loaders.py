"""Per-request DataLoaders of AML case relations: one query per batch whatever the page size. They load by
case id, for cases the request already read through `services.aml.cases.readable_cases`."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlmodel import col, select
from strawberry.dataloader import DataLoader

from core.runtime import Runtime
from models.aml_cases import AmlCaseEvent, AmlCaseEvidence, AmlCaseNote, AmlRestriction

Row = TypeVar("Row", AmlCaseNote, AmlCaseEvidence, AmlCaseEvent)


class AmlLoaders:
    def __init__(self, rt: Runtime) -> None:
        self.rt = rt
        self.restricted: DataLoader[uuid.UUID, bool] = DataLoader(self._restricted)
        self.notes: DataLoader[uuid.UUID, list[AmlCaseNote]] = DataLoader(lambda ids: self._of(AmlCaseNote, ids))
        self.evidence: DataLoader[uuid.UUID, list[AmlCaseEvidence]] = DataLoader(
            lambda ids: self._of(AmlCaseEvidence, ids)
        )
        self.history: DataLoader[uuid.UUID, list[AmlCaseEvent]] = DataLoader(lambda ids: self._of(AmlCaseEvent, ids))

    async def _restricted(self, ids: Sequence[uuid.UUID]) -> list[bool]:
        stmt = select(AmlRestriction.case_id).where(
            col(AmlRestriction.case_id).in_(list(ids)), col(AmlRestriction.lifted_at).is_(None)
        )
        async with self.rt.database.session() as db:
            found = set((await db.scalars(stmt)).all())
        return [i in found for i in ids]

    async def _of(self, model: type[Row], ids: Sequence[uuid.UUID]) -> list[list[Row]]:
        table: Any = model
        stmt = select(model).where(col(table.case_id).in_(list(ids))).order_by(col(table.created_at), col(table.id))
        grouped: dict[uuid.UUID, list[Row]] = defaultdict(list)
        async with self.rt.database.session() as db:
            for row in (await db.scalars(stmt)).all():
                grouped[row.case_id].append(row)
        return [grouped.get(i, []) for i in ids]
