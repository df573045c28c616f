"""The event backbone: the catalogue's published schemas, consumers, replays, parked events."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import app, with_runtime
from core.settings import get_settings

if TYPE_CHECKING:
    import asyncpg

    from core.consumers import AnyConsumer
    from core.runtime import Runtime

events_app = typer.Typer(help="Events: the catalogue, its consumers and sinks", no_args_is_help=True)
app.add_typer(events_app, name="events")


@events_app.command("schemas")
def schemas(
    folder: Annotated[Path | None, typer.Argument(help="where to write them (default docs/events)")] = None,
) -> None:
    """Write each catalogued event type's JSON Schema (checked in; a test fails when they drift)."""
    from core import catalogue

    target = folder or catalogue.SCHEMA_DIR
    target.mkdir(parents=True, exist_ok=True)
    written = set()
    for t in catalogue.CATALOGUE.values():
        path = target / catalogue.schema_file(t).name
        path.write_text(catalogue.schema_text(t))
        written.add(path.name)
    for stale in target.glob("*.json"):
        if stale.name not in written:
            stale.unlink()
    typer.echo(f"wrote {len(written)} schemas to {target}")


async def _connect(rt: Runtime) -> asyncpg.Connection:
    import asyncpg

    from core import outbox
    from core.consumers import PLANNING

    conn: asyncpg.Connection = await asyncpg.connect(outbox.asyncpg_dsn(rt.database.url), server_settings=PLANNING)
    return conn


def _configured(name: str) -> AnyConsumer:
    """The consumer of that name in this configuration; exit 2 naming the configured ones otherwise."""
    from services import consumers

    try:
        return consumers.find(get_settings(), name)
    except consumers.UnknownConsumer as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc


@events_app.command("consumers")
def list_consumers() -> None:
    """Each consumer: its cursor, events processed above it, parked, behind (in the outbox, not yet
    processed), and a sink's events handed to its broker but not yet recorded."""
    from services import consumers

    async def work(rt: Runtime) -> list[consumers.ConsumerStatus]:
        conn = await _connect(rt)
        try:
            return await consumers.status(conn, rt.settings)
        finally:
            await conn.close()

    found = with_runtime(work)
    if not found:
        typer.echo("no consumers configured (NATS_URL sets up the NATS sink) and none has run")
        return
    rows: list[tuple[str, ...]] = [("consumer", "configured", "cursor", "processed", "parked", "behind", "inflight")]
    for s in found:
        cursor = "-" if s.cursor is None else str(s.cursor)
        rows.append(
            (s.name, "yes" if s.configured else "no", cursor, *map(str, (s.processed, s.parked, s.behind, s.inflight)))
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        typer.echo("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


@events_app.command("parked")
def parked(
    name: Annotated[str | None, typer.Argument(help="Only this consumer's (default: every consumer's)")] = None,
) -> None:
    """Events set aside as poison (a consumer failed on them alone, repeatedly), with the error."""
    from services import consumers

    async def work(rt: Runtime) -> tuple[list[str], list[consumers.ParkedEvent]]:
        conn = await _connect(rt)
        try:
            return await consumers.known_names(conn, rt.settings), await consumers.parked_events(conn, name)
        finally:
            await conn.close()

    known, events = with_runtime(work)
    if name is not None and name not in known:
        typer.echo(f"no consumer named {name!r} (known: {', '.join(known) or 'none'})", err=True)
        raise typer.Exit(2)
    for event in events:
        typer.echo(
            f"{event.consumer}  event {event.event_id} ({event.type or 'no longer in the outbox'})  "
            f"parked {event.parked_at:%Y-%m-%d %H:%M:%S}  {event.error}"
        )
    typer.echo(f"{len(events)} parked event(s)")


@events_app.command("retry")
def retry(
    name: Annotated[str, typer.Argument(help="The consumer (after its fix is deployed)")],
    event: Annotated[list[int] | None, typer.Option("--event", help="Only this parked event (repeatable)")] = None,
) -> None:
    """Apply a consumer's parked events again; exit 1 if any fails again (it stays parked)."""
    from core.consumers import Retried, Runner, retry_parked

    consumer = _configured(name)

    async def work(rt: Runtime) -> Retried:
        from core import outbox

        conn = await _connect(rt)
        try:
            runner = Runner(consumer, outbox.asyncpg_dsn(rt.database.url), rt.redis)
            return await retry_parked(runner, conn, event)
        finally:
            await close(consumer)
            await conn.close()

    result = with_runtime(work)
    typer.echo(f"{name}: {result.applied} applied, {result.parked} failed again and stay parked")
    if result.parked:
        raise typer.Exit(1)


@events_app.command("replay")
def replay(
    name: Annotated[str, typer.Argument(help="The consumer to rebuild")],
    republish: Annotated[
        bool, typer.Option("--republish", help="A sink: publish every event again (its readers get copies)")
    ] = False,
) -> None:
    """Rebuild a consumer from the outbox table: forget what it built and processed, then apply every
    event again. Runners elsewhere may keep running: each event is still applied once."""
    from core import consumers

    consumer = _configured(name)
    if isinstance(consumer, consumers.Sink) and not republish:
        typer.echo(
            f"{name} is a sink: a replay publishes every event again, and its broker keeps the earlier copies "
            "(readers tell them apart by event id). Add --republish to do it.",
            err=True,
        )
        raise typer.Exit(2)

    async def work(rt: Runtime) -> int:
        from core import outbox
        from services.consumers import wire

        conn = await _connect(rt)
        dsn = outbox.asyncpg_dsn(rt.database.url)
        try:
            return await consumers.replay(consumers.Runner(wire(consumer, dsn, rt.redis), dsn, rt.redis), conn)
        finally:
            await close(consumer)
            await conn.close()

    try:
        rebuilt = with_runtime(work)
    except consumers.ReplayRefused as exc:
        typer.echo(f"{name} cannot be replayed: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(f"{name}: rebuilt from {rebuilt} event(s)")


@events_app.command("run")
def run(
    names: Annotated[
        list[str] | None, typer.Argument(help="The consumers to run (default: every configured one)")
    ] = None,
) -> None:
    """Run consumers in this process until stopped (beside API replicas that set EVENT_CONSUMERS=false).
    Any number of processes may run the same consumer: they share its work, each event applied once."""
    from services import consumers

    settings = get_settings()
    chosen = [_configured(name) for name in names] if names else consumers.platform_consumers(settings)
    if not chosen:
        typer.echo("no consumers configured (NATS_URL sets up the NATS sink)", err=True)
        raise typer.Exit(2)

    async def work(rt: Runtime) -> None:
        from core import outbox
        from core.consumers import Runner
        from core.logging import configure_logging
        from services.affiliates.postbacks.consumer import NAME as POSTBACKS
        from services.affiliates.postbacks.worker import Worker

        configure_logging(settings.log_level)
        dsn = outbox.asyncpg_dsn(rt.database.url)
        typer.echo(f"running {', '.join(c.name for c in chosen)}")
        tasks = [Runner(consumer, dsn, rt.redis).run() for consumer in chosen]
        if any(c.name == POSTBACKS for c in chosen):  # its deliveries are sent where it runs
            tasks.append(Worker.from_settings(settings, dsn).run())
        await asyncio.gather(*tasks)

    with contextlib.suppress(KeyboardInterrupt):
        with_runtime(work)


async def close(consumer: AnyConsumer) -> None:
    """Let go of what the consumer holds: a sink's broker, the tournaments hook's connection."""
    closing = getattr(consumer, "close", None)
    if closing is not None:
        await closing()
