"""Report exports from the command line: one now (`reports export`), or the scheduled ones due."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import with_runtime
from cli.reports import parse_day, reports_app

if TYPE_CHECKING:
    from core.runtime import Runtime
    from services.reports.exports import Export
    from services.reports.schedule import Done


@reports_app.command("export")
def reports_export(
    kind: Annotated[str, typer.Argument(help="figures, games or cashier")],
    start: Annotated[str, typer.Option("--from", help="First UTC day, YYYY-MM-DD")],
    end: Annotated[str, typer.Option("--to", help="Last UTC day, YYYY-MM-DD (inclusive)")],
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet")] = "csv",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default: its name; -: stdout)")] = None,
    brand: Annotated[str | None, typer.Option("--brand", help="One brand's code (default: every brand)")] = None,
) -> None:
    """Write a report (aggregates only) over a range of days as CSV or Parquet."""
    from core.errors import DomainError
    from services import brands
    from services.reports import exports

    first, last = parse_day(start, "--from"), parse_day(end, "--to")

    async def work(rt: Runtime) -> Export:
        async with rt.database.session() as db:
            scope = [(await brands.get_by_code(db, brand)).id] if brand else None
            return await exports.export(
                db, exports.parse_kind(kind), brands=scope, start=first, end=last, fmt=exports.parse_format(fmt)
            )

    try:
        made = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    content = made.content()
    if str(output) == "-":
        sys.stdout.buffer.write(content)
        return
    target = output or Path(made.filename)
    target.write_bytes(content)
    typer.echo(f"wrote {len(made.table.rows)} rows to {target}")


@reports_app.command("export-due")
def reports_export_due() -> None:
    """Run the scheduled exports (REPORT_EXPORTS) now: every completed day not exported yet."""
    from core.errors import DomainError
    from services.reports import schedule

    async def work(rt: Runtime) -> list[Done]:
        return await schedule.run_due(rt)

    try:
        done = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    for found in done:
        typer.echo(f"{found.schedule.kind} {found.day}: {found.rows} rows to {found.location}")
    typer.echo(f"{len(done)} export(s) done")


@reports_app.command("file-return")
def reports_file_return(
    template: Annotated[str, typer.Argument(help="A template of services/reports/returns.toml")],
    brand: Annotated[str, typer.Option("--brand", help="The brand's code")],
    period: Annotated[str, typer.Option("--period", help="2026-11 (monthly) or 2026-Q3 (quarterly)")],
    amend: Annotated[bool, typer.Option("--amend", help="File changed figures as the next revision")] = False,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Also write the filed bytes here")] = None,
) -> None:
    """File a regulatory or tax return for a finished period (the same figures give the filed revision)."""
    from authz.subjects import SYSTEM
    from core.errors import DomainError
    from services import brands
    from services.reports import returns

    async def work(rt: Runtime) -> tuple[int, str, bytes]:
        async with rt.database.transaction() as db:
            found = await brands.get_by_code(db, brand)
            filed = await returns.generate(db, SYSTEM, template, found, period, amend=amend)
            return filed.revision, filed.sha256, filed.content

    try:
        revision, digest, content = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(2) from exc
    if output is not None:
        output.write_bytes(content)
    typer.echo(f"{template} {brand} {period}: revision {revision}, sha256 {digest}")


@reports_app.command("check-returns")
def reports_check_returns() -> None:
    """Generate every filed return again and compare with the filed bytes; exit 1 if any differs."""
    from core.errors import DomainError
    from services.reports import returns

    async def work(rt: Runtime) -> list[tuple[str, bool]]:
        checked = []
        async with rt.database.session() as db:
            for row in await returns.filed(db, None, limit=10_000):
                name = f"{row.template} {row.period_start} r{row.revision}"
                try:  # a template since renamed or removed from returns.toml cannot generate it again
                    same = (await returns.regenerate(db, row.id)).same
                except DomainError as exc:
                    checked.append((f"{name}: CANNOT GENERATE AGAIN ({exc.message})", False))
                    continue
                checked.append((f"{name}: {'same' if same else 'DIFFERS (an amendment may be due)'}", same))
        return checked

    checked = with_runtime(work)
    for line, _ in checked:
        typer.echo(line)
    if not all(same for _, same in checked):
        raise typer.Exit(1)
