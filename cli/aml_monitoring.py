"""`croupier aml`: transaction monitoring's versions, backtests and activation (docs/aml-monitoring.md)."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import aml_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime
    from services.aml.monitoring.backtest import Result
    from services.aml.monitoring.versions import StoredVersion


_SYSTEM_REASON = "croupier aml (command line)"


def _refused(exc: Exception) -> typer.Exit:
    typer.echo(f"refused: {getattr(exc, 'message', str(exc))}", err=True)
    return typer.Exit(1)


@aml_app.command("versions")
def list_versions() -> None:
    """Every monitoring version, newest first; the live one marked."""
    from services.aml.monitoring import versions

    async def work(rt: Runtime) -> list[StoredVersion]:
        async with rt.database.transaction() as db:
            return await versions.all_versions(db)

    for v in with_runtime(work):
        rules = ", ".join(r["id"] for r in v.document["rules"])
        typer.echo(f"{v.number:>4} {'LIVE' if v.live else '    '} {v.note!r}: {rules}")


@aml_app.command("add-version")
def add_version(
    file: Annotated[Path, typer.Argument(help="a TOML file shaped like services/aml/monitoring_rules.toml")],
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = _SYSTEM_REASON,
) -> None:
    """Store the rules and scenario of FILE as a new version (not live: backtest it, then activate it)."""
    from authz.subjects import Viewer
    from core.errors import DomainError
    from services.aml.monitoring import rules, versions

    try:
        parsed = rules.read_file(file)
    except DomainError as exc:
        raise _refused(exc) from exc

    async def work(rt: Runtime) -> StoredVersion:
        async with rt.database.transaction() as db:
            return await versions.add(db, parsed, actor=Viewer(), reason=reason)

    typer.echo(f"stored version {with_runtime(work).number}")


@aml_app.command("backtest")
def backtest(
    version: Annotated[int, typer.Option("--version", help="the version to backtest")],
    start: Annotated[datetime | None, typer.Option("--from", help="events written from (UTC)")] = None,
    end: Annotated[datetime | None, typer.Option("--to", help="events written before (UTC)")] = None,
) -> None:
    """What VERSION would raise over the stored history, against the live version (nothing live changes)."""
    from core.errors import DomainError
    from services.aml.monitoring import backtest as backtests

    async def work(rt: Runtime) -> Result:
        import asyncpg

        from core import outbox

        conn = await asyncpg.connect(outbox.asyncpg_dsn(rt.database.url))
        try:
            return await backtests.run(conn, version=version, start=_utc(start), end=_utc(end))
        finally:
            await conn.close()

    try:
        result = with_runtime(work)
    except DomainError as exc:
        raise _refused(exc) from exc
    rate = result.events / result.seconds if result.seconds else 0
    typer.echo(f"run {result.run_id}: version {result.version} against live version {result.baseline}")
    typer.echo(f"{result.events} events in {result.seconds:.1f} s of CPU ({rate:,.0f} events/s)")
    typer.echo(json.dumps(result.summary, indent=2))


@aml_app.command("activate-version")
def activate_version(
    version: Annotated[int, typer.Argument(help="the version to make live")],
    reason: Annotated[str, typer.Option(help="why (kept in the audit log)")] = _SYSTEM_REASON,
) -> None:
    """Make VERSION live (audited; an aml.scenario_activated event); the consumer uses it from its next batch."""
    from authz.subjects import Viewer
    from core.errors import DomainError
    from services.aml.monitoring import versions

    async def work(rt: Runtime) -> StoredVersion:
        async with rt.database.transaction() as db:
            return await versions.activate(db, version, actor=Viewer(), reason=reason)

    try:
        typer.echo(f"version {with_runtime(work).number} is live")
    except DomainError as exc:
        raise _refused(exc) from exc


def _utc(moment: datetime | None) -> datetime | None:
    from datetime import UTC

    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment
