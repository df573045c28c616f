"""Risk actions: what a rule's hit (or staff) does to a player, and the one question the gates ask: what is
in force on this player now?

Actions are rows (`risk_actions`), at most one in force of each kind per player, imposed by a rule or by
staff, lifted only by staff (with a reason: services/risk/review.py) or by their expiry. Each imposition
is audited and announced (`risk.action_imposed`). `flag_review` is not a restriction: it raises a flag in
the risk queue (one open flag per player and rule). `hold_deposit` acts on the deposit being decided only
(services/risk/inline.py holds it), so nothing is stored for it here.

The readers call `in_force` in the transaction of their own decision (one statement):
- the cashier: `blocked` refuses deposits (RISK_RESTRICTED), `three_ds` and `psps` route them, and
  `withdrawals_held` keeps a withdrawal from automatic approval and from finance until risk lifts it;
- the bonus engine: `bonuses_blocked` refuses claims (RISK_BONUS_BLOCKED);
- KYC: `kyc_level` is a level required of the player, as a KYC trigger's is;
- game launch: `blocked` refuses it.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from typing import Any

from core import outbox
from core.clock import clock
from core.ids import new_id
from core.prepared import Statement
from services import game_sessions
from services.audit import SystemEntry
from services.risk.rules import ActionKind, ActionSpec
from services.risk.store import OnSession, Sql


@dataclass(frozen=True)
class InForce:
    id: uuid.UUID
    kind: ActionKind
    params: dict[str, Any]
    rule_code: str | None
    reason: str


@dataclass(frozen=True)
class Restrictions:
    actions: tuple[InForce, ...] = ()

    def has(self, kind: ActionKind) -> bool:
        return any(a.kind == kind for a in self.actions)

    @property
    def blocked(self) -> bool:
        return self.has(ActionKind.BLOCK_ACCOUNT)

    @property
    def bonuses_blocked(self) -> bool:
        return self.blocked or self.has(ActionKind.BLOCK_BONUSES)

    @property
    def withdrawals_held(self) -> bool:
        return self.blocked or self.has(ActionKind.HOLD_WITHDRAWALS)

    @property
    def three_ds(self) -> bool:
        return self.has(ActionKind.ROUTE_3DS)

    @property
    def psps(self) -> tuple[str, ...] | None:
        """The only PSPs deposits may go through (None: any the routing picks)."""
        for action in self.actions:
            if action.kind == ActionKind.ROUTE_PSPS:
                return tuple(action.params.get("psps") or ())
        return None

    @property
    def kyc_level(self) -> str | None:
        for action in self.actions:
            if action.kind == ActionKind.REQUIRE_KYC_LEVEL:
                return str(action.params["level"])
        return None


# The player's risk turn: an imposition of `hold_withdrawals` or `block_account` (a rule's, inline or on the
# stream, or staff's) and the decisions they change take turns on one transaction-scoped advisory key per
# player. The imposition takes it before its insert; a withdrawal request after its money lock, before it reads
# the restrictions; an automatic approval reading them itself; the payout step before its last look
# (services/cashier/payout_checks.py); a game launch before it reads `blocked`. Either the decision sees the
# restriction, or the restriction commits after it: the payout step, waiting for that commit, catches an
# approved withdrawal, and `block_account` ends the game session a launch committed (the wallet then refuses
# its bets). Never taken before a money lock (a claim's rule imposing a hold holds the player's money).
_SERIALISE = Statement("SELECT pg_advisory_xact_lock(hashtextextended(:serial, 0)) AS serialised")

HOLDS_WITHDRAWALS = frozenset({ActionKind.HOLD_WITHDRAWALS, ActionKind.BLOCK_ACCOUNT})


def turn_key(player_id: uuid.UUID) -> str:
    """The advisory key of the player's risk turn (above)."""
    return f"risk-turn:{player_id}"


async def take_turn(sql: Sql, player_id: uuid.UUID) -> None:
    await sql.fetch(_SERIALISE, {"serial": turn_key(player_id)})


_IN_FORCE = Statement("""
SELECT id, kind, params, rule_code, reason FROM risk_actions
WHERE player_id = :player AND lifted_at IS NULL AND (expires_at IS NULL OR expires_at > :now)
ORDER BY imposed_at
""")

# An expired action stops holding its place: the partial unique index admits one in force per kind.
_RETIRE_EXPIRED = Statement("""
UPDATE risk_actions SET lifted_at = expires_at, lift_reason = 'expired'
WHERE player_id = :player AND kind = :kind AND lifted_at IS NULL AND expires_at <= :now
RETURNING id, player_id, brand_id, kind, params, rule_code
""")

_INSERT = Statement("""
INSERT INTO risk_actions (id, player_id, brand_id, kind, params, rule_code, reason, imposed_at, imposed_by,
                          expires_at)
VALUES (:id, :player, :brand, :kind, CAST(:params AS jsonb), :rule, :reason, :at, :staff, :expires)
ON CONFLICT (player_id, kind) WHERE lifted_at IS NULL DO NOTHING
RETURNING id
""")

_FLAG = Statement("""
INSERT INTO risk_flags (id, player_id, brand_id, source, entry_id, occasion, outcome, detail, raised_at, status,
                        rule_code)
VALUES (:id, :player, :brand, 'rule', NULL, :occasion, 'review', :detail, :at, 'open', :rule)
ON CONFLICT (player_id, rule_code) WHERE status = 'open' AND source = 'rule' DO NOTHING
RETURNING id
""")


def params_of(row_params: Any) -> dict[str, Any]:
    return row_params if isinstance(row_params, dict) else json.loads(row_params)


async def in_force(sql: Sql, player_id: uuid.UUID) -> Restrictions:
    rows = await sql.fetch(_IN_FORCE, {"player": player_id, "now": clock.now()})
    return Restrictions(
        tuple(InForce(r.id, ActionKind(r.kind), params_of(r.params), r.rule_code, r.reason) for r in rows)
    )


def kyc_signal(rule_code: str | None) -> str:
    """The signal of the KYC requirement a `require_kyc_level` action of this rule raises (None: staff's); its
    lift withdraws that requirement, and only that one (services/risk/expiry.py)."""
    return "risk." + (re.sub(r"[^a-z0-9_.:-]", "-", rule_code.lower())[:59] if rule_code else "staff")


def subject(player_id: uuid.UUID) -> str:
    """Risk's events are keyed `risk:<player>`, never the player's own channel (a player must not learn
    that a rule caught them from their live feed)."""
    return f"risk:{player_id}"


async def insert(
    sql: Sql,
    *,
    player_id: uuid.UUID,
    brand_id: uuid.UUID,
    action: ActionSpec,
    rule_code: str | None,
    reason: str,
    retired: list[SystemEntry],
    staff_id: uuid.UUID | None = None,
    expires_at: Any = None,
) -> uuid.UUID | None:
    """Store the action and announce it; its id, or None when one of its kind was in force already. The
    caller audits (a rule: `audit_entry`; staff: with their own record), with `retired`: the records of an
    expired action of the kind this one replaces (retired here, announced, audited as the expiry sweep does)."""
    if action.kind in (ActionKind.FLAG_REVIEW, ActionKind.HOLD_DEPOSIT):
        raise ValueError(f"{action.kind} is not a stored restriction")
    if action.kind in HOLDS_WITHDRAWALS:
        await take_turn(sql, player_id)
    now = clock.now()
    for row in await sql.fetch(_RETIRE_EXPIRED, {"player": player_id, "kind": action.kind.value, "now": now}):
        from services.risk import expiry  # its lift's effects; it reads this module

        await sql.emit([expiry.lifted_event(row, staff_id=None, expired=True)])
        if isinstance(sql, OnSession) and kyc_signal(row.rule_code) != kyc_signal(rule_code):
            # its KYC requirement goes, as when the sweep retires it (one of the same signal is the new one's)
            await expiry.after_lift(sql.db, player_id=player_id, kind=action.kind, rule_code=row.rule_code)
        retired.append(
            SystemEntry(
                action="risk.action_lifted",
                target_type="player",
                target_id=str(player_id),
                brand_id=brand_id,
                before=expiry.lifted_before(row),
                after={},
                reason=expiry.EXPIRED,
            )
        )
    params = {
        "id": new_id(),
        "player": player_id,
        "brand": brand_id,
        "kind": action.kind.value,
        "params": json.dumps(action.params()),
        "rule": rule_code,
        "reason": reason[:500],
        "at": now,
        "staff": staff_id,
        "expires": expires_at,
    }
    rows = await sql.fetch(_INSERT, params)
    if not rows:
        return None
    action_id: uuid.UUID = rows[0].id
    if action.kind == ActionKind.BLOCK_ACCOUNT:  # no more bets in games already open (services/game_sessions.py)
        await sql.fetch(game_sessions.END_FOR_PLAYER, {"player": player_id, "now": now})
    data = {
        "action_id": str(action_id),
        "player_id": str(player_id),
        "kind": action.kind.value,
        "rule_code": rule_code,
        "staff_id": str(staff_id) if staff_id else None,
    }
    await sql.emit([outbox.event("risk.action_imposed", subject(player_id), data, brand_id=brand_id, at=now)])
    return action_id


async def flag(
    sql: Sql, *, player_id: uuid.UUID, brand_id: uuid.UUID, rule_code: str, occasion: str, detail: str
) -> uuid.UUID | None:
    """A flag for the risk queue; None when the rule's flag on this player is still open."""
    now = clock.now()
    params = {
        "id": new_id(),
        "player": player_id,
        "brand": brand_id,
        "occasion": occasion,
        "detail": detail[:320],
        "at": now,
        "rule": rule_code,
    }
    rows = await sql.fetch(_FLAG, params)
    if not rows:
        return None
    flag_id: uuid.UUID = rows[0].id
    data = {"flag_id": str(flag_id), "player_id": str(player_id), "rule_code": rule_code, "occasion": occasion}
    await sql.emit([outbox.event("risk.flag_raised", subject(player_id), data, brand_id=brand_id, at=now)])
    return flag_id


def audit_entry(
    action_id: uuid.UUID, player_id: uuid.UUID, brand_id: uuid.UUID, action: ActionSpec, rule_code: str, reason: str
) -> SystemEntry:
    return SystemEntry(
        action="risk.action_imposed",
        target_type="player",
        target_id=str(player_id),
        brand_id=brand_id,
        after={"action_id": str(action_id), "kind": action.kind.value, **action.params(), "rule_code": rule_code},
        reason=reason,
    )
