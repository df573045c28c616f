"""A rule's hit on a player, the same wherever the rule ran (inline or on the event stream): the score
contribution with its reason, the rule's actions, a `risk.rule_hit` event, and the audit records of what
it imposed (last: the audit chain's lock is held until the commit)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from core import outbox
from core.clock import clock
from services.audit import SystemEntry
from services.risk import actions
from services.risk.rules import ActionKind, Rule
from services.risk.score import contribute
from services.risk.store import Sql


@dataclass
class Outcome:
    hold_deposit: bool = False  # the deposit being decided waits for risk staff (inline deposit rules)
    imposed: list[ActionKind] = field(default_factory=list)  # restrictions newly in force
    flag_id: uuid.UUID | None = None


async def apply(
    sql: Sql,
    rule: Rule,
    *,
    player_id: uuid.UUID,
    brand_id: uuid.UUID,
    occasion: str,
    reason: str,
    details: Mapping[str, Any],
) -> Outcome:
    hits = await contribute(sql, rule, player_id=player_id, brand_id=brand_id, reason=reason, details=details)
    outcome = Outcome()
    audited: list[SystemEntry] = []
    # Restrictions in one order (by kind), whatever the rule lists: two rules hitting one player at once, each
    # holding the first restriction it inserted and waiting for the other's, deadlocked.
    for action in sorted(rule.actions, key=lambda a: a.kind.value):
        if action.kind == ActionKind.HOLD_DEPOSIT:
            outcome.hold_deposit = True
        elif action.kind == ActionKind.FLAG_REVIEW:
            outcome.flag_id = await actions.flag(
                sql, player_id=player_id, brand_id=brand_id, rule_code=rule.code, occasion=occasion, detail=reason
            )
        else:
            action_id = await actions.insert(
                sql,
                player_id=player_id,
                brand_id=brand_id,
                action=action,
                rule_code=rule.code,
                reason=reason,
                retired=audited,
            )
            if action_id is not None:
                outcome.imposed.append(action.kind)
                audited.append(actions.audit_entry(action_id, player_id, brand_id, action, rule.code, reason))
    data = {
        "player_id": str(player_id),
        "rule_code": rule.code,
        "kind": rule.kind.value,
        "points": rule.points,
        "occasion": occasion,
        "hits": hits,
    }
    event = outbox.event("risk.rule_hit", actions.subject(player_id), data, brand_id=brand_id, at=clock.now())
    await sql.emit([event])
    await sql.audit(audited)
    return outcome
