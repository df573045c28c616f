"""Risk at the deposit, through GraphQL and the demo PSP: a blocked account is refused, a rule holds the deposit
(no PSP asked) until the risk desk releases or declines it, `route_3ds` challenges the card, `route_psps` keeps the
cascade to the PSPs named; a retried held deposit is one payment, one hold; the inline evaluation costs one
statement when nothing fires."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import func, select, text

from models.payments import Payment
from tests.cashier.conftest import assert_ledger_ok, attempts, balances
from tests.conftest import recorded_statements
from tests.risk.inline_support import (
    DECLINE,
    DEPOSIT,
    RELEASE,
    add_rule,
    desk_fixture,  # noqa: F401  (fixture)
    give_score,
    impose,
    lift,
    open_flags,
    payment_uuid,
    score_items,
    topics,
)
from tests.test_authz import ROLES, role_set, shared_authorizer, staff_holding

# The second deposit within 10 minutes is held (the defaults hold the fifth; fewer deposits keep tests short).
HOLD_SECOND = {"occasion": "deposit", "by": "player", "count": 2, "minutes": 10}


async def deposit(gql: Any, psp: Any, player: Any, amount: str = "20.00", **extra: Any) -> dict[str, Any]:
    given = {"amount": amount, "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise(), **extra}
    body = await gql(DEPOSIT, {"input": given}, token=player.token)
    assert not body.get("errors"), body
    payload: dict[str, Any] = body["data"]["deposit"]
    return payload


async def payments_of(rt: Any, player: Any) -> int:
    async with rt.database.session() as db:
        return int(await db.scalar(select(func.count()).select_from(Payment).where(Payment.player_id == player.uuid)))


async def test_a_blocked_account_cannot_deposit_and_nothing_is_written(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    await impose(gql, desk, player, "block_account")
    refused = await deposit(gql, psp, player)
    assert refused["payment"] is None
    assert [e["code"] for e in refused["errors"]] == ["RISK_RESTRICTED"]
    assert await payments_of(rt, player) == 0
    assert await psp.transactions() == []


async def test_a_held_deposit_asks_no_psp_until_the_risk_desk_releases_it(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}, {"kind": "flag_review"}])
    player = await make_player()
    first = await deposit(gql, psp, player)
    assert first["payment"]["status"] == "SUCCEEDED"
    held = await deposit(gql, psp, player, amount="30.00")
    assert held["errors"] == []
    assert (held["payment"]["status"], held["payment"]["psp"]) == ("HELD", None)
    payment_id = payment_uuid(held["payment"]["id"])
    assert await attempts(rt, payment_id) == []
    assert len(await psp.transactions()) == 1  # only the first deposit's
    assert await balances(rt, player.uuid) == (2000, 0)  # the ledger is untouched by the held one
    assert "payment.held" in await topics(rt, f"player:{player.uuid}")
    assert await open_flags(rt, player) == ["hold-second"]
    assert (await score_items(rt, player))["hold-second"].reason == "2 deposits by this player in 10 minutes"

    finance = await make_staff("finance")
    body = await gql(
        RELEASE, {"input": {"paymentId": held["payment"]["id"], "reason": "known player"}}, token=finance.token
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]  # the risk desk's, not finance's
    analyst = await make_staff("risk_analyst")
    short = await gql(RELEASE, {"input": {"paymentId": held["payment"]["id"], "reason": ""}}, token=analyst.token)
    assert [e["field"] for e in short["data"]["releaseHeldDeposit"]["errors"]] == ["reason"]
    body = await gql(
        RELEASE, {"input": {"paymentId": held["payment"]["id"], "reason": "known player"}}, token=analyst.token
    )
    released = body["data"]["releaseHeldDeposit"]
    assert released["errors"] == []
    assert released["payment"]["status"] == "SUCCEEDED"
    assert await balances(rt, player.uuid) == (5000, 0)
    again = await gql(RELEASE, {"input": {"paymentId": held["payment"]["id"], "reason": "twice"}}, token=analyst.token)
    assert [e["code"] for e in again["data"]["releaseHeldDeposit"]["errors"]] == ["INVALID_STATE"]
    async with rt.database.session() as db:
        audited = await db.scalar(
            text("SELECT reason FROM audit_log WHERE action = 'risk.deposit_released' AND target_id = :id"),
            {"id": str(payment_id)},
        )
    assert audited == "known player"
    await assert_ledger_ok(rt)


async def test_a_declined_held_deposit_fails_and_releases_the_offer_claimed_with_it(
    rt: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    from tests.bonuses.conftest import bonus_row, rules

    await campaign("DEPOSIT_MATCH", rules(match_percent=100), code="MATCH100")
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player()
    await deposit(gql, psp, player)
    held = await deposit(gql, psp, player, bonusCode="MATCH100")
    assert held["payment"]["status"] == "HELD"
    bonus = await bonus_row(rt, player.uuid)
    assert (bonus.status, bonus.payment_id) == ("issued", payment_uuid(held["payment"]["id"]))  # waits

    analyst = await make_staff("risk_analyst")
    body = await gql(DECLINE, {"input": {"paymentId": held["payment"]["id"], "reason": "mule"}}, token=analyst.token)
    declined = body["data"]["declineHeldDeposit"]
    assert declined["errors"] == []
    assert (declined["payment"]["status"], declined["payment"]["failureCode"]) == ("FAILED", "RISK_DECLINED")
    assert (await bonus_row(rt, player.uuid)).status == "released"
    assert len(await psp.transactions()) == 1
    assert await balances(rt, player.uuid) == (2000, 0)


async def test_a_retried_held_deposit_is_one_payment_and_one_hold(
    rt: Any, gql: Any, psp: Any, make_player: Any
) -> None:
    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}, {"kind": "flag_review"}])
    player = await make_player()
    await deposit(gql, psp, player)
    token = await psp.tokenise()
    given = {"amount": "25.00", "currency": "EUR", "method": "CARD", "pspToken": token, "idempotencyKey": "hold-1"}
    bodies = await asyncio.gather(
        *(gql(DEPOSIT, {"input": given}, token=player.token) for _ in range(3)), return_exceptions=False
    )
    ids = {b["data"]["deposit"]["payment"]["id"] for b in bodies if b["data"]["deposit"]["payment"]}
    assert len(ids) == 1, bodies
    assert {b["data"]["deposit"]["payment"]["status"] for b in bodies} == {"HELD"}
    retried = await gql(DEPOSIT, {"input": given}, token=player.token)
    assert retried["data"]["deposit"]["payment"]["id"] in ids
    assert await payments_of(rt, player) == 2
    assert (await topics(rt, f"player:{player.uuid}")).count("payment.held") == 1
    assert (await score_items(rt, player))["hold-second"].hits == 1
    assert len(await psp.transactions()) == 1


async def test_route_3ds_challenges_the_card_through_a_psp_that_can_force_it(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    nordic = await make_player(country="SE")
    plain = await deposit(gql, psp, nordic)  # Nordic cards: swiftpay first, no challenge for this card
    assert (plain["payment"]["status"], plain["payment"]["psp"]) == ("SUCCEEDED", "swiftpay")
    await impose(gql, desk, nordic, "route_3ds")
    challenged = await deposit(gql, psp, nordic)
    payment = challenged["payment"]
    # Only cardpay can be told to challenge: swiftpay is left out of the cascade.
    assert (payment["status"], payment["psp"]) == ("PENDING", "cardpay"), challenged
    assert "/3ds/" in payment["redirectUrl"]
    [attempt] = await attempts(rt, payment_uuid(payment["id"]))
    assert attempt.request_summary["three_ds"] == "forced"


async def test_route_psps_keeps_the_cascade_to_the_psps_named(
    rt: Any, gql: Any, psp: Any, make_player: Any, desk: str
) -> None:
    player = await make_player()
    assert (await deposit(gql, psp, player))["payment"]["psp"] == "cardpay"  # the default route for MT cards
    action = await impose(gql, desk, player, "route_psps", psps=["swiftpay"])
    routed = await deposit(gql, psp, player)
    assert (routed["payment"]["status"], routed["payment"]["psp"]) == ("SUCCEEDED", "swiftpay")
    await lift(gql, desk, action)
    await impose(gql, desk, player, "route_psps", psps=["bankwire"])  # no card PSP left
    none_left = await deposit(gql, psp, player)
    assert none_left["payment"]["status"] == "FAILED"
    assert [e["code"] for e in none_left["errors"]] == ["PAYMENT_UNAVAILABLE"]


async def test_a_deposit_no_rule_fires_on_adds_one_statement(rt: Any, gql: Any, psp: Any, make_player: Any) -> None:
    from services import cashier
    from tests.cashier.conftest import player_viewer

    player = await make_player()
    token = await psp.tokenise()
    async with rt.database.session() as db:
        from models.brands import Brand

        brand = (await db.scalars(select(Brand).where(Brand.code == "royal"))).one()
    with recorded_statements(rt) as statements:
        payment = await cashier.deposit(
            rt, player_viewer(player, brand), amount="20.00", currency="EUR", method="card", psp_token=token
        )
    assert payment.status == "succeeded"
    risk = [s for s in statements if "risk_rules" in s or "risk_actions" in s or "risk_score_items" in s]
    assert len(risk) == 1, risk  # the decision's one statement: restrictions, rules and their counts


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("anonymous", "player")])
async def test_held_deposit_decisions_follow_the_policy(
    role: str, rt: Any, settings: Any, gql: Any, psp: Any, make_player: Any, make_staff: Any
) -> None:
    """Role x mutation: only the risk desk (risk analysts, brand admins, superadmins) releases or declines."""

    authorizer = shared_authorizer(settings)
    roles, brand = role_set(role)
    desk = role in ("risk_analyst", "brand_admin", "superadmin")
    for mutation in ("Mutation.releaseHeldDeposit", "Mutation.declineHeldDeposit"):
        assert any(authorizer.enforce(r, brand, mutation) for r in roles) == desk, (role, mutation)

    await add_rule(rt, "hold-second", "velocity", HOLD_SECOND, [{"kind": "hold_deposit"}])
    player = await make_player()
    await deposit(gql, psp, player)
    held = await deposit(gql, psp, player)
    staff = await make_staff(("superadmin", None)) if role == "superadmin" else await staff_holding(make_staff, role)
    body = await gql(DECLINE, {"input": {"paymentId": held["payment"]["id"], "reason": "checked"}}, token=staff.token)
    if desk:
        assert body["data"]["declineHeldDeposit"]["payment"]["status"] == "FAILED", body
    else:
        assert body["data"] is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]


async def test_a_high_score_at_a_deposit_holds_it(rt: Any, gql: Any, psp: Any, make_player: Any) -> None:
    await add_rule(
        rt, "deposit-score", "score_at_least", {"occasion": "deposit", "score": 40}, [{"kind": "hold_deposit"}], 0
    )
    player = await make_player()
    assert (await deposit(gql, psp, player))["payment"]["status"] == "SUCCEEDED"
    await give_score(rt, player, "chargeback-history")  # 40 points (and route_3ds: cardpay challenges the card)
    held = await deposit(gql, psp, player)
    assert held["payment"]["status"] == "HELD"
    assert (await score_items(rt, player))["deposit-score"].reason == "risk score 40 (at least 40) at a deposit"
