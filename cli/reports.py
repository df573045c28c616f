"""Reports: the projections checked against the ledger, and the reference exchange rates."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime
    from services.reports.fx import ImportResult
    from services.reports.verify import ReportVerification

reports_app = typer.Typer(help="Reports: KPIs over projections of the event stream", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
fx_app = typer.Typer(help="Reference exchange rates for the reports", no_args_is_help=True)
app.add_typer(fx_app, name="fx")


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        typer.echo(f"{option} is a day, YYYY-MM-DD (got {value!r})", err=True)
        raise typer.Exit(2) from exc


@reports_app.command("verify")
def reports_verify(
    start: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last UTC day, YYYY-MM-DD (inclusive)")],
) -> None:
    """Recompute each day's GGR, bonus cost, deposits and withdrawals per brand and currency from the
    ledger and compare them with the report projections; exit 1 on any difference."""
    from core.errors import DomainError
    from services.reports import verify

    first, last = parse_day(start, "--from"), parse_day(end, "--to")

    async def work(rt: Runtime) -> ReportVerification:
        async with rt.database.session() as db:
            return await verify.verify(db, start=first, end=last)

    try:
        result = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    for found in result.differences:
        typer.echo(
            f"{found.day} {found.brand} {found.currency} {found.figure}: {found.against} {found.ledger}, "
            f"{found.projection} {found.projected} (off by {found.projected - found.ledger})"
        )
    if result.unapplied_events or result.parked_events:
        typer.echo(
            f"note: {result.unapplied_events} event(s) of these days not yet applied by the reports consumer, "
            f"{result.parked_events} parked (croupier events retry)"
        )
    summary = "OK" if result.ok else f"{len(result.differences)} difference(s)"
    typer.echo(f"checked {result.checked} day/brand/currency rows from {first} to {last}: {summary}")
    if not result.ok:
        raise typer.Exit(1)


@fx_app.command("import")
def fx_import(
    file: Annotated[Path, typer.Argument(help="An ECB reference-rate CSV (eurofxref-hist.csv or .zip)")],
) -> None:
    """Import reference rates (units per 1 EUR) into the reports' FX table; a rate already there for a
    currency and day is replaced. Columns of currencies the platform does not know are skipped."""
    from core.errors import DomainError
    from services.reports import fx

    try:
        parsed = fx.read_rates_file(file)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from exc

    async def work(rt: Runtime) -> ImportResult:
        async with rt.database.transaction() as db:
            return await fx.import_rates(db, parsed)

    result = with_runtime(work)
    typer.echo(
        f"imported {result.rates} rates of {', '.join(result.currencies)} from {result.first_day} to {result.last_day}"
    )
    if result.skipped:
        typer.echo(f"skipped (not in the currency registry): {', '.join(result.skipped)}")
