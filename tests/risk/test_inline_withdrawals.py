"""Risk at the withdrawal, through GraphQL: a hold in force (hold_withdrawals, block_account) lets the request
through with its money held but never approved, automatically or by finance (RISK_HOLD), until risk lifts it;
deposit-withdraw cycling and a high score hold this very withdrawal."""

from __future__ import annotations

from typing import Any

from tests.cashier.conftest import balances
from tests.conftest import fund
from tests.kyc.conftest import payment_status
from tests.risk.inline_support import (
    APPROVE,
    WITHDRAW,
    add_rule,
    desk_fixture,  # noqa: F401  (fixture)
    disable_rule,
    impose,
    in_force,
    lift,
    open_flags,
    payment_uuid,
    score_items,
)


async def withdraw(gql: Any, player: Any, amount: str) -> dict[str, Any]:
    body = await gql(WITHDRAW, {"input": {"amount": amount, "currency": "EUR", "method": "CARD"}}, token=player.token)
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["requestWithdrawal"]
    assert payload["errors"] == [], payload
    return payload


async def test_a_hold_keeps_a_small_withdrawal_from_approval_until_risk_lifts_it(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    action = await impose(gql, desk, player, "hold_withdrawals")
    requested = await withdraw(gql, player, "10.00")
    assert requested["payment"]["status"] == "REQUESTED"  # below the threshold, yet not approved
    assert await balances(rt, player.uuid) == (4000, 1000)  # the money is held as usual
    finance = await make_staff("finance")
    body = await gql(APPROVE, {"input": {"paymentId": requested["payment"]["id"]}}, token=finance.token)
    assert [e["code"] for e in body["data"]["approveWithdrawal"]["errors"]] == ["RISK_HOLD"]

    await lift(gql, desk, action)  # risk lifts it; after_risk_lift decides as for a new request
    assert await payment_status(rt, payment_uuid(requested["payment"]["id"])) == "paid"


async def test_a_blocked_account_still_withdraws_but_waits_for_risk(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    action = await impose(gql, desk, player, "block_account")
    requested = await withdraw(gql, player, "10.00")
    assert requested["payment"]["status"] == "REQUESTED"
    await impose(gql, desk, player, "hold_withdrawals")
    await lift(gql, desk, action)  # another hold still in force: nothing is approved
    assert await payment_status(rt, payment_uuid(requested["payment"]["id"])) == "requested"


async def test_withdrawing_deposits_barely_wagered_holds_this_withdrawal(
    rt: Any, gql: Any, psp: Any, make_player: Any, card_deposit: Any
) -> None:
    player = await make_player()
    await card_deposit(player, "50.00")
    requested = await withdraw(gql, player, "45.00")  # 90% of the deposits, nothing wagered
    assert requested["payment"]["status"] == "REQUESTED"
    restrictions = await in_force(rt, player)
    assert restrictions.withdrawals_held
    assert await open_flags(rt, player) == ["deposit-withdraw-cycling"]
    item = (await score_items(rt, player))["deposit-withdraw-cycling"]
    assert item.reason == "withdrawing 90% of 7 days' deposits after wagering 0% of them"


async def test_a_withdrawal_of_little_of_the_deposits_is_not_cycling(
    rt: Any, gql: Any, psp: Any, make_player: Any, card_deposit: Any
) -> None:
    player = await make_player()
    await card_deposit(player, "50.00")
    requested = await withdraw(gql, player, "20.00")  # 40%: below withdrawn_percent (80)
    assert requested["payment"]["status"] in ("APPROVED", "PROCESSING", "PAID")
    assert await score_items(rt, player) == {}


async def test_a_high_score_holds_withdrawals(rt: Any, gql: Any, psp: Any, make_player: Any) -> None:
    await disable_rule(rt, "deposit-withdraw-cycling")
    await add_rule(
        rt,
        "big-score",
        "velocity",
        {"occasion": "withdrawal", "by": "player", "count": 2, "minutes": 60},
        [],
        points=60,
    )
    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    first = await withdraw(gql, player, "5.00")
    assert first["payment"]["status"] != "REQUESTED"  # score 0: approved automatically
    second = await withdraw(gql, player, "5.00")  # 2 withdrawals: 60 points, but the score was read before
    assert second["payment"]["status"] != "REQUESTED"
    third = await withdraw(gql, player, "5.00")  # the score (60) is at the default high-score-withdrawal's 60
    assert third["payment"]["status"] == "REQUESTED"
    assert (await in_force(rt, player)).withdrawals_held
    assert set(await score_items(rt, player)) == {"big-score", "high-score-withdrawal"}


async def test_an_aml_lift_leaves_a_withdrawal_risk_holds_for_risk(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    from services.cashier.withdrawals import after_aml_lift

    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    await impose(gql, desk, player, "hold_withdrawals")
    requested = await withdraw(gql, player, "10.00")
    assert await after_aml_lift(rt, player.uuid) == []  # what an AML lift calls: the risk hold still holds
    assert await payment_status(rt, payment_uuid(requested["payment"]["id"])) == "requested"


async def test_a_withdrawal_no_rule_fires_on_adds_one_statement(rt: Any, gql: Any, psp: Any, make_player: Any) -> None:
    from tests.conftest import recorded_statements

    player = await make_player()
    await fund(rt, player, "50.00 EUR")
    with recorded_statements(rt) as statements:
        requested = await withdraw(gql, player, "10.00")
    assert requested["payment"]["status"] != "REQUESTED"  # approved automatically: risk had nothing to say
    risk = [s for s in statements if "risk_rules" in s or "risk_actions" in s or "risk_score_items" in s]
    # The decision's statement (the automatic approval reuses its restrictions), and the payout step's last look
    # in its own transaction (services/cashier/payout_checks.py: the account may have changed since).
    assert len(risk) == 2, risk
