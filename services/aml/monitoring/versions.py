"""Monitoring versions: stored once and never edited (a change is a new version), exactly one live.

Version 1 is the shipped file (services/aml/monitoring_rules.toml), stored and made live the first time
anything asks for the live version. A new version is added from a TOML file, backtested
(services/aml/monitoring/backtest.py), then activated: the live flag moves in one transaction, with an
`aml.scenario_activated` event and an audit record. The consumer reads the live version at each batch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode
from core.runtime import Runtime
from services import audit
from services.aml.monitoring import rules
from services.aml.monitoring.rules import Version


class VersionNotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class AlreadyLive(DomainError):
    code = ErrorCode.INVALID_STATE


@dataclass(frozen=True)
class StoredVersion:
    number: int
    note: str
    live: bool
    created_at: datetime
    activated_at: datetime | None
    document: dict[str, Any]

    def parsed(self) -> Version:
        return rules.parse(self.document, number=self.number)


_COLUMNS = "version, note, live, created_at, activated_at, rules, scenario"
_INSERT = (
    "INSERT INTO aml_monitoring_versions (version, rules, scenario, note, live, activated_at) "
    "SELECT coalesce(max(version), 0) + 1, CAST(:rules AS jsonb), CAST(:scenario AS jsonb), :note, :live, "
    "CASE WHEN :live THEN now() END FROM aml_monitoring_versions HAVING :live = false OR count(*) = 0 "
    "ON CONFLICT DO NOTHING RETURNING version"
)
_LOCK = 0x0C20_A3_0001  # versions change one at a time


def _stored(row: Any) -> StoredVersion:
    data = row._mapping if hasattr(row, "_mapping") else row
    rules_, scenario = data["rules"], data["scenario"]
    if isinstance(rules_, str):  # asyncpg hands jsonb over as text
        rules_, scenario = json.loads(rules_), json.loads(scenario)
    document = {"note": data["note"], "rules": rules_, "scenario": scenario}
    return StoredVersion(
        data["version"], data["note"], data["live"], data["created_at"], data["activated_at"], document
    )


def _params(version: Version, *, live: bool) -> dict[str, Any]:
    return {
        "rules": json.dumps(version.document["rules"]),
        "scenario": json.dumps(version.document["scenario"]),
        "note": version.note,
        "live": live,
    }


async def live(conn: asyncpg.Connection) -> Version:
    """The live version (the consumer, on its own connection); version 1 from the shipped file if none."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM aml_monitoring_versions WHERE live")  # noqa: S608
    if row is None:
        default = rules.default()
        params = _params(default, live=True)
        sql = _INSERT.replace(":rules", "$1").replace(":scenario", "$2").replace(":note", "$3").replace(":live", "$4")
        await conn.execute(sql, params["rules"], params["scenario"], params["note"], True)
        row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM aml_monitoring_versions WHERE live")  # noqa: S608
    return _stored(row).parsed()


async def ensure_default(db: AsyncSession) -> None:
    params = _params(rules.default(), live=True)
    await db.execute(text(_INSERT), params)


async def all_versions(db: AsyncSession) -> list[StoredVersion]:
    await ensure_default(db)
    rows = (await db.execute(text(f"SELECT {_COLUMNS} FROM aml_monitoring_versions ORDER BY version DESC"))).all()  # noqa: S608
    return [_stored(r) for r in rows]


async def get(db: AsyncSession, number: int) -> StoredVersion:
    await ensure_default(db)
    row = (
        await db.execute(text(f"SELECT {_COLUMNS} FROM aml_monitoring_versions WHERE version = :v"), {"v": number})  # noqa: S608
    ).first()
    if row is None:
        raise VersionNotFound(f"No monitoring version {number}.", field="version")
    return _stored(row)


async def live_number(db: AsyncSession) -> int:
    await ensure_default(db)
    return int(await db.scalar(text("SELECT version FROM aml_monitoring_versions WHERE live")) or 0)


async def add(db: AsyncSession, version: Version, *, actor: Viewer, reason: str) -> StoredVersion:
    """Store a new version (not live): the next number."""
    await ensure_default(db)
    await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    number = int(await db.scalar(text(_INSERT), _params(version, live=False)) or 0)
    await audit.append(
        db,
        actor=actor,
        action="aml.monitoring_version_added",
        target_type="aml_monitoring_version",
        target_id=str(number),
        after={"version": number, "note": version.note, "rules": [r.id for r in version.rules]},
        reason=reason,
        actor_type="system" if actor.kind == "anonymous" else None,
    )
    return await get(db, number)


async def activate(db: AsyncSession, number: int, *, actor: Viewer, reason: str) -> StoredVersion:
    """Make `number` the live version (the consumer uses it from its next batch)."""
    await db.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK})
    target = await get(db, number)
    if target.live:
        raise AlreadyLive(f"Version {number} is already live.", field="version")
    previous = await live_number(db)
    await db.execute(text("UPDATE aml_monitoring_versions SET live = false WHERE live"))
    await db.execute(
        text("UPDATE aml_monitoring_versions SET live = true, activated_at = :at WHERE version = :v"),
        {"v": number, "at": clock.now()},
    )
    staff = str(actor.id) if actor.kind == "staff" and actor.id else None
    await outbox.emit(
        db,
        "aml.scenario_activated",
        f"aml_monitoring:{number}",
        {"version": number, "previous": previous or None, "staff_id": staff},
    )
    await audit.append(
        db,
        actor=actor,
        action="aml.monitoring_version_activated",
        target_type="aml_monitoring_version",
        target_id=str(number),
        before={"live": previous or None},
        after={"live": number},
        reason=reason,
        actor_type="system" if actor.kind == "anonymous" else None,
    )
    return await get(db, number)


MLRO = "mlro"


async def activate_by_staff(rt: Runtime, viewer: Viewer, number: int, reason: str) -> StoredVersion:
    """The MLRO makes `number` live from the back office: `activate` (the CLI's command) with their reason,
    which the audit record keeps."""
    if not viewer.is_staff or viewer.id is None or not ({MLRO, "superadmin"} & viewer.roles):
        raise DomainError("Only the MLRO activates a monitoring version.", code=ErrorCode.NOT_ALLOWED)
    why = reason.strip()
    if not why:
        raise DomainError("Give a reason (it is kept in the audit log).", field="reason")
    async with rt.database.transaction() as db:
        return await activate(db, number, actor=viewer, reason=why)
