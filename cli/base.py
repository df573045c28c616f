"""What every command shares: the Typer app and its groups, a runtime for one command, migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import typer

from core.settings import get_settings, served_base_url

if TYPE_CHECKING:
    from core.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent  # the checkout: helper processes run from here

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
aml_app = typer.Typer(
    help="Anti-money laundering: screening lists, rescreens, cases and SAR/STR exports", no_args_is_help=True
)
app.add_typer(aml_app, name="aml")
kyc_app = typer.Typer(
    help="KYC: verification levels, the withdrawals waiting for them, the document store", no_args_is_help=True
)
app.add_typer(kyc_app, name="kyc")
privacy_app = typer.Typer(
    help="Privacy: a player's data export, erasure by pseudonymisation, the retention sweep", no_args_is_help=True
)
app.add_typer(privacy_app, name="privacy")
risk_app = typer.Typer(
    help="Risk: block and watch lists, rules, the risk queue, restrictions on players", no_args_is_help=True
)
app.add_typer(risk_app, name="risk")
risk_list_app = typer.Typer(help="Block and watch lists (emails, domains, IPs, devices, cards, countries)")
risk_app.add_typer(risk_list_app, name="list", no_args_is_help=True)
risk_rules_app = typer.Typer(help="The risk rules as data: list, show, change (versioned, audited)")
risk_app.add_typer(risk_rules_app, name="rules", no_args_is_help=True)
T = TypeVar("T")


@app.callback()
def _log_as_the_server_does() -> None:
    """Every command logs as the server does (JSON lines, core/logging.py) from its first line: the
    embedded servers start before `serve` configures anything."""
    from core.logging import configure_logging

    configure_logging(get_settings().log_level)


def with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
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


def run_or_refuse(work: Callable[[Runtime], Awaitable[T]]) -> T:
    """`with_runtime`, with a service's refusal printed as `refused (<CODE>): <field>: <message>` and exit
    code 1 (a refusal made of several `problems`, as a bad game list's, prints each on its line)."""
    from core.errors import DomainError

    try:
        return with_runtime(work)
    except DomainError as refused:
        for problem in getattr(refused, "problems", None) or [refused]:
            where = f"{problem.field}: " if problem.field else ""
            typer.echo(f"refused ({problem.code.value}): {where}{problem.message}", err=True)
        raise typer.Exit(1) from refused


def use_public_base_url(host: str, port: int) -> str:
    """PUBLIC_BASE_URL defaults to the address served: unless the operator set it (environment or
    `.env`), set it for this process and every process it starts (uvicorn workers, demo helpers)."""
    if "public_base_url" not in get_settings().model_fields_set:
        os.environ["PUBLIC_BASE_URL"] = served_base_url(host, port)
        get_settings.cache_clear()
    return get_settings().public_base_url


def migrate_database() -> str:
    from core import embedded, migrations

    url = embedded.resolve_database_url(get_settings())
    migrations.upgrade(url)
    asyncio.run(install_reference_data(url))
    return url


async def install_reference_data(url: str) -> None:
    """What a database holds from the start and staff then edit: the default risk rules."""
    import asyncpg

    from core.outbox import asyncpg_dsn
    from services.risk import rules
    from services.risk.store import OnConnection

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await rules.install_defaults(OnConnection(conn))
    finally:
        await conn.close()
