"""`croupier aml export-sar`: an AML case's goAML SAR/STR draft, validated against the FIU's schema."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import typer

from cli.base import aml_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime
    from services.aml.sar import SarExport


@aml_app.command("export-sar")
def export_sar(
    case_id: str = typer.Argument(..., help="The case's id (a UUID)"),
    mlro: str | None = typer.Option(None, "--mlro", help="The reporting MLRO's e-mail (default: who closed it)"),
    out: Path | None = typer.Option(None, "--out", help="Write the XML here (default: standard output)"),
) -> None:
    """Export an escalated case, or one closed as sar_filed, as goAML XML (audited as an export)."""
    from authz.subjects import SYSTEM
    from core.errors import DomainError
    from services.aml import sar

    try:
        case = uuid.UUID(case_id)
    except ValueError as exc:
        raise typer.BadParameter("not a case id (UUID)") from exc

    async def work(rt: Runtime) -> SarExport:
        return await sar.export_sar(rt, SYSTEM, case, mlro_email=mlro)

    try:
        done = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    if out is None:
        typer.echo(done.xml.decode(), nl=False)
    else:
        out.write_bytes(done.xml)
        typer.echo(f"wrote {done.report_code} draft to {out}")
