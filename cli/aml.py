"""Sanctions and PEP screening: the lists in use, and every player screened again after a list update."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import aml_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime
    from services.aml.rescreen import Progress


@aml_app.command("lists")
def aml_lists() -> None:
    """The configured lists: where they are read from, their version (hash) and size."""
    from core.settings import get_settings
    from services.aml.screening import current_index

    index = current_index(get_settings())
    typer.echo(f"{index.screening_list.source}: version {index.version}, {len(index.screening_list.entities)} entities")


@aml_app.command("rescreen")
def aml_rescreen(
    everyone: Annotated[bool, typer.Option("--all", help="Screen every player, also those already screened")] = False,
    batch: Annotated[int, typer.Option(help="Players per transaction", min=1, max=10_000)] = 1000,
    workers: Annotated[int, typer.Option(help="Matching processes (0: one per core)", min=0, max=64)] = 0,
) -> None:
    """Screen every player not yet screened against the current lists' version (resumable: an interrupted
    run continues where it stopped; idempotent: nothing is raised twice), showing progress."""
    import os

    import asyncpg

    from core import outbox
    from services.aml.rescreen import rescreen
    from services.aml.screening import current_index

    def show(state: Progress) -> None:
        typer.echo(
            f"{state.screened}/{state.total} players screened, {state.matches} matches, {state.raised} new alerts"
        )

    async def work(rt: Runtime) -> Progress:
        index = current_index(rt.settings)
        typer.echo(f"lists version {index.version} ({len(index.screening_list.entities)} entities)")
        conn = await asyncpg.connect(outbox.asyncpg_dsn(rt.database.url))
        try:
            count = workers or os.cpu_count() or 1
            return await rescreen(conn, index, everyone=everyone, batch=batch, workers=count, progress=show)
        finally:
            await conn.close()

    done = with_runtime(work)
    typer.echo(f"done: {done.screened} players screened, {done.raised} new alerts")
