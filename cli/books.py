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
def ledger_verify() -> None:
    """Recompute every ledger invariant over the whole ledger; exit 1 on any discrepancy."""
    from services import ledger

    async def work(rt: Runtime) -> ledger.Verification:
        async with rt.database.session() as db:
            return await ledger.verify(db)

    result = with_runtime(work)
    for found in result.discrepancies:
        typer.echo(f"{found.check}: {found.subject} ({found.detail})")
    summary = "OK" if result.ok else f"{len(result.discrepancies)} discrepancies"
    typer.echo(f"checked {result.transactions} transactions, {result.postings} postings: {summary}")
    if not result.ok:
        raise typer.Exit(1)
