"""Catalogue sync types: a run of a provider's game-list sync as staff read it, and the sync-now mutation."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import strawberry

from models import games as m
from schema.base import UserError, to_global_id
from schema.providers import GameFieldChange, GameImportChange


@strawberry.enum(description="How a sync run was started.")
class CatalogueSyncTrigger(StrEnum):
    SCHEDULE = "schedule"
    CLI = "cli"
    STAFF = "staff"


@strawberry.enum(description="A run applied the list (succeeded) or changed nothing and says why (failed).")
class CatalogueSyncStatus(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


def _games(entries: list[dict[str, Any]]) -> list[GameImportChange]:
    return [
        GameImportChange(
            code=e["code"],
            title=e["title"],
            changes=[GameFieldChange(field=c["field"], old=c["old"], new=c["new"]) for c in e["changes"]],
        )
        for e in entries
    ]


@strawberry.type(description="One pull of a provider's game list into the catalogue: what it did, or why it failed.")
class CatalogueSyncRun:
    id: strawberry.ID
    provider: str = strawberry.field(description="The provider's code")
    trigger: CatalogueSyncTrigger
    status: CatalogueSyncStatus
    started_at: datetime
    finished_at: datetime
    added_count: int
    changed_count: int
    withdrawn_count: int
    restored_count: int
    unchanged_count: int
    added: list[GameImportChange] = strawberry.field(description="New games, with every field they got")
    changed: list[GameImportChange] = strawberry.field(description="Games whose fields changed (old → new)")
    withdrawn: list[GameImportChange] = strawberry.field(
        description="Games the list no longer names: switched off, kept in the catalogue"
    )
    restored: list[GameImportChange] = strawberry.field(description="Withdrawn games the list names again")
    error: str | None = strawberry.field(description="Why a failed run changed nothing")

    @classmethod
    def from_model(cls, run: m.CatalogueSyncRun) -> CatalogueSyncRun:
        report = run.report or {}
        return cls(
            id=strawberry.ID(str(to_global_id("CatalogueSyncRun", run.id))),
            provider=run.provider_code,
            trigger=CatalogueSyncTrigger(run.trigger),
            status=CatalogueSyncStatus(run.status),
            started_at=run.started_at,
            finished_at=run.finished_at,
            added_count=run.added,
            changed_count=run.changed,
            withdrawn_count=run.withdrawn,
            restored_count=run.restored,
            unchanged_count=run.unchanged,
            added=_games(report.get("added", [])),
            changed=_games(report.get("changed", [])),
            withdrawn=_games(report.get("withdrawn", [])),
            restored=_games(report.get("restored", [])),
            error=run.error,
        )


@strawberry.input
class SyncGameCatalogueInput:
    provider: str = strawberry.field(description="The provider's code (it needs a game-list URL)")


@strawberry.type
class CatalogueSyncPayload:
    run: CatalogueSyncRun | None = strawberry.field(
        default=None, description="The run, succeeded or failed (a failed run is recorded, not an error)"
    )
    errors: list[UserError] = strawberry.field(default_factory=list)
