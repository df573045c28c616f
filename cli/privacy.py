"""`croupier privacy`: a player's data export, their erasure, and the retention sweep (services/privacy).

The commands act as the platform (audited as "system"); `<player>` is the player's id or e-mail.
"""

from __future__ import annotations

import json
import uuid
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.base import privacy_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime


async def _player_id(rt: Runtime, player: str) -> uuid.UUID:
    from sqlmodel import col, select

    from models.players import Player

    try:
        return uuid.UUID(player)
    except ValueError:
        pass
    async with rt.database.session() as db:
        found = (await db.execute(select(col(Player.id)).where(col(Player.email) == player.lower()))).scalars().all()
    if len(found) != 1:
        raise typer.BadParameter(f"{len(found)} players have the e-mail {player}: give the player's id")
    return found[0]


def _fail(exc: Exception) -> typer.Exit:
    from core.errors import DomainError

    if isinstance(exc, DomainError):
        from services.privacy.erasure import ErasureBlocked

        for blocker in exc.blockers if isinstance(exc, ErasureBlocked) else []:
            typer.echo(f"{blocker.code}: {blocker.reason}", err=True)
        if not isinstance(exc, ErasureBlocked):
            typer.echo(f"{exc.code}: {exc.message}", err=True)
        return typer.Exit(1)
    raise exc


@privacy_app.command("export")
def export(
    player: Annotated[str, typer.Argument(help="The player's id or e-mail")],
    out: Annotated[Path | None, typer.Option("--out", help="Write here (default: standard output)")] = None,
    documents: Annotated[
        bool, typer.Option("--documents", help="A zip: export.json and the decrypted KYC files (needs --out)")
    ] = False,
) -> None:
    """Everything held about the player, as versioned JSON (one consistent read; audited)."""
    from authz.subjects import SYSTEM
    from core.errors import DomainError
    from services.kyc.documents_reading import read
    from services.privacy.export import export as export_player

    if documents and out is None:
        raise typer.BadParameter("--documents writes a zip: give --out")

    async def work(rt: Runtime) -> tuple[dict[str, Any], list[tuple[str, bytes]]]:
        document = await export_player(rt, SYSTEM, await _player_id(rt, player))
        files = []
        if documents:
            for row in document["categories"]["kyc"]["kyc_documents"]:
                content = await read(rt, SYSTEM, uuid.UUID(row["id"]))
                files.append((f"documents/{row['id']}-{row['kind']}", content.data))
        return document, files

    try:
        document, files = with_runtime(work)
    except DomainError as exc:
        raise _fail(exc) from exc
    text = json.dumps(document, indent=2, ensure_ascii=False, sort_keys=True)
    if out is None:
        typer.echo(text)
    elif documents:
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("export.json", text)
            for name, data in files:
                archive.writestr(name, data)
        typer.echo(f"wrote the export and {len(files)} document(s) to {out}")
    else:
        out.write_text(text)
        typer.echo(f"wrote the export of {document['player_id']} to {out}")


@privacy_app.command("erase")
def erase(
    player: Annotated[str, typer.Argument(help="The player's id or e-mail")],
    reason: Annotated[str, typer.Option("--reason", help="Why (the request's reference): audited")],
) -> None:
    """Pseudonymise the player now; hold what retention requires (refused while AML, money or payments
    hold them: each blocker is printed with its code, exit 1)."""
    from authz.subjects import SYSTEM
    from core.errors import DomainError
    from services.privacy.erasure import Erasure
    from services.privacy.erasure import erase as erase_player

    async def work(rt: Runtime) -> Erasure:
        return await erase_player(rt, SYSTEM, await _player_id(rt, player), reason)

    try:
        done = with_runtime(work)
    except DomainError as exc:
        raise _fail(exc) from exc
    state = "already erased" if done.already else "erased"
    typer.echo(f"{done.player_id} {state} as {done.pseudonym}; erased now: {', '.join(done.erased_now) or '-'}")
    for hold in done.held:
        typer.echo(f"  held {hold.category} until {hold.retained_until.date().isoformat()}: {hold.basis}")


@privacy_app.command("sweep")
def sweep() -> None:
    """Erase the held categories whose retention period has ended (idempotent: run it daily)."""
    from services.privacy.erasure import sweep as sweep_holds

    report = with_runtime(sweep_holds)
    for player_id, category in report.released:
        typer.echo(f"  erased {category} of {player_id}")
    typer.echo(f"{len(report.released)} held categor{'y' if len(report.released) == 1 else 'ies'} erased")
