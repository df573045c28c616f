"""Tournaments: list, create from a JSON definition, start and finish at their times (`tick`), cancel with
refunds, settle, print the published results document, and verify the standings against the rounds."""

from __future__ import annotations

import json
import sys
import uuid
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import app, run_or_refuse

if TYPE_CHECKING:
    from authz.subjects import Viewer
    from core.runtime import Runtime

tournaments_app = typer.Typer(help="Tournaments: definitions, the clock, settlement, results", no_args_is_help=True)
app.add_typer(tournaments_app, name="tournaments")


def _id(value: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        typer.echo(f"not a tournament id: {value!r}", err=True)
        raise typer.Exit(2) from exc


async def _system(rt: Runtime, brand: str | None) -> Viewer:
    from authz.subjects import SYSTEM, Viewer
    from services import brands

    if brand is None:
        return SYSTEM
    async with rt.database.session() as db:
        found = await brands.get_by_code(db, brand)
    return Viewer(kind="system", brand_id=found.id, brand_code=found.code, roles=SYSTEM.roles)


@tournaments_app.command("list")
def tournaments_list(brand: Annotated[str | None, typer.Option(help="Only this brand's")] = None) -> None:
    """Every tournament: id, state, window, scoring, entries."""
    from services.tournaments import queries

    async def work(rt: Runtime) -> list[queries.Listed]:
        viewer = await _system(rt, brand)
        async with rt.database.session() as db:
            return await queries.staff_list(db, viewer, first=100)

    for t in run_or_refuse(work):
        typer.echo(
            f"{t.tournament.id} {t.tournament.state:<9} {t.tournament.starts_at.isoformat()} → "
            f"{t.tournament.ends_at.isoformat()} {t.tournament.scoring} entries={t.entries} {t.tournament.name}"
        )


@tournaments_app.command("create")
def tournaments_create(
    definition: Annotated[Path, typer.Argument(help="A JSON file: name, currency, startsAt, endsAt, scoring, …")],
    brand: Annotated[str, typer.Option(help="The brand's code")],
) -> None:
    """Schedule a tournament from a JSON definition (docs/tournaments.md); prints its id."""
    from services.tournaments import lifecycle
    from services.tournaments.definitions import Draft, PrizeDraft

    raw = json.loads(definition.read_text())
    raw["starts_at"] = datetime.fromisoformat(raw["starts_at"])
    raw["ends_at"] = datetime.fromisoformat(raw["ends_at"])
    raw["prizes"] = [PrizeDraft(**p) for p in raw.get("prizes", [])]
    draft = Draft(**raw)

    async def work(rt: Runtime) -> uuid.UUID:
        viewer = await _system(rt, brand)
        return (await lifecycle.create(rt, viewer, draft)).id

    typer.echo(str(run_or_refuse(work)))


@tournaments_app.command("tick")
def tournaments_tick() -> None:
    """Start and finish the tournaments whose time came (the server does it every few seconds)."""
    from services.tournaments import lifecycle

    ticked = run_or_refuse(lifecycle.tick)
    typer.echo(f"started {len(ticked.started)}, finished {len(ticked.finished)}")


@tournaments_app.command("cancel")
def tournaments_cancel(
    tournament: Annotated[str, typer.Argument(help="The tournament's id")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
) -> None:
    """Cancel a tournament not yet settled: every buy-in and re-buy goes back to its player, once."""
    from services.tournaments import lifecycle

    async def work(rt: Runtime) -> str:
        from authz.subjects import SYSTEM

        return (await lifecycle.cancel(rt, SYSTEM, _id(tournament), reason)).state

    typer.echo(run_or_refuse(work))


@tournaments_app.command("settle")
def tournaments_settle(tournament: Annotated[str, typer.Argument(help="The tournament's id")]) -> None:
    """Pay the prizes of a finished tournament and publish its results hash (once; again: nothing new)."""
    from services.tournaments import settlement

    async def work(rt: Runtime) -> str:
        from authz.subjects import SYSTEM

        settled = await settlement.settle(rt, SYSTEM, _id(tournament))
        return f"{settled.state} {settled.results_hash}"

    typer.echo(run_or_refuse(work))


@tournaments_app.command("results")
def tournaments_results(tournament: Annotated[str, typer.Argument(help="The tournament's id")]) -> None:
    """Print the results document in its canonical form: `| sha256sum` gives the published hash."""
    from services.tournaments import results

    async def work(rt: Runtime) -> bytes:
        from services.tournaments.rounds import driver

        async with rt.database.session() as db:
            return results.canonical(await results.document(await driver(db), _id(tournament)))

    sys.stdout.buffer.write(run_or_refuse(work))


@tournaments_app.command("verify")
def tournaments_verify(tournament: Annotated[str, typer.Argument(help="The tournament's id")]) -> None:
    """Recompute the standings from the rounds and compare with the stored ones (and, once settled, the
    final ranks and the published hash); exit 1 on any difference."""
    from services.tournaments import results

    async def work(rt: Runtime) -> results.Verification:
        from services.tournaments.rounds import driver

        async with rt.database.session() as db:
            return await results.verify(await driver(db), _id(tournament))

    try:
        check = run_or_refuse(work)
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
    for problem in check.problems:
        typer.echo(problem)
    typer.echo(
        f"{check.entries} entries, {check.rounds} rounds; hash {check.recomputed_hash}"
        + (f" (published {check.results_hash})" if check.results_hash else "")
        + (": OK" if check.ok else f": {len(check.problems)} difference(s)")
    )
    if not check.ok:
        raise typer.Exit(1)
