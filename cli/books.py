"""Check the books: the audit hash chain and the ledger's invariants."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from cli.base import audit_app, ledger_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if any record was edited, removed or reordered."""
    from services import audit

    async def work(rt: Runtime) -> audit.AuditVerification:
        async with rt.database.session() as db:
            return await audit.verify(db)

    result = with_runtime(work)
    for problem in result.problems:
        typer.echo(f"record {problem.seq}: {problem.problem}")
    typer.echo(f"checked {result.checked} records: {'OK' if result.ok else f'{len(result.problems)} problem(s)'}")
    typer.echo(
        f"head: record {result.head_seq} hash {result.head_hash} (keep it outside the database: "
        "an earlier head that is no longer in the chain means records were removed)"
    )
    if not result.ok:
        raise typer.Exit(1)


@ledger_app.command("verify")
def ledger_verify(
    incremental: bool = typer.Option(
        False,
        "--incremental",
        help="Check only what is new since the last clean run's checkpoint (in full when there is none yet).",
    ),
) -> None:
    """Recompute every ledger invariant (over the whole ledger, or --incremental from the last checkpoint);
    exit 1 on any discrepancy. A clean run records a checkpoint for the next --incremental one."""
    from services import ledger_verify

    async def work(rt: Runtime) -> ledger_verify.Verification:
        return await ledger_verify.verify_books(rt.database, full=not incremental)

    result = with_runtime(work)
    for found in result.discrepancies:
        typer.echo(f"{found.check}: {found.subject} ({found.detail})")
    summary = "OK" if result.ok else f"{len(result.discrepancies)} discrepancies"
    if result.mode == "incremental":
        scope = f"incremental from posting {result.from_posting_id}: checked {result.transactions} new transactions"
    else:
        scope = f"full: checked {result.transactions} transactions"
    if result.note:
        typer.echo(result.note)
    if result.checkpoint_written:
        typer.echo(f"checkpoint written: every posting up to id {result.to_posting_id} is checked")
    typer.echo(f"{scope}, {result.postings} postings in {result.seconds:.1f} s: {summary}")
    if not result.ok:
        raise typer.Exit(1)
