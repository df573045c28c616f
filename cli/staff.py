"""Staff accounts from the command line (the first superadmin of a new installation)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime


@app.command("create-staff")
def create_staff(
    email: str,
    display_name: Annotated[str, typer.Option("--name")],
    role: Annotated[list[str], typer.Option("--role", help="ROLE or ROLE@BRAND; repeatable")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)],
) -> None:
    """Create a staff user and print the TOTP enrolment URI (shown once)."""
    from authz.subjects import SYSTEM
    from core.errors import DomainError
    from services import staff

    pairs = [(r.partition("@")[0], r.partition("@")[2] or None) for r in role]

    async def work(rt: Runtime) -> str:
        async with rt.database.session() as db:
            grants = await staff.resolve_grants(db, pairs)
        created = await staff.create_staff(
            rt, SYSTEM, email=email, display_name=display_name, password=password, grants=grants
        )
        return created.totp_uri

    try:
        uri = with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {email}; enrol this in an authenticator app (shown once):\n{uri}")
