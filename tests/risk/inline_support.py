"""What the inline-rule tests share: the GraphQL of the flows they drive, the risk desk's restrictions imposed
and lifted through its mutations, and a few set-ups (a rule added or disabled, a score given, what was
recorded) read or written in the database."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from strawberry import relay

from services.risk import actions, hits, rules
from services.risk.store import OnSession
from tests.risk.desk import IMPOSE, LIFT, quiet

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


@pytest.fixture(name="desk")
async def desk_fixture(make_staff: Any) -> str:
    """A risk analyst's token (the risk desk imposes and lifts restrictions)."""
    token: str = (await make_staff("risk_analyst")).token
    return token


async def impose(gql: Any, desk: str, player: Any, kind: str, **params: Any) -> str:
    """The risk desk puts a restriction in force on the player (imposeRiskAction); its id."""
    given = {"playerId": player.id, "kind": kind.upper(), "reason": "test: imposed by the desk", **params}
    body = await gql(IMPOSE, {"input": given}, token=desk)
    payload = body["data"]["imposeRiskAction"]
    assert payload["errors"] == [], payload
    restriction_id: str = payload["restriction"]["id"]
    return restriction_id


async def lift(gql: Any, desk: str, restriction_id: str) -> int:
    """The risk desk lifts it (liftRiskAction, which lets held withdrawals go on); how many it released."""
    body = await gql(LIFT, {"input": {"actionId": restriction_id, "reason": "test: lifted"}}, token=desk)
    payload = body["data"]["liftRiskAction"]
    assert payload["errors"] == [], payload
    released: int = payload["releasedWithdrawals"]
    return released


async def add_rule(
    rt: Any, code: str, kind: str, params: dict[str, Any], actions_: list[dict[str, Any]], points: int = 10
) -> None:
    """A rule for every brand, through the rule editor's service (what createRiskRule runs)."""
    from authz.subjects import SYSTEM
    from services.risk import rule_admin

    await rule_admin.create_rule(
        rt,
        SYSTEM,
        code=code,
        name=code,
        kind=rules.RuleKind(kind),
        params=params,
        points=points,
        actions=actions_,
        reason="what this test is about",
    )


async def disable_rule(rt: Any, code: str) -> None:
    """A rule a test is not about, disabled through the rule editor's service (tests/risk/desk.py `quiet`)."""
    await quiet(rt, code)


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
