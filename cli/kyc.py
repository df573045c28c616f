"""`croupier kyc`: release withdrawals waiting for KYC, record a provider's result."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import kyc_app, with_runtime

if TYPE_CHECKING:
    from core.runtime import Runtime


@kyc_app.command("release")
def kyc_release() -> None:
    """Release every withdrawal waiting for KYC whose player may now withdraw (after a crash between an
    approval's commit and its release; each is released once, whoever comes first)."""
    from services.cashier.kyc_waits import release_waiting

    released = with_runtime(release_waiting)
    typer.echo(f"{len(released)} withdrawals released")


@kyc_app.command("provider-check")
def kyc_provider_check(
    player_id: Annotated[str, typer.Argument(help="The player's id (UUID)")],
    provider: Annotated[str, typer.Option(help="The verification provider")] = "manual",
    passed: Annotated[bool, typer.Option("--passed/--failed", help="The provider's result")] = True,
    reference: Annotated[str | None, typer.Option(help="The provider's applicant or check id")] = None,
) -> None:
    """Record an identity-verification provider's result for a player (as the system; the level follows)."""
    from authz.subjects import SYSTEM
    from core.errors import DomainError
    from services.kyc import actions

    try:
        player = uuid.UUID(player_id)
    except ValueError as exc:
        raise typer.BadParameter("not a player id (UUID)") from exc

    async def work(rt: Runtime) -> str:
        state = await actions.record_provider_check(
            rt, SYSTEM, player_id=player, provider=provider, passed=passed, reference=reference
        )
        return f"level {state.level}, required {state.required_level}, {state.status}"

    try:
        typer.echo(with_runtime(work))
    except DomainError as exc:
        typer.echo(f"{exc.code}: {exc.message}", err=True)
        raise typer.Exit(1) from exc
