"""Catalogue sync resolvers: thin over services/providers/catalogue_sync.py (the CLI and the schedule call it too)."""

from __future__ import annotations

from sqlmodel import col

from core.pagination import paginate
from models import games as m
from resolvers.common import payload_errors, require_subject
from schema.base import Connection
from schema.catalogue_sync import CatalogueSyncPayload, CatalogueSyncRun, CatalogueSyncStatus, SyncGameCatalogueInput
from schema.context import Info
from services.providers import catalogue_sync


async def catalogue_sync_runs(
    info: Info,
    provider: str | None = None,
    status: CatalogueSyncStatus | None = None,
    first: int | None = None,
    after: str | None = None,
    last: int | None = None,
    before: str | None = None,
) -> Connection[CatalogueSyncRun]:
    """Sync runs, newest first (staff)."""
    where = catalogue_sync.RunFilter(provider=provider, status=status.value if status else None)
    async with info.context.rt.database.session() as db:
        page = await paginate(
            db,
            catalogue_sync.listed_runs(where),
            (col(m.CatalogueSyncRun.started_at), col(m.CatalogueSyncRun.id)),
            first=first,
            after=after,
            last=last,
            before=before,
        )
    return Connection.of(page, CatalogueSyncRun.from_model)


@payload_errors(CatalogueSyncPayload)
async def sync_game_catalogue(info: Info, input: SyncGameCatalogueInput) -> CatalogueSyncPayload:
    require_subject(info)
    run = await catalogue_sync.sync_provider(info.context.rt, info.context.viewer, input.provider, trigger="staff")
    return CatalogueSyncPayload(run=CatalogueSyncRun.from_model(run) if run is not None else None)
