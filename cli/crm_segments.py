"""`croupier segments sweep`: re-evaluate CRM segments once (services/crm/segments/sweep.py; the server does
this every CRM_SEGMENT_SWEEP_SECONDS, and for players whose money moved every CRM_SEGMENT_PENDING_SECONDS: run it
from cron where no server runs)."""

from __future__ import annotations

import typer

from cli.base import app, with_runtime

segments_app = typer.Typer(help="CRM segments (docs/crm-segments.md)", no_args_is_help=True)
app.add_typer(segments_app, name="segments")


@segments_app.command("sweep")
def sweep_segments() -> None:
    """Every dynamic segment against every player of its brand now, and the players waiting for the report
    projection; prints how many joined and left."""
    from core.runtime import Runtime
    from services.crm.segments import sweep

    async def work(rt: Runtime) -> tuple[int, int, int]:
        pending = await sweep.refresh_pending(rt)
        changed = await sweep.sweep(rt)
        return pending, changed.joined, changed.left

    pending, joined, left = with_runtime(work)
    typer.echo(f"{pending} waiting player(s) re-evaluated; {joined} joined, {left} left")
