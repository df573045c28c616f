"""Catalogue sync: each provider's game list pulled on a schedule into the catalogue, every run reported.

A provider with a game-list URL (`game_providers.game_list_url`, set by staff) is synced every
CATALOGUE_SYNC_INTERVAL_SECONDS by the server's loop (`run`), at once by `croupier providers sync [CODE]`,
or by staff (`syncGameCatalogue`). A run fetches the list (GET, JSON, the shape services/providers/imports.py
reads), checks all of it, and applies it through `imports.apply_list` with `withdraw_missing`: new games are
added, changed ones updated, games the list no longer names are withdrawn (switched off, `withdrawn_at`
stamped, never deleted: rounds and transactions point at them), and withdrawn games listed again are restored.

Invariants:
- A run is applied entirely or not at all, in one transaction with its report (`catalogue_sync_runs`), its
  audit record and its events (`catalogue.game_added|changed|withdrawn|restored`, `catalogue.synced`).
- A failing provider degrades alone: an unreachable list, an HTTP error, a body that is not a game list, or an
  entry the catalogue refuses is recorded as a failed run (`error`, `catalogue.sync_failed`) and changes
  nothing; the other providers of the sweep are synced as usual.
- An empty list never withdraws a whole catalogue: a provider answering `[]` while it has games is a failure.
- Replicas do not sync a provider twice in one period: the run re-reads the provider's last run under its row
  lock and skips when another replica's run is inside the period.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import SYSTEM, Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.runtime import Runtime
from models.games import CatalogueSyncRun, Provider
from services.affiliates.postbacks import network
from services.providers import imports, registry
from services.providers.imports import GameDiff, ImportReport, InvalidGameList

log = get_logger(__name__)

TRIGGERS = ("schedule", "cli", "staff")
MAX_LIST_BYTES = 20 * 1024 * 1024  # a list of MAX_GAMES games with every field is a few megabytes
MAX_ERROR = 1000


class ListUnavailable(Exception):
    """The provider's list could not be read (network, HTTP status, not JSON, too large)."""


@dataclass(frozen=True)
class RunFilter:
    provider: str | None = None
    status: str | None = None


async def fetch_list(url: str, *, seconds: float, allow_private: bool = False) -> Any:
    """The provider's game list as JSON (no redirects: the URL staff set is the one fetched), from a public
    address only unless `allow_private` (the connection checks the address it connects to, as postbacks do:
    a name resolving to an internal address, cloud metadata included, is refused)."""
    transport = network.transport(limits=httpx.Limits(max_connections=1), allow_private=allow_private)
    try:
        async with (
            httpx.AsyncClient(timeout=seconds, follow_redirects=False, transport=transport) as http,
            http.stream("GET", url, headers={"accept": "application/json"}) as response,
        ):
            if response.status_code != 200:
                raise ListUnavailable(f"the list answered HTTP {response.status_code}")
            # Read at most MAX_LIST_BYTES: a hostile or broken list (an endless body) stops here, never
            # buffered whole (the timeout is per read, so a slow endless body would never end otherwise).
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > MAX_LIST_BYTES:
                    raise ListUnavailable(f"the list is larger than {MAX_LIST_BYTES} bytes")
    except httpx.HTTPError as exc:
        raise ListUnavailable(f"the list could not be fetched: {type(exc).__name__} {exc}".strip()) from exc
    try:
        return json.loads(body)
    except ValueError as exc:
        raise ListUnavailable("the list is not JSON") from exc


def _problems(exc: InvalidGameList) -> str:
    return "; ".join(f"{p.field}: {p.message}" if p.field else p.message for p in exc.problems)


def _diffs(diffs: list[GameDiff]) -> list[dict[str, Any]]:
    return [
        {
            "code": d.code,
            "title": d.title,
            "changes": [{"field": c.field, "old": c.old, "new": c.new} for c in d.changes],
        }
        for d in diffs
    ]


def _events(run: CatalogueSyncRun, report: ImportReport) -> list[outbox.Event]:
    subject = f"game_provider:{run.provider_code}"
    base = {"provider": run.provider_code, "sync_run_id": str(run.id)}
    found: list[outbox.Event] = []
    for kind, diffs in (
        ("added", report.added),
        ("changed", report.changed),
        ("withdrawn", report.withdrawn),
        ("restored", report.restored),
    ):
        for diff in diffs:
            data = {**base, "game": diff.code, "title": diff.title, "fields": sorted(c.field for c in diff.changes)}
            found.append(outbox.event(f"catalogue.game_{kind}", subject, data))
    counts = {k: getattr(run, k) for k in ("added", "changed", "withdrawn", "restored", "unchanged")}
    found.append(outbox.event("catalogue.synced", subject, {**base, "trigger": run.trigger, **counts}))
    return found


async def _last_started(db: AsyncSession, provider_id: uuid.UUID) -> datetime | None:
    last: datetime | None = await db.scalar(
        select(func.max(col(CatalogueSyncRun.started_at))).where(col(CatalogueSyncRun.provider_id) == provider_id)
    )
    return last


async def _record_failure(
    rt: Runtime, provider: Provider, trigger: str, started: datetime, error: str
) -> CatalogueSyncRun:
    run = CatalogueSyncRun(
        provider_id=provider.id,
        provider_code=provider.code,
        trigger=trigger,
        status="failed",
        started_at=started,
        finished_at=clock.now(),
        error=error[:MAX_ERROR],
    )
    async with rt.database.transaction() as db:
        db.add(run)
        await db.flush()
        await outbox.emit(
            db,
            "catalogue.sync_failed",
            f"game_provider:{provider.code}",
            {"provider": provider.code, "sync_run_id": str(run.id), "trigger": trigger, "error": run.error},
        )
    log.warning("catalogue_sync_failed", provider=provider.code, error=run.error)
    return run


async def sync_provider(
    rt: Runtime, actor: Viewer, code: str, *, trigger: str, due_before: datetime | None = None
) -> CatalogueSyncRun | None:
    """Pull one provider's list and apply it; the run (succeeded or failed) is returned. With `due_before`
    (the schedule) nothing happens, and None is returned, when the provider was synced since then."""
    if trigger not in TRIGGERS:
        raise ValueError(trigger)
    async with rt.database.session() as db:
        provider = await registry.get_by_code(db, code)
    if not provider.game_list_url:
        raise DomainError(
            f"{provider.code} has no game-list URL: set it first.", field="provider", code=ErrorCode.INVALID_STATE
        )
    started = clock.now()
    try:
        entries = imports.parse_game_list(
            await fetch_list(
                provider.game_list_url,
                seconds=rt.settings.catalogue_sync_timeout_seconds,
                allow_private=rt.settings.catalogue_sync_reaches_private_hosts,
            )
        )
    except ListUnavailable as exc:
        return await _record_failure(rt, provider, trigger, started, str(exc))
    except InvalidGameList as exc:
        return await _record_failure(rt, provider, trigger, started, _problems(exc))
    try:
        async with rt.database.transaction() as db:
            locked = await registry.get_by_code(db, code, lock=True)  # queues imports and other replicas' runs
            if due_before is not None:
                last = await _last_started(db, locked.id)
                if last is not None and last > due_before:
                    return None
            report = await imports.apply_list(
                db, actor, locked, entries, currencies=[], withdraw_missing=True, note=f"catalogue sync ({trigger})"
            )
            if not entries and report.withdrawn:
                raise InvalidGameList([DomainError("The list is empty: it would withdraw every game.", field="games")])
            run = CatalogueSyncRun(
                provider_id=locked.id,
                provider_code=locked.code,
                trigger=trigger,
                status="succeeded",
                started_at=started,
                finished_at=clock.now(),
                added=len(report.added),
                changed=len(report.changed),
                withdrawn=len(report.withdrawn),
                restored=len(report.restored),
                unchanged=len(report.unchanged),
                report={
                    "added": _diffs(report.added),
                    "changed": _diffs(report.changed),
                    "withdrawn": _diffs(report.withdrawn),
                    "restored": _diffs(report.restored),
                },
            )
            db.add(run)
            await db.flush()
            await outbox.emit_events(db, _events(run, report))
    except InvalidGameList as exc:  # an entry the catalogue refuses (a new game without its RTP), or empty
        return await _record_failure(rt, provider, trigger, started, _problems(exc))
    log.info(
        "catalogue_synced",
        provider=run.provider_code,
        added=run.added,
        changed=run.changed,
        withdrawn=run.withdrawn,
        restored=run.restored,
    )
    return run


async def sync_all(
    rt: Runtime, actor: Viewer, *, trigger: str, due_before: datetime | None = None
) -> list[CatalogueSyncRun]:
    """Every enabled provider with a game-list URL (with `due_before`: those not synced since), one by one;
    a provider that fails, even unexpectedly, is logged (and recorded when it can be) and the sweep goes on."""
    async with rt.database.session() as db:
        providers = list(
            (
                await db.scalars(
                    select(Provider)
                    .where(col(Provider.enabled), col(Provider.game_list_url).is_not(None))
                    .order_by(col(Provider.code))
                )
            ).all()
        )
    runs: list[CatalogueSyncRun] = []
    for provider in providers:
        try:
            run = await sync_provider(rt, actor, provider.code, trigger=trigger, due_before=due_before)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # one provider's failure must not stop the others
            log.exception("catalogue_sync_crashed", provider=provider.code)
            run = await _record_failure(rt, provider, trigger, clock.now(), f"unexpected: {type(exc).__name__}")
        if run is not None:
            runs.append(run)
    return runs


async def run(rt: Runtime) -> None:
    """The server's loop (safe on several replicas: a provider synced within the period is skipped)."""
    period = rt.settings.catalogue_sync_interval_seconds
    while True:
        # Sleep first: a restart (or a new replica) does not pull every list at once; a provider whose period
        # has passed is due at the next wake, a quarter period later at most.
        await asyncio.sleep(period / 4)
        try:
            await sync_all(rt, SYSTEM, trigger="schedule", due_before=clock.now() - timedelta(seconds=period))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("catalogue_sync_sweep_failed")


# ---- queries ------------------------------------------------------------------------------------


def listed_runs(where: RunFilter) -> SelectOfScalar[CatalogueSyncRun]:
    """Sync runs for staff, newest first (paginate on `started_at, id`)."""
    stmt = select(CatalogueSyncRun)
    if where.provider:
        stmt = stmt.where(col(CatalogueSyncRun.provider_code) == where.provider.strip().lower())
    if where.status:
        stmt = stmt.where(col(CatalogueSyncRun.status) == where.status)
    return stmt
