"""`croupier`: serve, migrate, seed demo data, manage staff, verify the audit chain, rotate keys."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from core.settings import get_settings

if TYPE_CHECKING:
    from core.runtime import Runtime

app = typer.Typer(help="Croupier iGaming platform", no_args_is_help=True, add_completion=False)
audit_app = typer.Typer(help="The audit log", no_args_is_help=True)
ledger_app = typer.Typer(help="The money ledger", no_args_is_help=True)
keys_app = typer.Typer(help="JWT signing keys", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(ledger_app, name="ledger")
app.add_typer(keys_app, name="keys")
payments_app = typer.Typer(help="Payments (the cashier)", no_args_is_help=True)
app.add_typer(payments_app, name="payments")
rg_app = typer.Typer(help="Responsible gambling", no_args_is_help=True)
app.add_typer(rg_app, name="rg")
bonuses_app = typer.Typer(help="Bonuses", no_args_is_help=True)
app.add_typer(bonuses_app, name="bonuses")
T = TypeVar("T")


def _with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """Run `work(rt)` against the configured (or embedded) database and Redis."""
    from core import embedded
    from core.logging import configure_logging
    from core.redis import create_redis
    from core.runtime import Runtime

    settings = get_settings()
    configure_logging("WARNING")

    async def main() -> T:
        rt = Runtime.build(
            settings, embedded.resolve_database_url(settings), create_redis(embedded.resolve_redis_url(settings))
        )
        try:
            return await work(rt)
        finally:
            await rt.close()

    return asyncio.run(main())


def _migrate() -> str:
    from core import embedded, migrations

    url = embedded.resolve_database_url(get_settings())
    migrations.upgrade(url)
    return url


@app.command()
def migrate() -> None:
    """Apply pending database migrations."""
    _migrate()
    typer.echo("database is at the latest revision")


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port")] = 8000,
    workers: Annotated[int, typer.Option(help="Worker processes (needs DATABASE_URL and REDIS_URL)")] = 1,
) -> None:
    """Serve the API (GraphQL at /graphql, GraphiQL in development)."""
    import uvicorn

    settings = get_settings()
    if workers > 1 and not (settings.database_url and settings.redis_url):
        typer.echo("several workers need a shared DATABASE_URL and REDIS_URL", err=True)
        raise typer.Exit(2)
    uvicorn.run(
        "server:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=False,
        log_config=None,
        ws="websockets-sansio",
    )


@contextlib.contextmanager
def _demo_psp(platform_base: str) -> Iterator[None]:
    """Run the demo PSP as a subprocess on a free port and point the platform at it (unless a PSP is set)."""
    import os

    from core.processes import free_port, start_and_wait, stop

    if get_settings().psp_base_url:
        yield
        return
    port = free_port()
    secrets = json.dumps(get_settings().psp_secrets)
    base = f"http://127.0.0.1:{port}"
    process = start_and_wait(
        [
            sys.executable,
            "-m",
            "integrations.demo.psp",
            "--port",
            str(port),
            "--webhook-base",
            f"{platform_base}/webhooks/psp",
        ],
        health_url=f"{base}/control/health",
        cwd=Path(__file__).resolve().parent,
        env={**os.environ, "DEMO_PSP_SECRETS": secrets},
        timeout=20,
        capture_output=False,
    )
    os.environ["PSP_BASE_URL"] = base
    os.environ.setdefault("PUBLIC_BASE_URL", platform_base)
    get_settings.cache_clear()
    typer.echo(f"demo PSP at {base} (card form: {base}/vault/form)")
    try:
        yield
    finally:
        stop(process)
        os.environ.pop("PSP_BASE_URL", None)
        get_settings.cache_clear()


@contextlib.contextmanager
def _demo_provider(platform_base: str) -> Iterator[str]:
    """Run the demo game provider as a subprocess on a free port (unless DEMO_PROVIDER_URL is set) and
    point the platform at its game client; yields the public key its wallet calls verify with."""
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
            platform_base,
            "--private-key",
            str(private_key),
            "--control",
        ],
        health_url=f"{base}/health",
        cwd=Path(__file__).resolve().parent,
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
            return await register_demo_provider(db, public_pem, rt.settings.demo_provider_url)

    if _with_runtime(work):
        typer.echo("  games: the demo provider's public key is on its row")
    else:
        typer.echo("  games: no `demo` provider row to store the demo provider's key on", err=True)


def _print_demo_credentials(host: str, port: int) -> None:
    from integrations.demo import seed

    accounts = _with_runtime(seed.seed_accounts)
    for line in _with_runtime(seed.seed_games):
        typer.echo(f"  games: {line}")
    for line in _with_runtime(seed.seed_payments):
        typer.echo(f"  payment: {line}")
    for line in _with_runtime(seed.seed_bonuses):
        typer.echo(f"  bonus: {line}")
    base = f"http://{host}:{port}"
    typer.echo("")
    typer.echo(f"Croupier demo   back office: {base}/admin/   GraphiQL: {base}/graphql   health: {base}/readyz")
    typer.echo(f"Every demo password: {seed.DEMO_PASSWORD}")
    typer.echo("Players (brand / email):  " + ", ".join(f"{b}/{e}" for b, e, *_ in seed.PLAYERS))
    typer.echo("Staff (email, role, brand, TOTP secret; `croupier totp EMAIL` prints the current code):")
    for account in accounts:
        typer.echo(f"  {account.email:28} {account.role:13} {account.brand or 'all brands':11} {account.totp_secret}")
    typer.echo("")


@app.command("seed-demo")
def seed_demo() -> None:
    """Create demo brands, staff (one per role) and players; print their credentials."""
    _migrate()
    with _demo_psp("http://127.0.0.1:8000"):
        _print_demo_credentials("127.0.0.1", 8000)


@app.command()
def demo(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8000,
) -> None:
    """Migrate, seed the demo data, print the credentials and serve."""
    import signal

    _migrate()
    # uvicorn re-raises SIGTERM once it has shut down: exit normally then, so the helpers are stopped.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    platform_base = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}"  # noqa: S104
    with _demo_psp(f"http://{host}:{port}"), _demo_provider(platform_base) as provider_key:
        _print_demo_credentials(host, port)
        _register_demo_provider(provider_key)
        serve(host=host, port=port, workers=1)


@payments_app.command("reconcile")
def payments_reconcile(
    older_than: Annotated[int | None, typer.Option(help="Only payments untouched for this many seconds")] = None,
) -> None:
    """Poll the PSPs about payments left open (a crash, a lost webhook) and apply their answers."""
    from services import cashier

    async def work(rt: Runtime) -> cashier.ReconcileReport:
        return await cashier.reconcile(rt, older_than_seconds=older_than)

    report = _with_runtime(work)
    typer.echo(
        f"checked {report.checked} open attempts: {report.repaired} repaired, "
        f"{report.failed_unsent} never sent (failed), {report.payouts_started} payouts started"
    )
    for error in report.errors:
        typer.echo(f"  unreachable: {error}")
    if report.errors:
        raise typer.Exit(1)


@rg_app.command("scan")
def rg_scan() -> None:
    """Scan once for risk patterns (long sessions, rising deposits, night play, cancelled withdrawals)."""
    from services.rg import flags

    typer.echo(f"{_with_runtime(flags.scan)} new flags in the RG queue")


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

    secret = _with_runtime(work)
    if secret is None:
        typer.echo(f"no staff member {email}", err=True)
        raise typer.Exit(1)
    typer.echo(current_code(secret))


@bonuses_app.command("expire")
def bonuses_expire() -> None:
    """Expire bonuses past their date and convert those whose wagering is met (the server's worker does
    this every minute; run it from cron where no server runs)."""
    from services.bonuses.lifecycle import expire_due

    changed = _with_runtime(expire_due)
    typer.echo(f"{changed} bonus(es) expired or converted")


@bonuses_app.command("cashback")
def bonuses_cashback(
    campaign: Annotated[str, typer.Argument(help="The cashback campaign: its id (uuid) or GraphQL global id")],
    period_end: Annotated[
        str | None,
        typer.Option(help="Pay the last period closed by the start of this day (YYYY-MM-DD, UTC; default: today)"),
    ] = None,
) -> None:
    """Pay a cashback campaign's last closed period (for cron; each player is paid once per period, so a
    second run, or one racing the server's worker, pays nobody twice)."""
    import base64
    import binascii
    from datetime import date

    from core.errors import DomainError
    from core.ids import parse_uuid
    from core.money import format_amount
    from services.bonuses import cashback

    campaign_id = parse_uuid(campaign)
    if campaign_id is None:
        with contextlib.suppress(binascii.Error, UnicodeDecodeError, ValueError):
            kind, _, raw = base64.b64decode(campaign, validate=True).decode().partition(":")
            campaign_id = parse_uuid(raw) if kind == "BonusCampaign" else None
    if campaign_id is None:
        typer.echo(f"not a campaign id: {campaign}", err=True)
        raise typer.Exit(2)
    try:
        end = date.fromisoformat(period_end) if period_end else None
    except ValueError as exc:
        typer.echo("--period-end is a day, YYYY-MM-DD", err=True)
        raise typer.Exit(2) from exc

    async def work(rt: Runtime) -> cashback.CashbackRun:
        return await cashback.pay_cashback(rt, campaign_id, period_end=end)

    try:
        run = _with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    paid = ", ".join(f"{format_amount(amount, currency)} {currency}" for currency, amount in sorted(run.paid.items()))
    typer.echo(
        f"period {run.period.key}: {run.players_paid} player(s) paid ({paid or 'nothing'}; "
        f"{run.as_bonus} as a bonus), {run.already_paid} already paid, {run.below_minimum} below the minimum, "
        f"{run.not_eligible} not eligible"
    )


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
        uri = _with_runtime(work)
    except DomainError as exc:
        typer.echo(f"refused: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"created {email}; enrol this in an authenticator app (shown once):\n{uri}")


@audit_app.command("verify")
def audit_verify() -> None:
    """Recompute the audit hash chain; exit 1 if any record was edited, removed or reordered."""
    from services import audit

    async def work(rt: Runtime) -> audit.AuditVerification:
        async with rt.database.session() as db:
            return await audit.verify(db)

    result = _with_runtime(work)
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

    result = _with_runtime(work)
    for found in result.discrepancies:
        typer.echo(f"{found.check}: {found.subject} ({found.detail})")
    summary = "OK" if result.ok else f"{len(result.discrepancies)} discrepancies"
    typer.echo(f"checked {result.transactions} transactions, {result.postings} postings: {summary}")
    if not result.ok:
        raise typer.Exit(1)


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Add a new signing key; it signs from now on, and older keys keep verifying."""
    from authz.jwt import generate_key

    folder: Path = get_settings().key_dir
    kid = generate_key(folder)
    typer.echo(f"new signing key {kid} in {folder}; delete older keys after one access-token lifetime")


@app.command("export-schema")
def export_schema(path: Annotated[Path, typer.Argument()] = Path("schema.graphql")) -> None:
    """Write the GraphQL SDL (checked in; a test fails when it drifts)."""
    from schema.root import build_schema

    sdl = build_schema(get_settings()).as_str() + "\n"
    if str(path) == "-":
        sys.stdout.write(sdl)
    else:
        path.write_text(sdl)
        typer.echo(f"wrote {path}")


if __name__ == "__main__":
    app()
