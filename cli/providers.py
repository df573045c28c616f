"""`croupier providers`: onboard game providers and their catalog from the command line.

Each command calls the same service function as its GraphQL mutation (services/providers), acting as
the platform itself (audited as `system`). Refusals print `refused: FIELD: MESSAGE` on stderr and exit 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cli.base import app, run_or_refuse

if TYPE_CHECKING:
    from core.runtime import Runtime
    from models.games import CatalogueSyncRun
    from services.providers.imports import ImportReport
    from services.providers.registry import ProviderSummary

providers_app = typer.Typer(help="Game providers and their catalog", no_args_is_help=True)
app.add_typer(providers_app, name="providers")
T = TypeVar("T")

Reason = Annotated[str, typer.Option("--reason", help="Why (goes to the audit log)")]


def _read(path: Path, what: str) -> str:
    try:
        return sys.stdin.read() if str(path) == "-" else path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        typer.echo(f"cannot read {what} {path}: {exc}", err=True)
        raise typer.Exit(1) from exc


def _credential(provider: ProviderSummary) -> str:
    """What identifies a provider's credential (never the credential itself)."""
    shown = provider.shown
    if provider.provider.protocol == "hub88":
        return (
            f"key sha256:{shown.public_key_fingerprint} ({shown.public_key_bits} bits)"
            if shown.public_key_fingerprint
            else "no key"
        )
    ref = shown.secret_ref or f"{provider.provider.code} (by code)"
    return f"secret {ref}" + ("" if shown.secret_configured else " — NOT CONFIGURED on this server")


@providers_app.command("list")
def list_providers() -> None:
    """Every provider: code, protocol, on/off, games, and its credential's fingerprint or secret name."""
    from services.providers import registry

    found = run_or_refuse(registry.summaries)
    if not found:
        typer.echo("no providers yet: croupier providers add CODE --name NAME --protocol hub88|softswiss|pragmatic")
        return
    for item in found:
        p = item.provider
        state = "on " if p.enabled else "off"
        typer.echo(f"{p.code:<20} {p.protocol:<10} {state} {item.games:>5} games  {_credential(item)}  {p.name}")


@providers_app.command("add")
def add(
    code: str,
    name: Annotated[str, typer.Option("--name", help="The provider's name, as staff see it")],
    protocol: Annotated[str, typer.Option("--protocol", help="hub88, softswiss or pragmatic")],
    launch_url: Annotated[str | None, typer.Option("--launch-url", help="Where its game client lives")] = None,
    public_key: Annotated[
        Path | None, typer.Option("--public-key", help="Hub88: its RSA public key, a PEM file")
    ] = None,
    secret_ref: Annotated[
        str | None, typer.Option("--secret-ref", help="SoftSwiss, Pragmatic Play: a PROVIDER_SECRETS entry")
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add it switched off")] = False,
    reason: Annotated[str, typer.Option("--reason", help="Why (goes to the audit log)")] = "",
    game_list_url: Annotated[
        str | None, typer.Option("--game-list-url", help="Where its game list is pulled from (catalogue sync)")
    ] = None,
) -> None:
    """Onboard a game provider."""
    from authz.subjects import SYSTEM
    from services.providers import registry

    pem = _read(public_key, "the public key") if public_key else None

    async def work(rt: Runtime) -> Any:
        return await registry.add_provider(
            rt,
            SYSTEM,
            code=code,
            name=name,
            protocol=protocol,
            launch_url=launch_url,
            public_key_pem=pem,
            secret_ref=secret_ref,
            enabled=not disabled,
            reason=reason,
            game_list_url=game_list_url,
        )

    added = run_or_refuse(work)
    typer.echo(f"added {added.protocol} provider {added.code} ({'on' if added.enabled else 'off'})")
    if added.protocol == "hub88" and not added.public_key_pem:
        typer.echo(f"next: croupier providers set-key {added.code} PUBLIC_KEY.pem --reason '…'")


@providers_app.command("set-key")
def set_key(
    code: str,
    pem_file: Annotated[
        Path | None, typer.Argument(help="Hub88: the provider's RSA public key (PEM; - for stdin)")
    ] = None,
    secret_ref: Annotated[
        str | None, typer.Option("--secret-ref", help="SoftSwiss, Pragmatic Play: a PROVIDER_SECRETS entry")
    ] = None,
    reason: Reason = "",
) -> None:
    """Set or rotate what a provider signs with: an RSA public key (Hub88) or a secret reference (SoftSwiss)."""
    from authz.subjects import SYSTEM
    from services.providers import credentials, registry

    if (pem_file is None) == (secret_ref is None):
        typer.echo("give either a PEM file (Hub88) or --secret-ref NAME (SoftSwiss)", err=True)
        raise typer.Exit(2)
    pem = _read(pem_file, "the public key") if pem_file is not None else None

    async def work(rt: Runtime) -> Any:
        if pem is not None:
            return await registry.set_public_key(rt, SYSTEM, code, pem, reason=reason)
        assert secret_ref is not None
        return await registry.set_secret_ref(rt, SYSTEM, code, secret_ref, reason=reason)

    changed = run_or_refuse(work)
    key = credentials.describe_public_key(changed.public_key_pem) if pem is not None else None
    if key is not None:
        typer.echo(f"{changed.code} now verifies with key sha256:{key.fingerprint} ({key.bits} bits)")
    else:
        typer.echo(f"{changed.code} now signs with secret {changed.secret_ref}")


def _switch(code: str, enabled: bool, reason: str) -> None:
    from authz.subjects import SYSTEM
    from services.providers import registry

    async def work(rt: Runtime) -> Any:
        return await registry.set_enabled(rt, SYSTEM, code, enabled, reason=reason)

    changed = run_or_refuse(work)
    typer.echo(f"{changed.code} is {'on' if changed.enabled else 'off'}")


@providers_app.command("enable")
def enable(code: str, reason: Reason = "") -> None:
    """Switch a provider on: its wallet calls are served and its games are back in the lobbies."""
    _switch(code, True, reason)


@providers_app.command("disable")
def disable(code: str, reason: Reason = "") -> None:
    """Switch a provider off: its wallet calls are refused and its games leave every lobby."""
    _switch(code, False, reason)


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def print_report(report: ImportReport) -> None:
    """The difference an import made (or, dry, would make): + added, ~ changed (old → new), - missing."""
    head = "would add" if report.dry_run else "added"
    typer.echo(
        f"{report.provider}: {head} {len(report.added)}, {'would change' if report.dry_run else 'changed'} "
        f"{len(report.changed)}, unchanged {len(report.unchanged)}, missing from the list {len(report.missing)}"
        + (" (dry run: nothing written)" if report.dry_run else "")
    )
    for diff in report.added:
        fields = ", ".join(f"{c.field}={_value(c.new)}" for c in diff.changes if c.field not in ("title",))
        typer.echo(f"+ {diff.code}  {_value(diff.title)}  {fields}")
    for diff in report.changed:
        changes = "; ".join(f"{c.field}: {_value(c.old)} → {_value(c.new)}" for c in diff.changes)
        typer.echo(f"~ {diff.code}  {changes}")
    for code in report.missing:
        typer.echo(f"- {code}  (not in the list; kept as it is)")


@providers_app.command("import-games")
def import_games(
    provider: str,
    file: Annotated[Path, typer.Argument(help="The game list: Hub88's /game/list answer, a JSON array (- for stdin)")],
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the difference; write nothing")] = False,
    currency: Annotated[
        list[str] | None, typer.Option("--currency", help="A currency new games are offered in; repeatable")
    ] = None,
    reason: Annotated[str, typer.Option("--reason", help="Why (goes to the audit log)")] = "",
) -> None:
    """Upsert a provider's games from its game list, by game code (idempotent)."""
    from authz.subjects import SYSTEM
    from services.providers import imports

    text = _read(file, "the game list")
    try:
        data = json.loads(text)
    except ValueError as exc:
        typer.echo(f"refused: {file} is not JSON: {exc}", err=True)
        raise typer.Exit(1) from exc

    async def work(rt: Runtime) -> ImportReport:
        return await imports.import_games(
            rt, SYSTEM, provider, data, currencies=currency or [], dry_run=dry_run, reason=reason
        )

    print_report(run_or_refuse(work))


@providers_app.command("set-game-list")
def set_game_list(
    code: str,
    url: Annotated[str, typer.Argument(help='The provider\'s game-list URL (http or https); "" removes it')],
    reason: Reason = "",
) -> None:
    """Set where a provider's game list is pulled from by the scheduled catalogue sync."""
    from authz.subjects import SYSTEM
    from services.providers import registry

    async def work(rt: Runtime) -> Any:
        return await registry.update_provider(rt, SYSTEM, code, game_list_url=url, reason=reason)

    changed = run_or_refuse(work)
    typer.echo(f"{changed.code} game list: {changed.game_list_url or 'none (not synced)'}")


def print_run(run: CatalogueSyncRun) -> None:
    """One sync run: its counts, then + added, ~ changed, - withdrawn, ↺ restored (or why it failed)."""
    if run.status == "failed":
        typer.echo(f"{run.provider_code}: FAILED: {run.error}")
        return
    typer.echo(
        f"{run.provider_code}: added {run.added}, changed {run.changed}, withdrawn {run.withdrawn}, "
        f"restored {run.restored}, unchanged {run.unchanged}"
    )
    for mark, kind in (("+", "added"), ("~", "changed"), ("-", "withdrawn"), ("↺", "restored")):
        for diff in run.report.get(kind, []):
            fields = ", ".join(sorted(c["field"] for c in diff["changes"]))
            typer.echo(f"{mark} {diff['code']}  {_value(diff['title'])}  {fields}")


@providers_app.command("sync")
def sync(
    code: Annotated[
        str | None, typer.Argument(help="One provider's code; none: every provider with a game list")
    ] = None,
) -> None:
    """Pull game lists into the catalogue now (what the server's schedule does): new, changed and withdrawn
    games are reported; exit 1 when a provider's sync failed (the others are still synced)."""
    from authz.subjects import SYSTEM
    from services.providers import catalogue_sync

    async def work(rt: Runtime) -> list[CatalogueSyncRun]:
        if code is None:
            return await catalogue_sync.sync_all(rt, SYSTEM, trigger="cli")
        one = await catalogue_sync.sync_provider(rt, SYSTEM, code, trigger="cli")
        return [one] if one is not None else []

    runs = run_or_refuse(work)
    if not runs:
        typer.echo("no provider has a game-list URL: croupier providers set-game-list CODE URL")
    for run in runs:
        print_run(run)
    if any(run.status == "failed" for run in runs):
        raise typer.Exit(1)
