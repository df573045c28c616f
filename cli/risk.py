"""`croupier risk list add|remove|show`: the block and watch lists from the command line (as the system,
audited; services/risk/lists.py)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import typer

from cli.base import risk_list_app, with_runtime

if TYPE_CHECKING:
    from authz.subjects import Viewer
    from core.runtime import Runtime

LISTS = ("block", "watch")
KINDS = ("email", "email_domain", "ip", "device", "card_bin", "card_fingerprint", "country")


def _choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise typer.BadParameter(f"use one of {', '.join(allowed)}", param_hint=name)
    return value


async def _viewer(rt: Runtime, brand: str | None) -> Viewer:
    """The system, for every brand or for the one named."""
    from authz.subjects import SYSTEM, Viewer
    from services import brands

    if brand is None:
        return SYSTEM
    async with rt.database.session() as db:
        found = await brands.get_by_code(db, brand)
    return Viewer(kind="system", brand_id=found.id, brand_code=found.code, roles=SYSTEM.roles)


@risk_list_app.command("add")
def risk_list_add(
    list_name: Annotated[str, typer.Argument(metavar="LIST", help="block or watch")],
    kind: Annotated[str, typer.Argument(help=", ".join(KINDS))],
    value: Annotated[str, typer.Argument(help="The value (an IP entry: an address or a CIDR range)")],
    reason: Annotated[str, typer.Option(help="Why (kept in the entry and the audit log)")],
    expires: Annotated[datetime | None, typer.Option(help="When it lapses (UTC; none: until removed)")] = None,
    brand: Annotated[str | None, typer.Option(help="Only for this brand's players (default: every brand)")] = None,
) -> None:
    """Add an entry; prints its id."""
    from datetime import UTC

    from services.risk import lists

    chosen = lists.ListName(_choice(list_name, LISTS, "LIST"))
    entry_kind = lists.EntryKind(_choice(kind, KINDS, "KIND"))
    lapses = expires.replace(tzinfo=UTC) if expires is not None and expires.tzinfo is None else expires

    async def work(rt: Runtime) -> str:
        viewer = await _viewer(rt, brand)
        entry = await lists.add_entry(
            rt, viewer, list_name=chosen, kind=entry_kind, value=value, reason=reason, expires_at=lapses
        )
        return f"{entry.id} {entry.list} {entry.kind} {entry.value}"

    typer.echo(with_runtime(work))


@risk_list_app.command("remove")
def risk_list_remove(
    entry_id: Annotated[str, typer.Argument(help="The entry's id (from `show`)")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
) -> None:
    """Remove an entry (it stays in the history)."""
    from authz.subjects import SYSTEM
    from services.risk import lists

    async def work(rt: Runtime) -> str:
        entry = await lists.remove_entry(rt, SYSTEM, entry_id=uuid.UUID(entry_id), reason=reason)
        return f"removed {entry.id}"

    typer.echo(with_runtime(work))


@risk_list_app.command("show")
def risk_list_show(
    list_name: Annotated[str | None, typer.Option("--list", help="block or watch (default: both)")] = None,
    kind: Annotated[str | None, typer.Option(help="Only this kind")] = None,
    everything: Annotated[bool, typer.Option("--all", help="Removed and expired entries too")] = False,
) -> None:
    """The entries, newest first: id, list, kind, value, expiry, reason."""
    from authz.subjects import SYSTEM
    from core.pagination import paginate
    from services.risk import lists

    chosen = lists.ListName(_choice(list_name, LISTS, "--list")) if list_name else None
    entry_kind = lists.EntryKind(_choice(kind, KINDS, "--kind")) if kind else None

    async def work(rt: Runtime) -> list[str]:
        from sqlmodel import col

        from models.risk import RiskListEntry

        stmt = lists.readable_entries(SYSTEM, list_name=chosen, kind=entry_kind, active_only=not everything)
        async with rt.database.session() as db:
            page = await paginate(db, stmt, (col(RiskListEntry.added_at), col(RiskListEntry.id)), first=100)
        return [
            "\t".join(
                (
                    str(e.id),
                    e.list,
                    e.kind,
                    e.value,
                    e.expires_at.isoformat() if e.expires_at else "-",
                    "removed" if e.removed_at else "active",
                    e.reason,
                )
            )
            for e in page.items
        ]

    lines = with_runtime(work)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} entries")
