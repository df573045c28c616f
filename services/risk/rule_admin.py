"""Staff's side of the rules as data (services/risk/rules.py): list them, create one, change one.

Guarantees:
- Every change is validated as the defaults are (`rules.parse_params`, `rules.parse_actions`: a refusal
  names the field, `params` or `actions`), a `require_kyc_level` action names a level the KYC profiles
  know, and a `route_psps` action PSPs the cashier has.
- A change may name the version it was made on: a rule changed since is refused (`INVALID_STATE`), so an
  editor that sends the whole rule never undoes another's change unseen.
- A change bumps the rule's `version`, stamps `updated_by`/`updated_at`, is audited with what it changed
  (before and after, with the reason) and announced (`risk.rule_changed`), all in one transaction. A change
  that changes nothing writes nothing.
- Rules are never deleted: a rule staff no longer want is disabled (its past hits keep their reasons).
- Brand scope as the lists have it: staff of one brand see their brand's rules and the rules for every
  brand, create rules for their brand, and change only their brand's; staff of every brand (and the CLI)
  create rules for every brand and change any. A rule's code is unique across brands.
- The points and actions of a change apply to the next hits: a score contribution keeps the points it was
  given (services/risk/score.py), an action in force stays until lifted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import col, or_, select
from sqlmodel.sql.expression import SelectOfScalar

from authz.subjects import Viewer
from core import outbox
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.ids import new_id
from core.runtime import Runtime
from models.risk import RiskRule
from services import audit
from services.kyc import levels as kyc_levels
from services.risk import rules
from services.risk.rules import ActionKind, ActionSpec, RuleKind

CODE_PATTERN = "^[a-z0-9][a-z0-9-]{1,63}$"  # as ck_risk_rules_code
NAME_LENGTH = 120


def readable_rules(viewer: Viewer) -> SelectOfScalar[RiskRule]:
    """The rules a staff member sees: their brand's and those for every brand (staff of every brand: all)."""
    stmt = select(RiskRule)
    if viewer.brand_id is not None:
        stmt = stmt.where(or_(col(RiskRule.brand_id).is_(None), col(RiskRule.brand_id) == viewer.brand_id))
    return stmt


async def list_rules(rt: Runtime, viewer: Viewer) -> list[RiskRule]:
    """Every rule the viewer sees, by code (one statement)."""
    async with rt.database.session() as db:
        return list((await db.scalars(readable_rules(viewer).order_by(col(RiskRule.code)))).all())


async def get_rule(rt: Runtime, viewer: Viewer, code: str) -> RiskRule:
    async with rt.database.session() as db:
        found = await db.scalar(readable_rules(viewer).where(col(RiskRule.code) == code))
    if found is None:
        raise NotFound("No such rule.", field="code")
    return found


def known_kyc_levels(actions: tuple[ActionSpec, ...]) -> None:
    """A `require_kyc_level` action names a level some KYC profile has (services/kyc/levels.toml)."""
    known = {level.code for profile in kyc_levels.profiles().values() for level in profile.levels}
    for action in actions:
        if action.kind == ActionKind.REQUIRE_KYC_LEVEL and action.level not in known:
            raise DomainError(
                f"Unknown KYC level {action.level!r} (one of {', '.join(sorted(known))}).",
                code=ErrorCode.INVALID_INPUT,
                field="actions",
            )


def known_psps(actions: tuple[ActionSpec, ...], *, field: str = "actions") -> None:
    """A `route_psps` action names PSPs the cashier has (services/cashier/psp/adapters.py): a typo or an empty
    name would leave the player no PSP to deposit through."""
    from services.cashier.psp.adapters import ADAPTERS

    for action in actions:
        unknown = [p for p in action.psps or () if p not in ADAPTERS]
        if unknown:
            raise DomainError(
                f"Unknown PSP {unknown[0]!r} (one of {', '.join(sorted(ADAPTERS))}).",
                code=ErrorCode.INVALID_INPUT,
                field=field,
            )


def _checked(
    kind: RuleKind, params: dict[str, Any], actions: list[dict[str, Any]]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The params and actions as stored: validated, normalised (defaults filled, unknown keys refused)."""
    parsed = rules.parse_params(kind, params)
    specs = rules.parse_actions(kind, actions)
    known_kyc_levels(specs)
    known_psps(specs)
    if any(a.kind == ActionKind.HOLD_DEPOSIT for a in specs) and getattr(parsed, "occasion", None) != "deposit":
        raise DomainError(
            "hold_deposit holds the deposit being decided: only a rule of the deposit occasion takes it.",
            code=ErrorCode.INVALID_INPUT,
            field="actions",
        )
    return parsed.model_dump(mode="json"), [{"kind": a.kind.value, **a.params()} for a in specs]


def _points(points: int) -> int:
    if not 0 <= points <= 100:
        raise DomainError("Points go from 0 to 100.", field="points")
    return points


def _name(name: str) -> str:
    name = name.strip()
    if not name or len(name) > NAME_LENGTH:
        raise DomainError(f"A name of 1 to {NAME_LENGTH} characters.", field="name")
    return name


def _reason(reason: str) -> str:
    reason = reason.strip()
    if not reason:
        raise DomainError("Say why.", field="reason")
    return reason[:500]


def view(rule: RiskRule) -> dict[str, Any]:
    """What the audit log keeps of a rule."""
    return {
        "name": rule.name,
        "params": rule.params,
        "points": rule.points,
        "actions": rule.actions,
        "enabled": rule.enabled,
        "version": rule.version,
    }


def _event(rule: RiskRule, viewer: Viewer, changed: list[str]) -> outbox.Event:
    data = {
        "rule_id": str(rule.id),
        "rule_code": rule.code,
        "kind": rule.kind,
        "version": rule.version,
        "enabled": rule.enabled,
        "changed": changed,
        "staff_id": str(viewer.id) if viewer.is_staff and viewer.id else None,
    }
    return outbox.event("risk.rule_changed", f"risk_rule:{rule.id}", data, brand_id=rule.brand_id, at=rule.updated_at)


async def create_rule(
    rt: Runtime,
    viewer: Viewer,
    *,
    code: str,
    name: str,
    kind: RuleKind,
    params: dict[str, Any],
    points: int,
    actions: list[dict[str, Any]],
    enabled: bool = True,
    reason: str,
) -> RiskRule:
    """A new rule for the viewer's brand (staff of every brand: for every brand)."""
    code = code.strip()
    if not re.fullmatch(CODE_PATTERN, code):
        raise DomainError("A code of 2 to 64 lower-case letters, digits and dashes.", field="code")
    why = _reason(reason)
    stored_params, stored_actions = _checked(kind, params, actions)
    rule = RiskRule(
        id=new_id(),
        code=code,
        name=_name(name),
        kind=kind.value,
        params=stored_params,
        points=_points(points),
        actions=stored_actions,
        brand_id=viewer.brand_id,
        enabled=enabled,
        version=1,
        updated_at=clock.now(),
        updated_by=viewer.id,
    )
    try:
        async with rt.database.transaction() as db:
            db.add(rule)
            await db.flush()
            await outbox.emit_events(db, [_event(rule, viewer, ["created"])])
            await audit.append(
                db,
                actor=viewer,
                action="risk.rule_created",
                target_type="risk_rule",
                target_id=rule.id,
                brand_id=rule.brand_id,
                after={"code": rule.code, "kind": rule.kind, **view(rule)},
                reason=why,
            )
    except IntegrityError as exc:
        raise DomainError("A rule with this code exists.", code=ErrorCode.ALREADY_EXISTS, field="code") from exc
    return rule


@dataclass(frozen=True)
class RuleChange:
    """What to change; None leaves a field as it is."""

    name: str | None = None
    params: dict[str, Any] | None = None
    points: int | None = None
    actions: list[dict[str, Any]] | None = None
    enabled: bool | None = None
    version: int | None = None  # the version the change was made on (None: whatever the rule is now)


async def update_rule(rt: Runtime, viewer: Viewer, *, code: str, change: RuleChange, reason: str) -> RiskRule:
    """Change a rule (version + 1, audited, announced); nothing changed: the rule as it was, nothing written."""
    why = _reason(reason)
    async with rt.database.transaction() as db:
        rule = await db.scalar(readable_rules(viewer).where(col(RiskRule.code) == code).with_for_update())
        if rule is None:
            raise NotFound("No such rule.", field="code")
        if viewer.brand_id is not None and rule.brand_id != viewer.brand_id:
            raise DomainError(
                "This rule applies to every brand: staff of every brand change it.", code=ErrorCode.NOT_ALLOWED
            )
        if change.version is not None and change.version != rule.version:
            raise DomainError(
                f"The rule changed since (version {rule.version} now, the change was made on {change.version}): "
                "reload it, then change it.",
                code=ErrorCode.INVALID_STATE,
                field="version",
            )
        kind = RuleKind(rule.kind)
        params = rule.params if change.params is None else change.params
        actions = rule.actions if change.actions is None else change.actions
        stored_params, stored_actions = _checked(kind, params, actions)
        before = view(rule)
        after = {
            **before,
            "name": before["name"] if change.name is None else _name(change.name),
            "params": stored_params,
            "points": before["points"] if change.points is None else _points(change.points),
            "actions": stored_actions,
            "enabled": before["enabled"] if change.enabled is None else change.enabled,
        }
        changed = sorted(k for k in after if after[k] != before[k])
        if not changed:
            return rule
        rule.name, rule.params, rule.points = after["name"], after["params"], after["points"]
        rule.actions, rule.enabled = after["actions"], after["enabled"]
        rule.version += 1
        rule.updated_at = clock.now()
        rule.updated_by = viewer.id
        after["version"] = rule.version
        await outbox.emit_events(db, [_event(rule, viewer, changed)])
        await audit.append_changes(
            db,
            actor=viewer,
            action="risk.rule_changed",
            target_type="risk_rule",
            target_id=rule.id,
            brand_id=rule.brand_id,
            before=before,
            after=after,
            reason=why,
            naming={"code": rule.code},
        )
    return rule


def parse_json_actions(raw: Any) -> list[dict[str, Any]]:
    """Actions as a list of objects (what the CLI's --actions and GraphQL give)."""
    if not isinstance(raw, list) or not all(isinstance(a, dict) for a in raw):
        raise DomainError('actions: a list of objects such as {"kind": "flag_review"}.', field="actions")
    return raw


def parse_json_params(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict):
        raise DomainError("params: an object.", field="params")
    return raw
