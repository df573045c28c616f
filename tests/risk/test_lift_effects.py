"""What follows a risk restriction's lift, by staff or by its expiry (services/risk/expiry.py): an expired hold
lets the withdrawals it held go on, audited as the system's (reason `expired`); a lifted `require_kyc_level`
withdraws the KYC requirement it raised — and only that one."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from core.clock import clock
from tests.conftest import fund
from tests.kyc.conftest import PLAYER_KYC, payment_status
from tests.risk.desk import audit_trail, events
from tests.risk.inline_support import WITHDRAW, desk_fixture, impose, lift, payment_uuid  # noqa: F401  (fixture)
from tests.test_audit import run_cli

REQUIRE_LEVEL = """mutation($input: KycRequireLevelInput!) { kycRequireLevel(input: $input) {
  kyc { requiredLevel } errors { code message } } }"""


async def _withdraw(gql: Any, player: Any, amount: str) -> dict[str, Any]:
    body = await gql(WITHDRAW, {"input": {"amount": amount, "currency": "EUR", "method": "CARD"}}, token=player.token)
    payment: dict[str, Any] = body["data"]["requestWithdrawal"]["payment"]
    return payment


async def _required_level(gql: Any, token: str, player: Any) -> str:
    body = await gql(PLAYER_KYC, {"id": player.id}, token=token)
    level: str = body["data"]["player"]["kyc"]["requiredLevel"]
    return level


async def test_an_expired_hold_lets_its_withdrawals_go_and_is_audited_as_the_systems(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    expires = (clock.now() + timedelta(seconds=2)).isoformat()
    action = await impose(gql, desk, player, "hold_withdrawals", expiresAt=expires)
    requested = await _withdraw(gql, player, "10.00")
    assert requested["status"] == "REQUESTED"  # held

    await asyncio.sleep(2.2)
    code, output = await run_cli("risk", "expire")  # the server's loop does it every minute

    assert code == 0, output
    assert output.strip().splitlines()[-1] == "1 restriction(s) expired"
    assert await payment_status(rt, payment_uuid(requested["id"])) == "paid"  # before: stuck in requested
    [record] = await audit_trail(rt, "risk.action_lifted")
    assert (record.actor_type, record.actor_id, record.reason) == ("system", None, "expired")
    assert record.before["kind"] == "hold_withdrawals"
    [event] = await events(rt, "risk.action_lifted")
    assert (event["kind"], event["staff_id"], event["expired"]) == ("hold_withdrawals", None, True)
    code, output = await run_cli("risk", "expire")
    assert output.strip().splitlines()[-1] == "0 restriction(s) expired"  # retired once
    del action


async def test_an_expired_action_replaced_by_a_new_one_is_audited_too(
    rt: Any, gql: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    expires = (clock.now() + timedelta(minutes=1)).isoformat()
    await impose(gql, desk, player, "block_bonuses", expiresAt=expires)
    clock.advance(timedelta(minutes=1, seconds=1))
    await impose(gql, desk, player, "block_bonuses")  # retires the expired one in its place
    records = await audit_trail(rt, "risk.action_")
    assert [(r.action, r.actor_type, r.reason) for r in records][1] == ("risk.action_lifted", "system", "expired")


async def test_lifting_require_kyc_level_withdraws_its_requirement_only(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    officer = await make_staff("kyc_officer")
    action = await impose(gql, desk, player, "require_kyc_level", level="address_verified")
    waiting = await _withdraw(gql, player, "10.00")
    assert waiting["status"] == "WAITING_FOR_KYC"
    assert await _required_level(gql, officer.token, player) == "address_verified"

    assert await lift(gql, desk, action) == 1  # the requirement goes: the withdrawal goes on
    assert await _required_level(gql, officer.token, player) == "registered"  # before: still address_verified
    assert await payment_status(rt, payment_uuid(waiting["id"])) == "paid"
    [withdrawn] = await events(rt, "kyc.requirement_withdrawn")
    assert (withdrawn["withdrawn"], withdrawn["details"]) == (["address_verified"], {"signal": "risk.staff"})

    # A requirement from another source (KYC staff) stays when risk lifts its own.
    given = {"playerId": player.id, "level": "identity_verified", "reason": "odd documents"}
    body = await gql(REQUIRE_LEVEL, {"input": given}, token=officer.token)
    assert body["data"]["kycRequireLevel"]["errors"] == [], body
    again = await impose(gql, desk, player, "require_kyc_level", level="address_verified")
    held = await _withdraw(gql, player, "10.00")
    assert held["status"] == "WAITING_FOR_KYC"
    assert await _required_level(gql, officer.token, player) == "address_verified"
    assert await lift(gql, desk, again) == 0
    assert await _required_level(gql, officer.token, player) == "identity_verified"  # KYC's own stays
    assert await payment_status(rt, payment_uuid(held["id"])) == "waiting_for_kyc"


async def test_observations_past_their_retention_are_deleted(rt: Any, make_player: Any) -> None:
    from sqlalchemy import text

    old, recent = await make_player(), await make_player()  # each signed in: a login observation
    async with rt.database.transaction() as db:
        await db.execute(
            text("UPDATE risk_observations SET observed_at = observed_at - interval '401 days' WHERE player_id = :p"),
            {"p": old.uuid},
        )

    code, output = await run_cli("risk", "expire")

    assert code == 0, output
    assert output.strip().splitlines()[-2] == "1 observation(s) past their retention deleted"
    async with rt.database.session() as db:
        left = (await db.execute(text("SELECT player_id FROM risk_observations"))).scalars().all()
    assert set(left) == {recent.uuid}  # 400 days kept (RISK_OBSERVATIONS_KEEP_DAYS)


async def test_a_level_staff_also_require_stays_when_risk_lifts_its_own(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, desk: str
) -> None:
    # One row a player, trigger and level: KYC staff requiring the level risk raised already shares risk's row.
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    officer = await make_staff("kyc_officer")
    action = await impose(gql, desk, player, "require_kyc_level", level="address_verified")
    waiting = await _withdraw(gql, player, "10.00")
    assert waiting["status"] == "WAITING_FOR_KYC"  # risk's requirement recorded
    given = {"playerId": player.id, "level": "address_verified", "reason": "odd documents"}
    body = await gql(REQUIRE_LEVEL, {"input": given}, token=officer.token)
    assert body["data"]["kycRequireLevel"]["errors"] == [], body  # before: "Staff already required this level."

    assert await lift(gql, desk, action) == 0  # staff still require it: nothing goes on
    assert await _required_level(gql, officer.token, player) == "address_verified"  # before: registered
    assert await payment_status(rt, payment_uuid(waiting["id"])) == "waiting_for_kyc"  # before: paid


async def test_an_expired_kyc_action_replaced_by_a_rules_leaves_no_requirement_behind(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, desk: str
) -> None:
    # A rule's require_kyc_level retires the desk's expired one in its place (actions.insert): the requirement
    # the expired one raised (signal risk.staff) goes with it, as the expiry sweep's retirement withdraws it.
    from tests.risk.desk import PLAYER_RISK
    from tests.risk.inline_support import add_rule, disable_rule

    await disable_rule(rt, "deposit-withdraw-cycling")
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    officer = await make_staff("kyc_officer")
    expires = (clock.now() + timedelta(minutes=1)).isoformat()
    await impose(gql, desk, player, "require_kyc_level", level="address_verified", expiresAt=expires)
    first = await _withdraw(gql, player, "10.00")
    assert first["status"] == "WAITING_FOR_KYC"  # the desk's requirement recorded
    clock.advance(timedelta(minutes=1, seconds=1))
    await add_rule(
        rt,
        "kyc-on-withdrawal",
        "velocity",
        {"occasion": "withdrawal", "by": "player", "count": 2, "minutes": 60},
        [{"kind": "require_kyc_level", "level": "identity_verified"}],
    )
    second = await _withdraw(gql, player, "10.00")
    assert second["status"] == "WAITING_FOR_KYC"  # the rule's requirement

    body = await gql(PLAYER_RISK, {"id": player.id}, token=desk)
    [rules] = [r for r in body["data"]["player"]["risk"]["restrictions"] if r["kind"] == "REQUIRE_KYC_LEVEL"]
    assert rules["ruleCode"] == "kyc-on-withdrawal"
    await lift(gql, desk, rules["id"])

    assert await _required_level(gql, officer.token, player) == "registered"  # before: address_verified, orphaned
    assert await payment_status(rt, payment_uuid(first["id"])) == "paid"
