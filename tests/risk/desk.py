"""What the risk desk's tests share: a rule's hit on a player through the engine (as the inline and stream
rules record one), and the GraphQL documents of the desk's surface."""

from __future__ import annotations

import uuid
from typing import Any

from models.players import Player
from services.risk import hits, rules
from services.risk.store import OnSession

RULES = """{ riskRules { id code name kind params points actions { kind level psps } allBrands enabled version
  updatedBy inline } }"""
CREATE_RULE = """
mutation($input: CreateRiskRuleInput!) { createRiskRule(input: $input) {
  rule { code kind params points actions { kind level psps } allBrands enabled version }
  errors { code field message } } }"""
UPDATE_RULE = """
mutation($input: UpdateRiskRuleInput!) { updateRiskRule(input: $input) {
  rule { code name params points actions { kind level psps } enabled version } errors { code field message } } }"""
PLAYER_RISK = """
query($id: ID!) { player(id: $id) { risk {
  score { value reasons { ruleCode points reason details hits firstHitAt lastHitAt expiresAt } }
  restrictions { id kind level psps ruleCode reason imposedAt imposedBy expiresAt }
  flags { id source status ruleCode reviewNote } } } }"""
IMPOSE = """
mutation($input: ImposeRiskActionInput!) { imposeRiskAction(input: $input) {
  restriction { id kind level psps ruleCode reason expiresAt } errors { code field message } } }"""
LIFT = """
mutation($input: LiftRiskActionInput!) { liftRiskAction(input: $input) {
  restriction { id kind liftedAt } releasedWithdrawals errors { code field message } } }"""
REVIEW = """
mutation($input: ReviewRiskFlagInput!) { reviewRiskFlag(input: $input) {
  flag { id status reviewNote reviewedAt } errors { code field message } } }"""
QUEUE = """
query($first: Int, $after: String, $status: RiskFlagStatus! = OPEN) {
  riskQueue(first: $first, after: $after, status: $status) {
    edges { cursor node { score flag { id source outcome detail ruleCode status raisedAt
      player { id email risk { score { value reasons { ruleCode points } } } } } } }
    pageInfo { hasNextPage hasPreviousPage } } }"""


async def rule(rt: Any, code: str) -> rules.Rule:
    async with rt.database.session() as db:
        found = await rules.enabled(OnSession(db), uuid.UUID(int=0), set(rules.RuleKind))
    return next(r for r in found if r.code == code)


async def hit(rt: Any, player_id: uuid.UUID, code: str, reason: str = "found", **details: Any) -> hits.Outcome:
    """A hit of the rule `code` on the player, committed (what an inline or stream rule records)."""
    chosen = await rule(rt, code)
    async with rt.database.transaction() as db:
        player = await db.get(Player, player_id)
        assert player is not None
        return await hits.apply(
            OnSession(db),
            chosen,
            player_id=player.id,
            brand_id=player.brand_id,
            occasion="deposit",
            reason=reason,
            details=details,
        )


async def audit_trail(rt: Any, action_prefix: str) -> list[Any]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = await db.execute(
            text(
                "SELECT action, actor_type, actor_id, brand_id, target_type, target_id, before, after, reason "
                "FROM audit_log WHERE action LIKE :prefix ORDER BY seq"
            ),
            {"prefix": f"{action_prefix}%"},
        )
        return list(rows.all())


async def events(rt: Any, topic: str) -> list[dict[str, Any]]:
    import json

    from sqlalchemy import text

    async with rt.database.session() as db:
        rows = await db.execute(
            text("SELECT key, payload FROM outbox_events WHERE topic = :topic ORDER BY id"), {"topic": topic}
        )
        return [
            {"subject": r.key, **(r.payload if isinstance(r.payload, dict) else json.loads(r.payload))}
            for r in rows.all()
        ]


async def quiet(rt: Any, *codes: str) -> None:
    """Disable rules a test is not about (through the rule editor's service), e.g. the registration velocity
    rules when a test registers many players from the test client's one address."""
    from authz.subjects import SYSTEM
    from services.risk import rule_admin

    for code in codes:
        change = rule_admin.RuleChange(enabled=False)
        await rule_admin.update_rule(rt, SYSTEM, code=code, change=change, reason="not what this test is about")


REGISTRATION_RULES = ("registrations-per-ip", "registrations-per-device")
