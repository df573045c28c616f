"""`croupier risk ...` from the command line, as the system (audited as such): the block and watch lists
(`list add|remove|show`, services/risk/lists.py), the rules (`rules list|show|set`, rule_admin.py), the risk
queue (`queue`, `review`: queue.py, review.py) and restrictions on players (`impose`, `lift`: review.py)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from cli.base import risk_app, risk_list_app, risk_rules_app, run_or_refuse, with_runtime

if TYPE_CHECKING:
    from authz.subjects import Viewer
    from core.runtime import Runtime
    from models.risk import RiskRule

T = TypeVar("T")

LISTS = ("block", "watch")
KINDS = ("email", "email_domain", "ip", "device", "card_bin", "card_fingerprint", "country")
# What staff impose (services/risk/review.py: not flag_review nor hold_deposit, the rules' own).
STAFF_KINDS = ("require_kyc_level", "block_bonuses", "route_3ds", "route_psps", "hold_withdrawals", "block_account")


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

    from services.risk import lists

    chosen = lists.ListName(_choice(list_name, LISTS, "LIST"))
    entry_kind = lists.EntryKind(_choice(kind, KINDS, "KIND"))

    async def work(rt: Runtime) -> str:
        viewer = await _viewer(rt, brand)
        entry = await lists.add_entry(
            rt, viewer, list_name=chosen, kind=entry_kind, value=value, reason=reason, expires_at=expires
        )
        return f"{entry.id} {entry.list} {entry.kind} {entry.value}"

    typer.echo(run_or_refuse(work))


@risk_list_app.command("remove")
def risk_list_remove(
    entry_id: Annotated[str, typer.Argument(help="The entry's id (from `show`)")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
) -> None:
    """Remove an entry (it stays in the history)."""
    from authz.subjects import SYSTEM
    from services.risk import lists

    chosen = _uuid(entry_id, "ENTRY_ID")

    async def work(rt: Runtime) -> str:
        entry = await lists.remove_entry(rt, SYSTEM, entry_id=chosen, reason=reason)
        return f"removed {entry.id}"

    typer.echo(run_or_refuse(work))


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


# ---- rules, the queue, restrictions (services/risk/rule_admin.py, queue.py, review.py) -----------------


def _json(raw: str, name: str) -> Any:
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise typer.BadParameter(f"not JSON: {exc.msg}", param_hint=name) from exc


def _uuid(raw: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise typer.BadParameter("not an id (UUID)", param_hint=name) from exc


def _rule_line(rule: RiskRule) -> str:
    return "\t".join(
        (
            rule.code,
            rule.kind,
            "enabled" if rule.enabled else "disabled",
            f"{rule.points} points",
            f"v{rule.version}",
            "every brand" if rule.brand_id is None else "brand",
            rule.name,
        )
    )


@risk_rules_app.command("list")
def risk_rules_list(
    brand: Annotated[str | None, typer.Option(help="The rules this brand runs (default: every rule)")] = None,
) -> None:
    """The rules by code: code, kind, enabled, points, version, scope, name."""
    from services.risk import rule_admin

    async def work(rt: Runtime) -> list[str]:
        return [_rule_line(r) for r in await rule_admin.list_rules(rt, await _viewer(rt, brand))]

    lines = run_or_refuse(work)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} rules")


@risk_rules_app.command("show")
def risk_rules_show(code: Annotated[str, typer.Argument(help="The rule's code")]) -> None:
    """One rule as JSON (params and actions as `set` takes them)."""
    from authz.subjects import SYSTEM
    from services.risk import rule_admin

    async def work(rt: Runtime) -> dict[str, Any]:
        rule = await rule_admin.get_rule(rt, SYSTEM, code)
        return {
            "code": rule.code,
            "kind": rule.kind,
            "brand_id": str(rule.brand_id) if rule.brand_id else None,
            "updated_at": rule.updated_at.isoformat(),
            "updated_by": str(rule.updated_by) if rule.updated_by else None,
            **rule_admin.view(rule),
        }

    typer.echo(json.dumps(run_or_refuse(work), indent=2))


@risk_rules_app.command("set")
def risk_rules_set(
    code: Annotated[str, typer.Argument(help="The rule's code")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
    points: Annotated[int | None, typer.Option(help="Its score contribution, 0 to 100")] = None,
    params: Annotated[str | None, typer.Option(help='The whole parameters object, JSON: {"count": 3, ...}')] = None,
    actions: Annotated[str | None, typer.Option(help='The whole list, JSON: [{"kind": "flag_review"}]')] = None,
    name: Annotated[str | None, typer.Option(help="A new name")] = None,
    enable: Annotated[bool | None, typer.Option("--enable/--disable", help="Run it, or not")] = None,
) -> None:
    """Change a rule (as the system, for every brand): version + 1, audited; prints it as `list` does."""
    from authz.subjects import SYSTEM
    from services.risk import rule_admin

    change = rule_admin.RuleChange(
        name=name,
        params=None if params is None else _json(params, "--params"),
        points=points,
        actions=None if actions is None else _json(actions, "--actions"),
        enabled=enable,
    )

    async def work(rt: Runtime) -> str:
        if change.params is not None:
            rule_admin.parse_json_params(change.params)
        if change.actions is not None:
            rule_admin.parse_json_actions(change.actions)
        return _rule_line(await rule_admin.update_rule(rt, SYSTEM, code=code, change=change, reason=reason))

    typer.echo(run_or_refuse(work))


@risk_app.command("queue")
def risk_queue(
    brand: Annotated[str | None, typer.Option(help="Only this brand's flags (default: every brand)")] = None,
    status: Annotated[str, typer.Option(help="open, confirmed or dismissed")] = "open",
    first: Annotated[int, typer.Option(help="How many (at most 100)")] = 50,
) -> None:
    """The risk queue, the riskiest player first: flag id, score, player, source, rule or detail, raised."""
    from services.risk import queue

    chosen = queue.FlagStatus(_choice(status, tuple(s.value for s in queue.FlagStatus), "--status"))

    async def work(rt: Runtime) -> list[str]:
        page = await queue.page(rt, await _viewer(rt, brand), status=chosen, first=min(max(first, 0), 100))
        return [
            "\t".join(
                (
                    str(e.flag.id),
                    str(e.score),
                    str(e.flag.player_id) if e.flag.player_id else "-",
                    e.flag.source,
                    e.flag.rule_code or e.flag.detail,
                    e.flag.occasion,
                    e.flag.raised_at.isoformat(),
                )
            )
            for e in page.items
        ]

    lines = run_or_refuse(work)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} flags")


@risk_app.command("review")
def risk_review(
    flag_id: Annotated[str, typer.Argument(help="The flag's id (from `queue`)")],
    verdict: Annotated[str, typer.Argument(help="confirmed or dismissed")],
    note: Annotated[str, typer.Option(help="What was found (kept in the audit log)")],
) -> None:
    """Close a flag of the queue (a dismissed rule's flag leaves the player's score)."""
    from authz.subjects import SYSTEM
    from services.risk import review

    chosen = review.Verdict(_choice(verdict, tuple(v.value for v in review.Verdict), "VERDICT"))
    flag = _uuid(flag_id, "FLAG_ID")

    async def work(rt: Runtime) -> str:
        found = await review.review_flag(rt, SYSTEM, flag_id=flag, verdict=chosen, note=note)
        return f"{found.id} {found.status}"

    typer.echo(run_or_refuse(work))


@risk_app.command("impose")
def risk_impose(
    player_id: Annotated[str, typer.Argument(help="The player's id (a UUID)")],
    kind: Annotated[str, typer.Argument(help=", ".join(STAFF_KINDS))],
    reason: Annotated[str, typer.Option(help="Why (kept with it and in the audit log)")],
    level: Annotated[str | None, typer.Option(help="require_kyc_level: the KYC level")] = None,
    psps: Annotated[str | None, typer.Option(help="route_psps: the PSPs, comma-separated")] = None,
    expires: Annotated[datetime | None, typer.Option(help="When it lapses (UTC; none: until lifted)")] = None,
) -> None:
    """Impose a restriction on a player (as the system); prints its id."""

    from authz.subjects import SYSTEM
    from services.risk import review
    from services.risk.rules import ActionKind

    chosen = ActionKind(_choice(kind, STAFF_KINDS, "KIND"))
    player = _uuid(player_id, "PLAYER_ID")

    async def work(rt: Runtime) -> str:
        action = review.staff_action(chosen, level=level, psps=psps.split(",") if psps else None)
        imposed = await review.impose_action(
            rt, SYSTEM, player_id=player, action=action, reason=reason, expires_at=expires
        )
        return f"{imposed.id} {imposed.kind.value}"

    typer.echo(run_or_refuse(work))


@risk_app.command("lift")
def risk_lift(
    action_id: Annotated[str, typer.Argument(help="The restriction's id")],
    reason: Annotated[str, typer.Option(help="Why (kept with it and in the audit log)")],
) -> None:
    """Lift a restriction (held withdrawals then go on, once nothing else holds them)."""
    from authz.subjects import SYSTEM
    from services.risk import review

    action = _uuid(action_id, "ACTION_ID")

    async def work(rt: Runtime) -> str:
        lifted = await review.lift_action(rt, SYSTEM, action_id=action, reason=reason)
        released = f", {len(lifted.released)} withdrawals released" if lifted.released else ""
        return f"lifted {lifted.restriction.id} {lifted.restriction.kind.value}{released}"

    typer.echo(run_or_refuse(work))


@risk_app.command("expire")
def risk_expire() -> None:
    """Retire the restrictions past their expiry, audited, and let go what they held; delete the observations past
    their retention (the server does this every minute; run it from cron where no server runs)."""
    from services.risk import expiry

    typer.echo(f"{with_runtime(expiry.prune_observations)} observation(s) past their retention deleted")
    typer.echo(f"{with_runtime(expiry.expire_due)} restriction(s) expired")


# ---- deposits a risk rule held (services/cashier/risk_holds.py) -----------------------------------------


async def _desk_member(rt: Runtime, email: str, brand: str | None) -> Viewer:
    """The staff member who decides, with the roles they hold (in the brand named): the decision is theirs,
    audited as theirs, and refused (NOT_ALLOWED) unless they are of the risk desk, as in the back office."""
    from sqlmodel import col, select

    from authz.subjects import Viewer
    from core.errors import NotFound
    from models.staff import StaffUser
    from services import staff

    async with rt.database.session() as db:
        found = await db.scalar(select(StaffUser).where(col(StaffUser.email) == email.strip().lower()))
    scope = await staff.scope_for_request(rt, found.id, brand) if found is not None else None
    if found is None or scope is None:
        raise NotFound(f"No active staff member {email!r}.", field="staff")
    return Viewer(kind="staff", id=found.id, brand_id=scope.brand_id, brand_code=scope.brand_code, roles=scope.roles)


@risk_app.command("deposits")
def risk_deposits(
    brand: Annotated[str | None, typer.Option(help="Only this brand's (default: every brand)")] = None,
    first: Annotated[int, typer.Option(help="How many (at most 100)")] = 50,
) -> None:
    """The deposits a risk rule held, oldest first: payment id, player id, amount, method, held since, why."""
    from services.risk import held

    async def work(rt: Runtime) -> list[str]:
        found = await held.held_deposits(rt, await _viewer(rt, brand), first=min(max(first, 0), 100))
        return [
            "\t".join(
                (
                    str(h.payment.id),
                    str(h.payment.player_id),
                    h.amount,
                    h.payment.method,
                    h.payment.created_at.isoformat(),
                    "; ".join(f"{r.rule_code}: {r.reason}" for r in h.reasons) or "-",
                )
            )
            for h in found
        ]

    lines = run_or_refuse(work)
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} held deposits")


def _decide_held(payment_id: str, reason: str, staff_email: str, brand: str | None, release: bool) -> None:
    from services.cashier import risk_holds

    payment = _uuid(payment_id, "PAYMENT_ID")
    decide = risk_holds.release_deposit if release else risk_holds.decline_deposit

    async def work(rt: Runtime) -> str:
        viewer = await _desk_member(rt, staff_email, brand)
        found = await decide(rt, viewer, payment_id=payment, reason=reason)
        failure = f" {found.failure_code}: {found.failure_message}" if found.failure_code else ""
        return f"{found.id} {found.status}{failure}"

    typer.echo(run_or_refuse(work))


@risk_app.command("release")
def risk_release(
    payment_id: Annotated[str, typer.Argument(help="The held deposit's id (from `deposits`)")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
    staff_email: Annotated[str, typer.Option("--staff", help="The risk desk member deciding (their e-mail)")],
    brand: Annotated[str | None, typer.Option(help="The brand they work in (staff of several brands)")] = None,
) -> None:
    """Release a held deposit: it goes on to the PSPs now; prints its id and status (failed: with why)."""
    _decide_held(payment_id, reason, staff_email, brand, release=True)


@risk_app.command("decline")
def risk_decline(
    payment_id: Annotated[str, typer.Argument(help="The held deposit's id (from `deposits`)")],
    reason: Annotated[str, typer.Option(help="Why (kept in the audit log)")],
    staff_email: Annotated[str, typer.Option("--staff", help="The risk desk member deciding (their e-mail)")],
    brand: Annotated[str | None, typer.Option(help="The brand they work in (staff of several brands)")] = None,
) -> None:
    """Decline a held deposit: it fails (RISK_DECLINED), nothing charged; prints its id and status."""
    _decide_held(payment_id, reason, staff_email, brand, release=False)
