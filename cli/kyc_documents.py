"""`croupier kyc`: the KYC document store's maintenance — key rotation, orphan sweep, expiries, new keys."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import kyc_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime


@kyc_app.command("rotate-keys")
def rotate_keys(
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Documents per database page")] = 100,
) -> None:
    """Re-encrypt every document to the active key of KYC_DOCUMENT_KEYS (resumable: run it again after a stop;
    a second run finds nothing to do). Drop an old key from the ring only once this reports 0 left."""
    from services.kyc.documents_rotation import RotationReport, rotate

    def show(report: RotationReport) -> None:
        done = report.rotated + len(report.failed)
        if done % 50 == 0 or done == report.to_rotate:
            typer.echo(f"  {done}/{report.to_rotate} ({report.rotated} rotated, {len(report.failed)} failed)")

    async def work(rt: Runtime) -> RotationReport:
        return await rotate(rt, batch=batch, progress=show)

    report = with_runtime(work)
    typer.echo(
        f"active key {report.active_key}: {report.rotated} document(s) re-encrypted, {len(report.failed)} failed, "
        f"{report.to_rotate - report.rotated} left"
    )
    for failure in report.failed:
        typer.echo(f"  failed: {failure}")
    if report.failed:
        raise typer.Exit(1)


@kyc_app.command("sweep")
def sweep(
    older_than_minutes: Annotated[int, typer.Option(min=1, help="Only objects at least this old")] = 60,
    dry_run: Annotated[bool, typer.Option(help="List what would be deleted")] = False,
) -> None:
    """Delete stored objects that no document names (left by a crash mid-upload or mid-rotation)."""
    from datetime import timedelta

    from services.kyc.documents_vault import SweepReport
    from services.kyc.documents_vault import sweep as sweep_store

    async def work(rt: Runtime) -> SweepReport:
        return await sweep_store(rt, older_than=timedelta(minutes=older_than_minutes), dry_run=dry_run)

    report = with_runtime(work)
    for name in report.deleted:
        typer.echo(f"  {'would delete' if dry_run else 'deleted'} {name}")
    typer.echo(f"{report.checked} object(s) checked, {len(report.deleted)} orphan(s)")


@kyc_app.command("expire-documents")
def expire_documents() -> None:
    """Mark approved documents past their expiry as expired (the server does it every hour)."""
    from services.kyc.documents_expiry import expire_due

    typer.echo(f"{with_runtime(expire_due)} document(s) expired")


@kyc_app.command("new-key")
def new_key() -> None:
    """Print a fresh key (base64 of 32 random bytes) for KYC_DOCUMENT_KEYS."""
    from core.storage.sealing import new_key as make

    typer.echo(make())
