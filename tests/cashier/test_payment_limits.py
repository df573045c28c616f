"""Payment limits and velocity per method and player, tightened by the risk score, and card BIN rules: refused at
intake with their codes (nothing inserted, no money moved), counted under concurrency."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from core.clock import clock
from core.errors import DomainError
from models.payments import Payment
from services import cashier
from tests.cashier.conftest import DECLINED_CARD, DemoPsp, assert_ledger_ok, balances, player_viewer

DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) {
    payment { id status psp }
    errors { code field message limit { kind period limit { amount currency } resetsAt } }
  }
}"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status } errors { code field } }
}"""
SAVE_RULE = """
mutation($input: SaveRoutingRuleInput!) { saveRoutingRule(input: $input) { version { version } errors { field } } }"""
SAVE_LIMIT = """
mutation($input: SaveRoutingLimitInput!) { saveRoutingLimit(input: $input) { version { version } errors { field } } }"""
SAVE_BIN = """
mutation($input: SaveRoutingBinRuleInput!) {
  saveRoutingBinRule(input: $input) { version { version } errors { field } }
}"""


async def configure(gql: Any, make_staff: Any, mutation: str, *entries: dict[str, Any]) -> None:
    finance = await make_staff(("finance", None))
    for entry in entries:
        body = await gql(mutation, {"input": {"reason": "policy", **entry}}, token=finance.token)
        payload = next(iter(body["data"].values()))
        assert payload["errors"] == [], body


async def card(gql: Any, player: Any, token: str, amount: str) -> dict[str, Any]:
    body = await gql(
        DEPOSIT,
        {"input": {"amount": amount, "currency": "EUR", "method": "CARD", "pspToken": token}},
        token=player.token,
    )
    assert body.get("data"), body
    payload: dict[str, Any] = body["data"]["deposit"]
    return payload


async def payments_of(rt: Any, player: Any) -> int:
    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).where(Payment.player_id == player.uuid)) or 0)


async def test_a_card_deposit_above_the_limit_is_refused_and_nothing_is_kept(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    limit = {"name": "card-eur", "kind": "DEPOSIT", "currency": "EUR", "methods": ["CARD"], "maxAmount": "100"}
    await configure(gql, make_staff, SAVE_LIMIT, limit)
    player = await make_player()
    token = await psp.tokenise()
    refused = await card(gql, player, token, "150.00")
    [error] = refused["errors"]
    assert (error["code"], error["field"]) == ("PAYMENT_LIMIT_EXCEEDED", "amount")
    assert error["limit"]["limit"] == {"amount": "100.00", "currency": "EUR"}
    assert refused["payment"] is None
    assert await payments_of(rt, player) == 0
    assert (await card(gql, player, token, "100.00"))["payment"]["status"] == "SUCCEEDED"
    assert await balances(rt, player.uuid) == (10000, 0)
    await assert_ledger_ok(rt)


async def test_velocity_counts_the_players_payments_in_the_window_and_frees_up_after_it(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    limits = (
        {"name": "two-a-day", "kind": "DEPOSIT", "currency": "EUR", "windowHours": 24, "maxCount": 2},
        {
            "name": "card-total",
            "kind": "DEPOSIT",
            "currency": "EUR",
            "methods": ["CARD"],
            "windowHours": 1,
            "maxTotal": "60",
        },
    )
    await configure(gql, make_staff, SAVE_LIMIT, *limits)
    player, other = await make_player(), await make_player()
    token = await psp.tokenise()
    declined = await card(gql, player, await psp.tokenise(DECLINED_CARD), "10.00")
    assert declined["payment"]["status"] == "FAILED"  # moved no money: not counted
    assert (await card(gql, player, token, "40.00"))["payment"]["status"] == "SUCCEEDED"
    too_much = await card(gql, player, token, "30.00")
    [error] = too_much["errors"]
    assert (error["code"], error["limit"]["kind"], error["limit"]["period"]) == (
        "PAYMENT_VELOCITY_EXCEEDED",
        "payment_total",
        "1h",
    )
    assert "20.00 left" in error["message"]
    assert (await card(gql, other, token, "30.00"))["payment"]["status"] == "SUCCEEDED"  # per player
    clock.advance(timedelta(hours=2))  # the hour's total frees up, the day's count does not (the login expired)
    viewer = player_viewer(player, brand)
    later = await cashier.deposit(rt, viewer, amount="30.00", currency="EUR", method="card", psp_token=token)
    assert later.status == "succeeded"
    with pytest.raises(DomainError) as third:
        await cashier.deposit(rt, viewer, amount="5.00", currency="EUR", method="card", psp_token=token)
    assert third.value.code == "PAYMENT_VELOCITY_EXCEEDED"
    assert third.value.limit is not None
    assert (third.value.limit.kind, third.value.limit.amount) == ("payment_count", 2)
    assert third.value.limit.resets_at is not None
    await assert_ledger_ok(rt)


async def test_concurrent_deposits_are_counted_one_after_the_other(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    limit = {"name": "one-an-hour", "kind": "DEPOSIT", "currency": "EUR", "windowHours": 1, "maxCount": 1}
    await configure(gql, make_staff, SAVE_LIMIT, limit)
    player = await make_player()
    token = await psp.tokenise()

    async def attempt(key: str) -> str:
        try:
            payment = await cashier.deposit(
                rt,
                player_viewer(player, brand),
                amount="10.00",
                currency="EUR",
                method="card",
                psp_token=token,
                idempotency_key=key,
            )
        except DomainError as refusal:
            return str(refusal.code)
        return str(payment.status)

    outcomes = await asyncio.gather(*(attempt(f"k{i}") for i in range(4)))
    assert sorted(outcomes) == ["PAYMENT_VELOCITY_EXCEEDED"] * 3 + ["succeeded"], outcomes
    assert await balances(rt, player.uuid) == (1000, 0)
    assert await payments_of(rt, player) == 1
    await assert_ledger_ok(rt)


async def test_tighter_limits_for_players_with_a_risk_score(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    from tests.risk.desk import hit

    limit = {"name": "risky", "kind": "WITHDRAWAL", "currency": "EUR", "maxAmount": "50", "minRiskScore": 30}
    await configure(gql, make_staff, SAVE_LIMIT, limit)
    calm, risky = await make_player(balance="500.00 EUR"), await make_player(balance="500.00 EUR")
    await hit(rt, risky.uuid, "chargeback-history", "1 chargeback")

    async def withdraw(player: Any) -> dict[str, Any]:
        body = await gql(
            WITHDRAW, {"input": {"amount": "80.00", "currency": "EUR", "method": "BANK_TRANSFER"}}, token=player.token
        )
        payload: dict[str, Any] = body["data"]["requestWithdrawal"]
        return payload

    assert (await withdraw(calm))["errors"] == []
    assert [(e["code"], e["field"]) for e in (await withdraw(risky))["errors"]] == [
        ("PAYMENT_LIMIT_EXCEEDED", "amount")
    ]
    assert await balances(rt, risky.uuid) == (50000, 0)  # nothing held
    await assert_ledger_ok(rt)


async def test_bin_rules_block_a_range_or_an_issuing_country(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    await configure(
        gql,
        make_staff,
        SAVE_BIN,
        {"name": "test-range", "binFrom": "400000", "binTo": "400099", "block": True, "ruleReason": "fraud wave"},
        {"name": "visa-gb", "binFrom": "424242", "binTo": "424242", "country": "GB"},
        {"name": "no-gb", "country": "GB", "block": True},
    )
    player = await make_player()
    for number in ("4242 4242 4242 4242", DECLINED_CARD):  # GB by its range; inside the blocked range
        refused = await card(gql, player, await psp.tokenise(number), "10.00")
        assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CARD_BIN_BLOCKED", "pspToken")]
    assert (await card(gql, player, await psp.tokenise("5555 5555 5555 4444"), "10.00"))["payment"]["status"] == (
        "SUCCEEDED"
    )
    bad = await gql(
        SAVE_BIN,
        {"input": {"name": "half", "binFrom": "4000", "binTo": "400099", "reason": "x"}},
        token=(await make_staff(("finance", None))).token,
    )
    assert [e["field"] for e in bad["data"]["saveRoutingBinRule"]["errors"]] == ["binFrom"]
    await assert_ledger_ok(rt)


async def test_a_released_held_deposit_is_routed_by_its_cards_bin_country(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    from services.cashier import risk_holds
    from tests.cashier.conftest import staff_viewer
    from tests.risk.inline_support import add_rule, payment_uuid
    from tests.risk.test_held_desk import HOLD_SECOND, held_deposit

    await configure(
        gql, make_staff, SAVE_BIN, {"name": "visa-gb", "binFrom": "424242", "binTo": "424242", "country": "GB"}
    )
    rule = {"name": "gb-cards", "psps": ["swiftpay"], "priority": 1, "binCountries": ["GB"]}
    await configure(gql, make_staff, SAVE_RULE, rule)
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player()
    held = payment_uuid(await held_deposit(gql, psp, player))
    analyst = await make_staff("risk_analyst")
    released = await risk_holds.release_deposit(
        rt, staff_viewer(analyst, brand, "risk_analyst"), payment_id=held, reason="known customer"
    )
    assert (released.status, released.psp) == ("succeeded", "swiftpay")
    await assert_ledger_ok(rt)
