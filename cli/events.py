"""The event backbone: the catalogue's published schemas, consumers, replays, parked events."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from cli.base import app

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
