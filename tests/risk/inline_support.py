"""What the inline-rule tests share: the GraphQL of the flows they drive, and two set-ups the public surface of
main does not offer yet (risksurface's staff mutations): an action put in force on a player, a rule added.
The flows under test (deposit, withdrawal, claim, launch, registration) are driven through GraphQL."""

from __future__ import annotations

import json
import uuid
from typing import Any

from strawberry import relay

from core.clock import clock
from services.risk import actions, hits, rules
from services.risk.store import OnSession

DEPOSIT = """mutation($input: DepositInput!) { deposit(input: $input) {
  payment { id status failureCode redirectUrl psp } errors { code message } } }"""
WITHDRAW = """mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { id status } errors { code message } } }"""
APPROVE = """mutation($input: ApproveWithdrawalInput!) { approveWithdrawal(input: $input) {
  payment { id status } errors { code } } }"""
RELEASE = """mutation($input: HeldDepositDecisionInput!) { releaseHeldDeposit(input: $input) {
  payment { id status failureCode psp } errors { code field message } } }"""
DECLINE = """mutation($input: HeldDepositDecisionInput!) { declineHeldDeposit(input: $input) {
  payment { id status failureCode } errors { code field message } } }"""
CLAIM = "mutation($input: ClaimBonusInput!) { claimBonus(input: $input) { bonus { id status } errors { code } } }"
LAUNCH = "mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl errors { code } } }"


def payment_uuid(gid: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(gid).node_id)


async def impose(rt: Any, player: Any, kind: str, **params: Any) -> uuid.UUID:
    """Put an action in force on the player (as staff's imposeRiskAction will), in a transaction of its own."""
    from models.players import Player

    async with rt.database.transaction() as db:
        found = await db.get(Player, player.uuid)
        assert found is not None
        action_id = await actions.insert(
            OnSession(db),
            player_id=found.id,
            brand_id=found.brand_id,
            action=rules.ActionSpec.model_validate({"kind": kind, **params}),
            rule_code=None,
            reason="test: imposed by staff",
        )
    assert action_id is not None
    return action_id


async def lift(rt: Any, action_id: uuid.UUID) -> None:
    """Lift an action (as risksurface's liftRiskAction will), then what a lift must call."""
    from sqlalchemy import text

    async with rt.database.transaction() as db:
        player_id = await db.scalar(
            text("UPDATE risk_actions SET lifted_at = :at, lift_reason = 'test' WHERE id = :id RETURNING player_id"),
            {"at": clock.now(), "id": action_id},
        )
    from services.cashier.withdrawals import after_risk_lift

    await after_risk_lift(rt, player_id)


async def add_rule(
    rt: Any, code: str, kind: str, params: dict[str, Any], actions_: list[dict[str, Any]], points: int = 10
) -> None:
    """A rule for every brand, checked as staff's edits are (as risksurface's createRiskRule will)."""
    from sqlalchemy import text

    rule_kind = rules.RuleKind(kind)
    rules.parse_params(rule_kind, params)
    rules.parse_actions(rule_kind, actions_)
    async with rt.database.transaction() as db:
        await db.execute(
            text("""
INSERT INTO risk_rules (id, code, name, kind, params, points, actions, brand_id, enabled, version, updated_at)
VALUES (:id, :code, :code, :kind, CAST(:params AS jsonb), :points, CAST(:actions AS jsonb), NULL, true, 1, :at)"""),
            {
                "id": uuid.uuid4(),
                "code": code,
                "kind": kind,
                "params": json.dumps(params),
                "points": points,
                "actions": json.dumps(actions_),
                "at": clock.now(),
            },
        )


async def disable_rule(rt: Any, code: str) -> None:
    from sqlalchemy import text

    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE risk_rules SET enabled = false WHERE code = :code"), {"code": code})


async def score_items(rt: Any, player: Any) -> dict[str, Any]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = (
            await db.execute(
                text("SELECT rule_code, reason, hits FROM risk_score_items WHERE player_id = :p"), {"p": player.uuid}
            )
        ).all()
    return {r.rule_code: r for r in rows}


async def open_flags(rt: Any, player: Any) -> list[str]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = await db.scalars(
            text("SELECT rule_code FROM risk_flags WHERE player_id = :p AND source = 'rule' AND status = 'open'"),
            {"p": player.uuid},
        )
        return sorted(rows.all())


async def in_force(rt: Any, player: Any) -> actions.Restrictions:
    async with rt.database.session() as db:
        return await actions.in_force(OnSession(db), player.uuid)


async def topics(rt: Any, key: str) -> list[str]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = await db.scalars(text("SELECT topic FROM outbox_events WHERE key = :k ORDER BY id"), {"k": key})
        return list(rows.all())


async def give_score(rt: Any, player: Any, code: str) -> None:
    """A hit of a default rule (its points on the score), as the event-stream rules give one."""
    from models.players import Player

    async with rt.database.transaction() as db:
        found = await db.get(Player, player.uuid)
        assert found is not None
        [rule] = [r for r in await rules.enabled(OnSession(db), found.brand_id, set(rules.RuleKind)) if r.code == code]
        await hits.apply(
            OnSession(db), rule, player_id=found.id, brand_id=found.brand_id, occasion="event", reason="t", details={}
        )
