"""Scheduled exports: every completed UTC day of each configured export (`REPORT_EXPORTS`) goes once to
its folder or S3-compatible bucket, named `croupier-<kind>-<day>-<day>.<format>`. A day is done when
`report_exports` has its row (written after the file is stored: a crash in between stores the same
bytes again). A day waits while the `reports` consumer still has events of it to apply (an export taken
then would miss them for good). One exporter at a time across replicas (an advisory lock); missed days are
caught up."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.logging import get_logger
from core.runtime import Runtime
from models.returns import ReportExport
from services.reports import exports, projection
from services.reports.destinations import Destination
from services.reports.tables import Format

log = get_logger(__name__)


@dataclass(frozen=True)
class Schedule:
    kind: exports.ExportKind
    format: Format
    destination: Destination

    @classmethod
    def parse(cls, entry: dict[str, str]) -> Schedule:
        unknown = set(entry) - {"kind", "format", "destination"}
        if unknown or "kind" not in entry or "destination" not in entry:
            raise DomainError(
                f"REPORT_EXPORTS entries are {{kind, format, destination}} (got {sorted(entry)}).",
                field="REPORT_EXPORTS",
                code=ErrorCode.INVALID_INPUT,
            )
        schedule = cls(
            exports.parse_kind(entry["kind"]),
            exports.parse_format(entry.get("format", "csv")),
            Destination(entry["destination"]),
        )
        schedule.destination.check()
        return schedule


@dataclass(frozen=True)
class Done:
    schedule: Schedule
    day: date
    location: str
    rows: int


def schedules(rt: Runtime) -> list[Schedule]:
    return [Schedule.parse(entry) for entry in rt.settings.report_exports]


_DONE = text(
    "SELECT 1 FROM report_exports WHERE kind = :kind AND format = :format AND destination = :destination AND day = :day"
)


# An event of the day the `reports` consumer has not applied yet (as verify counts them): exporting now
# would store the day without it, and the day, once done, is never exported again.
_UNAPPLIED = text("""
SELECT EXISTS (
    SELECT 1 FROM outbox_events o
    WHERE o.created_at >= :since AND o.created_at < :until AND o.topic = ANY(CAST(:types AS varchar[]))
      AND o.schema_version > 0
      AND o.id > coalesce((SELECT cursor FROM event_consumers WHERE name = :consumer), 0)
      AND NOT EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = :consumer AND p.event_id = o.id))""")


async def _projected(db: AsyncSession, day: date) -> bool:
    """Whether the report projections hold every event of `day` committed so far."""
    since = datetime.combine(day, time(), UTC)
    params = {"since": since, "until": since + timedelta(days=1), "consumer": projection.NAME}
    return not await db.scalar(_UNAPPLIED, {**params, "types": sorted(projection.TYPES)})


async def run_due(rt: Runtime, *, today: date | None = None) -> list[Done]:
    """Export every completed day not yet exported (up to the catch-up window); returns what it did."""
    today = today or clock.now().date()
    days = [today - timedelta(days=n) for n in range(rt.settings.report_export_catch_up_days, 0, -1)]
    done: list[Done] = []
    for schedule in schedules(rt):
        for day in days:
            found = await _export_day(rt, schedule, day)
            if found is not None:
                done.append(found)
    return done


async def _export_day(rt: Runtime, schedule: Schedule, day: date) -> Done | None:
    """One day of one schedule, unless done (or being done by another replica: it holds the lock)."""
    key = {
        "kind": schedule.kind.value,
        "format": schedule.format.value,
        "destination": schedule.destination.url,
        "day": day,
    }
    lock = int.from_bytes(hashlib.sha256(repr(sorted(key.items())).encode()).digest()[:8], "big", signed=True)
    async with rt.database.transaction() as db:
        if not await db.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock}):
            return None
        if await db.scalar(_DONE, key):
            return None
        if not await _projected(db, day):
            return None  # the consumer is behind: the next round exports it
        made = await exports.export(db, schedule.kind, brands=None, start=day, end=day, fmt=schedule.format)
        content = made.content()
        location = await schedule.destination.put(made.filename, content, endpoint_url=rt.settings.s3_endpoint_url)
        db.add(
            ReportExport(
                kind=schedule.kind.value,
                format=schedule.format.value,
                destination=schedule.destination.url,
                day=day,
                location=location,
                rows=len(made.table.rows),
                sha256=hashlib.sha256(content).hexdigest(),
            )
        )
    return Done(schedule, day, location, len(made.table.rows))


async def run(rt: Runtime) -> None:
    """The exporter loop of one API process (nothing to do without `REPORT_EXPORTS`)."""
    while rt.settings.report_exports:
        try:
            for found in await run_due(rt):
                log.info("report_exported", kind=found.schedule.kind, day=str(found.day), location=found.location)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("report_export_failed")
        await asyncio.sleep(rt.settings.report_export_interval_seconds)
