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
from tests.cashier.conftest import DECLINED_CARD, DemoPsp, assert_ledger_ok, attempts, balances, player_viewer

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
    # A card no range holds has no known country: the country rule cannot decide, and fails closed by default.
    other = await psp.tokenise("5555 5555 5555 4444")
    refused = await card(gql, player, other, "10.00")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CARD_BIN_UNKNOWN", "pspToken")]
    await configure(gql, make_staff, SAVE_BIN, {"name": "no-gb", "country": "GB", "block": True, "onUnknown": "ALLOW"})
    assert (await card(gql, player, other, "10.00"))["payment"]["status"] == "SUCCEEDED"
    bad = await gql(
        SAVE_BIN,
        {"input": {"name": "half", "binFrom": "4000", "binTo": "400099", "reason": "x"}},
        token=(await make_staff(("finance", None))).token,
    )
    assert [e["field"] for e in bad["data"]["saveRoutingBinRule"]["errors"]] == ["binFrom"]
    await assert_ledger_ok(rt)


BIN_RULES = """{ routingVersion { binRules { name block onUnknown } } }"""
PREVIEW = """query($input: RoutingPreviewInput!) { routingPreview(input: $input) {
  cardBlockedBy cardUnknownBy cardUnknownOutcome } }"""


async def test_a_bin_rule_says_as_data_what_a_card_it_cannot_decide_on_gets(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any, brand: Any
) -> None:
    from models.outbox import OutboxEvent
    from services.cashier import risk_holds
    from tests.cashier.conftest import staff_viewer

    finance = await make_staff(("finance", None))
    test_range = {"name": "test-range", "binFrom": "400000", "binTo": "400099", "block": True}
    await configure(gql, make_staff, SAVE_BIN, test_range, {"name": "visa-gb", "binFrom": "424242", "binTo": "424299"})
    rules = (await gql(BIN_RULES, token=finance.token))["data"]["routingVersion"]["binRules"]
    assert [(r["name"], r["onUnknown"]) for r in rules] == [("test-range", "REFUSE"), ("visa-gb", "ALLOW")]
    player = await make_player()
    lost = "tok_the_vault_never_issued"  # the vault's lookup fails: the card's BIN is unknown

    # Fail closed (the default for a rule that blocks): refused before any PSP, nothing kept.
    refused = await card(gql, player, lost, "10.00")
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [("CARD_BIN_UNKNOWN", "pspToken")]
    assert await payments_of(rt, player) == 0
    # A card whose BIN the vault gives, outside the range, is decided: it goes on.
    assert (await card(gql, player, await psp.tokenise(), "10.00"))["payment"]["status"] == "SUCCEEDED"

    # Review: held for the risk desk, no PSP asked; released, it is not held again for the same rule.
    await configure(gql, make_staff, SAVE_BIN, {**test_range, "onUnknown": "REVIEW"})
    held = await card(gql, player, lost, "10.00")
    assert (held["errors"], held["payment"]["status"]) == ([], "HELD")
    async with rt.database.session() as db:
        event = (
            await db.scalars(
                select(OutboxEvent)
                .where(OutboxEvent.topic == "payment.held")  # type: ignore[arg-type]
                .order_by(OutboxEvent.id.desc())  # type: ignore[union-attr]
            )
        ).first()
        [payment] = (await db.scalars(select(Payment).where(Payment.status == "held"))).all()  # type: ignore[arg-type]
    assert event is not None
    assert event.payload["reason"] == "bin_rule: test-range"
    assert await attempts(rt, payment.id) == []  # no PSP asked
    released = await risk_holds.release_deposit(
        rt,
        staff_viewer(await make_staff("risk_analyst"), brand, "risk_analyst"),
        payment_id=payment.id,
        reason="checked card",
    )
    assert released.status == "failed"  # sent to the PSP, which knows no such token
    assert len(await attempts(rt, payment.id)) == 1

    # Fail open: the BIN rules let it through to the PSP.
    await configure(gql, make_staff, SAVE_BIN, {**test_range, "onUnknown": "ALLOW"})
    passed = await card(gql, player, lost, "10.00")
    assert passed["payment"]["status"] == "FAILED", passed  # declined by the PSP, not by a BIN rule
    assert not [e for e in passed["errors"] if e["code"].startswith("CARD_BIN")]

    # The preview says what a card deposit with no BIN meets; a rule that blocks nothing cannot refuse.
    await configure(gql, make_staff, SAVE_BIN, test_range)
    given = {"kind": "DEPOSIT", "method": "CARD", "country": "MT", "amount": "10.00", "currency": "EUR"}
    preview = (await gql(PREVIEW, {"input": given}, token=finance.token))["data"]["routingPreview"]
    assert preview == {"cardBlockedBy": None, "cardUnknownBy": "test-range", "cardUnknownOutcome": "REFUSE"}
    preview = (await gql(PREVIEW, {"input": {**given, "cardBin": "42424242"}}, token=finance.token))["data"]
    assert preview["routingPreview"]["cardUnknownBy"] is None
    bad = await gql(
        SAVE_BIN,
        {"input": {"name": "gb", "binFrom": "510000", "binTo": "510099", "onUnknown": "REVIEW", "reason": "x"}},
        token=finance.token,
    )
    assert [e["field"] for e in bad["data"]["saveRoutingBinRule"]["errors"]] == ["onUnknown"]
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
