"""The demo: seed demo data, run the platform with the demo PSP, IDV provider and game provider, print TOTP
codes."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import ROOT, app, migrate_database, use_public_base_url, with_runtime
from cli.run import serve
from core.settings import DEFAULT_HOST, DEFAULT_PORT, get_settings

if TYPE_CHECKING:
    from core.runtime import Runtime


HostOption = Annotated[str, typer.Option(help="Interface the platform is served on")]
PortOption = Annotated[int, typer.Option(help="Port the platform is served on")]


@contextlib.contextmanager
def _demo_service(module: str, webhooks: str, env: dict[str, str], base_url_variable: str) -> Iterator[str]:
    """Run a demo service (`python -m MODULE`) on a free port, delivering its webhooks to
    PUBLIC_BASE_URL/WEBHOOKS, and point the platform at it through BASE_URL_VARIABLE; yields its base URL."""
    import os

    from core.processes import free_port, start_and_wait, stop

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_and_wait(
        [
            sys.executable,
            "-m",
            module,
            "--port",
            str(port),
            "--webhook-base",
            f"{get_settings().public_base_url}/{webhooks}",
        ],
        health_url=f"{base}/control/health",
        cwd=ROOT,
        env={**os.environ, **env},
        timeout=20,
        capture_output=False,
    )
    os.environ[base_url_variable] = base
    get_settings.cache_clear()
    try:
        yield base
    finally:
        stop(process)
        os.environ.pop(base_url_variable, None)
        get_settings.cache_clear()


@contextlib.contextmanager
def _demo_psp() -> Iterator[None]:
    """Run the demo PSP and point the platform at it (unless a PSP is set); it delivers its webhooks to
    PUBLIC_BASE_URL."""
    settings = get_settings()
    if settings.psp_base_url:
        yield
        return
    env = {"DEMO_PSP_SECRETS": json.dumps(settings.psp_secrets)}
    with _demo_service("integrations.demo.psp", "webhooks/psp", env, "PSP_BASE_URL") as base:
        typer.echo(f"demo PSP at {base} (card form: {base}/vault/form)")
        yield


@contextlib.contextmanager
def _demo_idv() -> Iterator[None]:
    """Run the demo identity-verification provider and point the platform at it (unless IDV_BASE_URL is
    set); it delivers its webhooks to PUBLIC_BASE_URL/webhooks/idv, signed with IDV_WEBHOOK_SECRET."""
    settings = get_settings()
    if settings.idv_base_url:
        yield
        return
    env = {
        "DEMO_IDV_APP_TOKEN": settings.idv_app_token,
        "DEMO_IDV_SECRET_KEY": settings.idv_secret_key,
        "DEMO_IDV_WEBHOOK_SECRET": settings.idv_webhook_secret,
    }
    with _demo_service("integrations.demo.idv", "webhooks/idv", env, "IDV_BASE_URL") as base:
        typer.echo(f"demo identity-verification provider at {base} (players start it with kycStartVerification)")
        yield


@contextlib.contextmanager
def _demo_provider() -> Iterator[str]:
    """Run the demo game provider as a subprocess on a free port (unless DEMO_PROVIDER_URL is set) and
    point the platform at its game client; its wallet calls go to PUBLIC_BASE_URL. Yields the public
    key its wallet calls verify with."""
    import os

    from core.processes import free_port, start_and_wait, stop
    from integrations.demo.provider import ensure_demo_provider_keys

    private_key, public_pem = ensure_demo_provider_keys(get_settings().data_dir)
    if get_settings().demo_provider_url:
        yield public_pem
        return
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    process = start_and_wait(
        [
            sys.executable,
            "-m",
            "integrations.demo.provider",
            "--port",
            str(port),
            "--platform-url",
            get_settings().public_base_url,
            "--private-key",
            str(private_key),
            "--control",
        ],
        health_url=f"{base}/health",
        cwd=ROOT,
        env=dict(os.environ),
        timeout=20,
        capture_output=False,
    )
    os.environ["DEMO_PROVIDER_URL"] = f"{base}/play"
    get_settings.cache_clear()
    typer.echo(f"demo game provider at {base} (game client: {base}/play?game=demo-slot&mode=demo)")
    try:
        yield public_pem
    finally:
        stop(process)
        os.environ.pop("DEMO_PROVIDER_URL", None)
        get_settings.cache_clear()


def _register_demo_provider(public_pem: str) -> None:
    """After the games seed: the `demo` provider row gets the key and the game client's current address."""
    from integrations.demo.provider.platform import register_demo_provider

    async def work(rt: Runtime) -> bool:
        async with rt.database.transaction() as db:
            return await register_demo_provider(db, public_pem, rt.settings.demo_provider_url, free_rounds=True)

    if with_runtime(work):
        typer.echo("  games: the demo provider's public key is on its row")
    else:
        typer.echo("  games: no `demo` provider row to store the demo provider's key on", err=True)


def _print_demo_credentials() -> None:
    from integrations.demo import affiliates_seed, seed

    accounts = with_runtime(seed.seed_accounts)
    for line in with_runtime(seed.seed_games):
        typer.echo(f"  games: {line}")
    for line in with_runtime(seed.seed_payments):
        typer.echo(f"  payment: {line}")
    for line in with_runtime(seed.seed_bonuses):
        typer.echo(f"  bonus: {line}")
    for line in with_runtime(seed.seed_rates):
        typer.echo(f"  reports: {line}")
    for line in with_runtime(functools.partial(affiliates_seed.seed_affiliates, password=seed.DEMO_PASSWORD)):
        typer.echo(f"  affiliates: {line}")
    from integrations.demo.affiliate_plans import seed_affiliate_plans

    for line in with_runtime(seed_affiliate_plans):
        typer.echo(f"  affiliates: {line}")
    from integrations.demo.crm_segments import seed_crm_segments

    for line in with_runtime(seed_crm_segments):
        typer.echo(f"  crm: {line}")
    from integrations.demo.crm_lobby import seed_crm_lobby

    for line in with_runtime(seed_crm_lobby):
        typer.echo(f"  crm: {line}")
    from integrations.demo.crm_channels_seed import seed_crm_templates

    for line in with_runtime(seed_crm_templates):
        typer.echo(f"  crm: {line}")
    from integrations.demo.content_seed import seed_content

    for line in with_runtime(seed_content):
        typer.echo(f"  content: {line}")
    from integrations.demo.crm_journeys import seed_journeys

    for line in with_runtime(seed_journeys):
        typer.echo(f"  journeys: {line}")
    from integrations.demo.crm_suppression import seed_crm_suppression

    for line in with_runtime(functools.partial(seed_crm_suppression, password=seed.DEMO_PASSWORD)):
        typer.echo(f"  crm suppression: {line}")
    base = get_settings().public_base_url
    typer.echo("")
    typer.echo(f"Croupier demo   back office: {base}/admin/   GraphiQL: {base}/graphql   health: {base}/readyz")
    typer.echo(f"Every demo password: {seed.DEMO_PASSWORD}")
    typer.echo("Players (brand / email):  " + ", ".join(f"{b}/{e}" for b, e, *_ in seed.PLAYERS))
    typer.echo("Staff (email, role, brand, TOTP secret; `croupier totp EMAIL` prints the current code):")
    for account in accounts:
        typer.echo(f"  {account.email:28} {account.role:13} {account.brand or 'all brands':11} {account.totp_secret}")
    typer.echo("")


@app.command("seed-demo")
def seed_demo(host: HostOption = DEFAULT_HOST, port: PortOption = DEFAULT_PORT) -> None:
    """Create demo brands, staff (one per role) and players; print their credentials.

    The URLs the seed stores and hands to the demo PSP derive from PUBLIC_BASE_URL, by default the
    address `croupier serve --host HOST --port PORT` will serve."""
    use_public_base_url(host, port)
    migrate_database()
    with _demo_psp():
        _print_demo_credentials()


@app.command()
def demo(host: HostOption = DEFAULT_HOST, port: PortOption = DEFAULT_PORT) -> None:
    """Migrate, seed the demo data, print the credentials and serve."""
    import signal

    use_public_base_url(host, port)
    migrate_database()
    # uvicorn re-raises SIGTERM once it has shut down: exit normally then, so the helpers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with _demo_psp(), _demo_idv(), _demo_provider() as provider_key:
        _print_demo_credentials()
        _register_demo_provider(provider_key)
        serve(host=host, port=port, workers=1)


@app.command()
def totp(email: str) -> None:
    """Print a staff member's current TOTP code (development and test only)."""
    from sqlmodel import col, select

    from integrations.demo.seed import current_code
    from models.staff import StaffUser

    if get_settings().is_production:
        typer.echo("not available in production", err=True)
        raise typer.Exit(2)

    async def work(rt: Runtime) -> str | None:
        async with rt.database.session() as db:
            secret: str | None = await db.scalar(
                select(col(StaffUser.totp_secret)).where(col(StaffUser.email) == email.lower())
            )
        return secret

    secret = with_runtime(work)
    if secret is None:
        typer.echo(f"no staff member {email}", err=True)
        raise typer.Exit(1)
    typer.echo(current_code(secret))
