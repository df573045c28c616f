"""`croupier payments routing ...`: the cashier's routing versions (rules, PSP terms, payment limits, BIN rules)
from the command line, through the services GraphQL calls (services/cashier/routing_admin.py,
routing_config.py): `list` the versions, `show` one, `preview` a payment's route, `export` a version as JSON and
`import` one as the next version (as a staff member of the routing desk, audited as theirs)."""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli.base import payments_app, run_or_refuse

if TYPE_CHECKING:
    from authz.subjects import Viewer
    from core.runtime import Runtime
    from services.cashier.routing_config import RoutingConfig

routing_app = typer.Typer(help="Payment routing: versions, preview, export and import", no_args_is_help=True)
payments_app.add_typer(routing_app, name="routing")

HISTORY_LIMIT = 100
# The GraphQL mutation whose Casbin permission an import needs (the routing desk's, as in the back office).
IMPORT_PERMISSION = "Mutation.restoreRoutingVersion"


async def _version(rt: Runtime, version: int | None) -> RoutingConfig:
    from core.errors import NotFound
    from services.cashier import routing_config

    async with rt.database.session() as db:
        found = await routing_config.live(db) if version is None else await routing_config.at_version(db, version)
    if found is None:
        raise NotFound(f"No routing version {version}.", field="version")
    return found


def _described(config: RoutingConfig, live: int) -> dict[str, Any]:
    return {
        "version": config.version,
        "live": config.version == live,
        "change": config.change,
        "reason": config.reason,
        "created_by": str(config.created_by) if config.created_by else None,
        "created_at": config.created_at.isoformat() if config.created_at else None,
        "document": config.document(),
    }


@routing_app.command("list")
def routing_list(
    first: Annotated[int, typer.Option(help=f"How many, newest first (at most {HISTORY_LIMIT})")] = 20,
) -> None:
    """The stored versions, newest first: version, when, the change, `live` on the live one (version 0, the
    built-in rules, while none is stored)."""
    from services.cashier import routing_config

    async def work(rt: Runtime) -> list[RoutingConfig]:
        async with rt.database.session() as db:
            return await routing_config.history(db, limit=max(1, min(first, HISTORY_LIMIT)))

    versions = run_or_refuse(work)
    if not versions:
        typer.echo("0\t-\tbuilt-in rules\tlive")
        return
    for config in versions:
        when = config.created_at.isoformat(timespec="seconds") if config.created_at else "-"
        live = "\tlive" if config is versions[0] else ""
        typer.echo(f"{config.version}\t{when}\t{config.change}{live}")


@routing_app.command("show")
def routing_show(
    version: Annotated[int | None, typer.Argument(help="The version (default: the live one; 0: the built-in)")] = None,
) -> None:
    """One version as JSON: who stored it, when, why, and its document (rules, PSP terms, limits, BIN rules)."""

    async def work(rt: Runtime) -> dict[str, Any]:
        live = await _version(rt, None)
        return _described(live if version is None else await _version(rt, version), live.version)

    typer.echo(json.dumps(run_or_refuse(work), indent=2))


@routing_app.command("preview")
def routing_preview(
    country: Annotated[str, typer.Option(help="The player's country (ISO 3166-1 alpha-2)")],
    currency: Annotated[str, typer.Option(help="The payment's currency")],
    method: Annotated[str, typer.Option(help="card, ewallet, bank_transfer, crypto")],
    amount: Annotated[str, typer.Option(help="The amount, in the currency (e.g. 50.00)")],
    kind: Annotated[str, typer.Option(help="deposit or withdrawal")] = "deposit",
    card_bin: Annotated[str | None, typer.Option(help="The card's BIN (the BIN rules give its country)")] = None,
    bin_country: Annotated[str | None, typer.Option(help="Or the card's issuing country itself")] = None,
    risk_score: Annotated[int | None, typer.Option(help="The player's risk score, 0-100")] = None,
    at: Annotated[datetime | None, typer.Option(help="When (UTC; the hour of day matters); default now")] = None,
    version: Annotated[int | None, typer.Option(help="A stored version (default: the live one)")] = None,
) -> None:
    """Which PSPs a payment with these facts would be tried at, in order, with their fees, and why: the rule that
    decided, how each rule saw it, and what the BIN rules say of the card (the back office's preview)."""
    from core.errors import DomainError
    from core.money import currency as currency_info
    from core.money import parse_amount
    from models.payments import PaymentKind, PaymentMethod
    from services.cashier import routing_admin

    async def work(rt: Runtime) -> dict[str, Any]:
        if kind.lower() not in {k.value for k in PaymentKind}:
            raise DomainError("A kind: deposit or withdrawal.", field="kind")
        if method.lower() not in {m.value for m in PaymentMethod}:
            raise DomainError(f"A method: {', '.join(m.value for m in PaymentMethod)}.", field="method")
        code = currency_info(currency).code
        found = await routing_admin.preview(
            rt,
            kind=kind.lower(),
            method=method.lower(),
            country=country,
            currency=code,
            amount=parse_amount(amount, code),
            card_bin=card_bin,
            bin_country=bin_country.upper() if bin_country else None,
            risk_score=risk_score,
            at=at,
            version=version,
        )
        explained = found.explanation
        return {
            "version": found.version,
            "psps": [{"psp": p, "fee": str(found.fees[p])} for p in explained.psps],
            "decided_by": explained.decided_by.handle if explained.decided_by else None,
            "bin_country": found.query.bin_country,
            "card_blocked_by": found.bin_blocked_by.name if found.bin_blocked_by else None,
            "card_unknown_by": found.bin_unknown_by.name if found.bin_unknown_by else None,
            "card_unknown_outcome": found.bin_unknown_outcome.value if found.bin_unknown_outcome else None,
            "looks": [
                {
                    "rule": look.rule.handle,
                    "matched": look.mismatch is None,
                    "mismatch": look.mismatch,
                    "chosen": list(look.chosen),
                    "dropped": [f"{psp}: {why}" for psp, why in look.dropped],
                }
                for look in explained.looks
            ],
        }

    typer.echo(json.dumps(run_or_refuse(work), indent=2))


@routing_app.command("export")
def routing_export(
    version: Annotated[int | None, typer.Option(help="The version (default: the live one)")] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write it here (default: stdout)")] = None,
) -> None:
    """A version's document as JSON, as `import` reads it."""

    async def work(rt: Runtime) -> dict[str, Any]:
        return (await _version(rt, version)).document()

    text = json.dumps(run_or_refuse(work), indent=2, sort_keys=True) + "\n"
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text)
        typer.echo(f"wrote {output}", err=True)


async def _routing_desk(rt: Runtime, email: str) -> Viewer:
    """The staff member importing, with their roles: refused (NOT_ALLOWED) unless the routing desk's permission
    (Casbin, as the back office's) is theirs; the routing service itself requires staff of every brand."""
    from sqlmodel import col, select

    from authz.policy import ALL_BRANDS, Authorizer
    from authz.subjects import Viewer
    from core.errors import DomainError, ErrorCode, NotFound
    from models.staff import StaffUser
    from services import staff

    async with rt.database.session() as db:
        found = await db.scalar(select(StaffUser).where(col(StaffUser.email) == email.strip().lower()))
    scope = await staff.scope_for_request(rt, found.id, None) if found is not None else None
    if found is None or scope is None:
        raise NotFound(f"No active staff member {email!r}.", field="staff")
    authorizer = Authorizer([IMPORT_PERMISSION])
    if not any(authorizer.enforce(role, ALL_BRANDS, IMPORT_PERMISSION) for role in scope.roles):
        raise DomainError("Only the routing desk (finance) changes routing.", code=ErrorCode.NOT_ALLOWED, field="staff")
    return Viewer(kind="staff", id=found.id, brand_id=scope.brand_id, brand_code=scope.brand_code, roles=scope.roles)


@routing_app.command("import")
def routing_import(
    source: Annotated[Path, typer.Argument(help="The JSON document (as export writes it); - for stdin")],
    reason: Annotated[str, typer.Option(help="Why (kept with the version and in the audit log)")],
    staff_email: Annotated[str, typer.Option("--staff", help="The routing desk member importing (their e-mail)")],
    base_version: Annotated[
        int | None, typer.Option(help="Refused if the live version is another (made on that one)")
    ] = None,
) -> None:
    """Make a document the next version (every entry checked as in the back office; audited, announced with
    `payment_routing.changed`); a document equal to the live one stores nothing. Prints the live version."""
    from core.errors import DomainError
    from services.cashier import routing_admin

    try:
        document = json.loads(sys.stdin.read() if str(source) == "-" else source.read_text())
    except (OSError, ValueError) as exc:
        typer.echo(f"refused (INVALID_INPUT): document: cannot read a JSON document ({exc})", err=True)
        raise typer.Exit(1) from None

    async def work(rt: Runtime) -> int:
        viewer = await _routing_desk(rt, staff_email)
        if not isinstance(document, dict):
            raise DomainError("A routing document is a JSON object.", field="document")
        edit = routing_admin.imported(document)
        config = await routing_admin.publish(rt, viewer, edit, reason=reason, base_version=base_version)
        return config.version

    typer.echo(f"live version {run_or_refuse(work)}")
