"""Limits through the public API: exact boundaries, several at once, races, cooling-off, jurisdictions."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from core.clock import clock
from tests.cashier.conftest import assert_ledger_ok
from tests.rg.conftest import CONFIRM, deposit, my_rg, refresh, seat_for, set_limit, u


async def test_deposit_limit_refuses_at_the_exact_boundary(gql: Any, rt: Any, psp: Any, make_player: Any) -> None:
    player = await make_player()
    set_ = await set_limit(gql, player, "DEPOSIT", "DAY", amount="100.00")
    assert set_["errors"] == []
    assert set_["limit"]["amount"] == {"amount": "100.00"}
    assert (await deposit(gql, player, psp, "60.00"))["payment"]["status"] == "SUCCEEDED"
    assert (await deposit(gql, player, psp, "40.00"))["payment"]["status"] == "SUCCEEDED"  # exactly the limit
    refused = await deposit(gql, player, psp, "0.01")
    assert refused["payment"] is None
    error = refused["errors"][0]
    assert error["code"] == "LIMIT_REACHED"
    assert error["limit"]["kind"] == "deposit"
    assert error["limit"]["period"] == "day"
    assert error["limit"]["limit"] == {"amount": "100.00", "currency": "EUR"}
    assert error["limit"]["resetsAt"] is not None
    rg = await my_rg(gql, player)
    assert rg["limits"][0]["used"] == {"amount": "100.00"}
    assert rg["limits"][0]["remaining"] == {"amount": "0.00"}
    assert rg["activity"][0]["deposited"] == {"amount": "100.00"}
    await assert_ledger_ok(rt)


async def test_the_lowest_of_several_limits_applies(gql: Any, psp: Any, make_player: Any) -> None:
    player = await make_player()
    await set_limit(gql, player, "DEPOSIT", "MONTH", amount="50.00")
    await set_limit(gql, player, "DEPOSIT", "DAY", amount="80.00")  # higher than the monthly one
    assert (await deposit(gql, player, psp, "50.00"))["payment"]["status"] == "SUCCEEDED"
    refused = await deposit(gql, player, psp, "1.00")
    assert refused["errors"][0]["limit"]["period"] == "month"


async def test_concurrent_deposits_never_pass_a_limit_together(gql: Any, rt: Any, psp: Any, make_player: Any) -> None:
    player = await make_player()
    await set_limit(gql, player, "DEPOSIT", "DAY", amount="100.00")
    results = await asyncio.gather(*(deposit(gql, player, psp, "30.00") for _ in range(6)))
    succeeded = [r for r in results if r["payment"] and r["payment"]["status"] == "SUCCEEDED"]
    refused = [r for r in results if r["errors"] and r["errors"][0]["code"] == "LIMIT_REACHED"]
    assert len(succeeded) == 3
    assert len(refused) == 3
    assert (await my_rg(gql, player))["activity"][0]["deposited"] == {"amount": "90.00"}
    await assert_ledger_ok(rt)


async def test_wager_limit_refuses_the_bet_that_would_pass_it(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "WAGER", "DAY", amount="10.00")
    seat = await seat_for(rt, hub88_provider, player)
    assert (await aggregator.call("transaction/bet", seat.bet(u(600))))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(u(400))))["status"] == "RS_OK"  # exactly 10.00
    refused = await aggregator.call("transaction/bet", seat.bet(u(1)))
    assert refused["status"] == "RS_ERROR_LIMIT_REACHED"
    assert refused["balance"] == u(9_000)  # nothing moved
    rg = await my_rg(gql, player)
    assert rg["activity"][0]["wagered"] == {"amount": "10.00"}


async def test_loss_limit_counts_wins_and_rollbacks(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "LOSS", "WEEK", amount="10.00")
    seat = await seat_for(rt, hub88_provider, player)
    first = seat.bet(u(800))
    assert (await aggregator.call("transaction/bet", first))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/win", seat.win(u(300), first["transaction_uuid"])))["status"] == "RS_OK"
    # Net loss 5.00: a 5.00 stake could lose it all and reach exactly 10.00.
    assert (await aggregator.call("transaction/bet", seat.bet(u(500), round_ref="r-2")))["status"] == "RS_OK"
    over = seat.bet(u(1), round_ref="r-3")
    assert (await aggregator.call("transaction/bet", over))["status"] == "RS_ERROR_LIMIT_REACHED"
    # Rolling back the 8.00 stake takes it out of the count: room again.
    undo = seat.rollback(first["transaction_uuid"])
    assert (await aggregator.call("transaction/rollback", undo))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(u(100), round_ref="r-4")))["status"] == "RS_OK"
    rg = await my_rg(gql, player)
    week = next(a for a in rg["activity"] if a["period"] == "WEEK")
    assert week["wagered"] == {"amount": "6.00"}
    assert week["won"] == {"amount": "3.00"}
    assert week["netLoss"] == {"amount": "3.00"}
    await assert_ledger_ok(rt)


async def test_concurrent_bets_never_pass_a_wager_limit(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "WAGER", "DAY", amount="10.00")
    seat = await seat_for(rt, hub88_provider, player)
    answers = await asyncio.gather(
        *(aggregator.call("transaction/bet", seat.bet(u(150), round_ref=f"r-{i}")) for i in range(10))
    )
    statuses = [a["status"] for a in answers]
    assert statuses.count("RS_OK") == 6
    assert statuses.count("RS_ERROR_LIMIT_REACHED") == 4
    rg = await my_rg(gql, player)
    assert rg["activity"][0]["wagered"] == {"amount": "9.00"}
    await assert_ledger_ok(rt)


async def test_a_decrease_applies_at_once_an_increase_waits_and_needs_confirmation(
    gql: Any, make_player: Any, nordic: Any
) -> None:
    player = await make_player(brand_code="nordic", country="GB", currency="GBP")
    await set_limit(gql, player, "DEPOSIT", "DAY", amount="100.00")
    lowered = await set_limit(gql, player, "DEPOSIT", "DAY", amount="50.00")
    assert lowered["limit"]["amount"] == {"amount": "50.00"}
    assert lowered["limit"]["pending"] is None

    raised = await set_limit(gql, player, "DEPOSIT", "DAY", amount="500.00")
    assert raised["errors"] == []
    assert raised["limit"]["amount"] == {"amount": "50.00"}  # still in force
    pending = raised["limit"]["pending"]
    assert pending["confirmable"] is False
    requested = clock.now()
    early = await gql(CONFIRM, {"input": {"kind": "DEPOSIT", "period": "DAY"}}, token=player.token)
    assert early["data"]["confirmLimitChange"]["errors"][0]["code"] == "INVALID_STATE"

    clock.advance(timedelta(hours=23, minutes=59))
    await refresh(gql, player)
    assert (await gql(CONFIRM, {"input": {"kind": "DEPOSIT", "period": "DAY"}}, token=player.token))["data"][
        "confirmLimitChange"
    ]["errors"][0]["code"] == "INVALID_STATE"
    clock.advance(timedelta(minutes=2))
    assert clock.now() - requested >= timedelta(hours=24)
    done = (await gql(CONFIRM, {"input": {"kind": "DEPOSIT", "period": "DAY"}}, token=player.token))["data"][
        "confirmLimitChange"
    ]
    assert done["errors"] == []
    assert done["limit"]["amount"] == {"amount": "500.00"}


async def test_a_decrease_cancels_a_pending_increase(gql: Any, make_player: Any) -> None:
    player = await make_player()
    await set_limit(gql, player, "WAGER", "WEEK", amount="100.00")
    await set_limit(gql, player, "WAGER", "WEEK", amount="200.00")
    lowered = await set_limit(gql, player, "WAGER", "WEEK", amount="80.00")
    assert lowered["limit"]["amount"] == {"amount": "80.00"}
    assert lowered["limit"]["pending"] is None


async def test_removal_waits_out_the_cooling_off(gql: Any, make_player: Any) -> None:
    player = await make_player()
    await set_limit(gql, player, "SESSION_TIME", "DAY", minutes=120)
    removal = await set_limit(gql, player, "SESSION_TIME", "DAY")
    assert removal["limit"]["pending"] is not None
    assert (await my_rg(gql, player))["limits"][0]["pending"]["removal"] is True
    clock.advance(timedelta(hours=24, seconds=1))
    await refresh(gql, player)
    done = (await gql(CONFIRM, {"input": {"kind": "SESSION_TIME", "period": "DAY"}}, token=player.token))["data"][
        "confirmLimitChange"
    ]
    assert done["errors"] == []
    assert (await my_rg(gql, player))["limits"] == []


def _travel_to(moment: datetime) -> None:
    clock.advance(moment - clock.now())


async def test_sweden_waits_72_hours_and_for_the_period_to_end(gql: Any, make_player: Any, nordic: Any) -> None:
    stockholm = ZoneInfo("Europe/Stockholm")
    # Mid-month the period's end is later than 72 hours: the increase waits for it.
    today = clock.now().astimezone(stockholm)
    next_month = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    _travel_to(datetime.combine(next_month.replace(day=10), time(12, 0), stockholm))
    player = await make_player(brand_code="nordic", country="SE", currency="SEK")
    await set_limit(gql, player, "DEPOSIT", "MONTH", amount="1000.00")
    raised = await set_limit(gql, player, "DEPOSIT", "MONTH", amount="2000.00")
    effective = datetime.fromisoformat(raised["limit"]["pending"]["effectiveAt"])
    month_end = datetime.fromisoformat((await my_rg(gql, player))["limits"][0]["resetsAt"])
    assert month_end.astimezone(stockholm) == datetime.combine(
        (next_month + timedelta(days=32)).replace(day=1), time(0, 0), stockholm
    )
    assert effective == month_end
    # A day before the month ends, 72 hours are the later: the increase waits for them.
    _travel_to(month_end - timedelta(days=1))
    player = await make_player(brand_code="nordic", country="SE", currency="SEK")
    await set_limit(gql, player, "DEPOSIT", "MONTH", amount="1000.00")
    before = clock.now()
    raised = await set_limit(gql, player, "DEPOSIT", "MONTH", amount="3000.00")
    effective = datetime.fromisoformat(raised["limit"]["pending"]["effectiveAt"])
    assert before + timedelta(hours=72) <= effective <= clock.now() + timedelta(hours=72)
    # A required limit is not removed while it is the only deposit limit.
    removal = await set_limit(gql, player, "DEPOSIT", "MONTH")
    assert removal["errors"][0]["code"] == "LIMIT_REQUIRED"


async def test_bad_limit_input_gets_structured_errors(gql: Any, make_player: Any) -> None:
    player = await make_player()
    for variables, field in (
        ({"kind": "DEPOSIT", "period": "DAY", "amount": "-5"}, "amount"),
        ({"kind": "DEPOSIT", "period": "DAY", "amount": "1.001"}, "amount"),
        ({"kind": "DEPOSIT", "period": "DAY", "minutes": 30}, "amount"),
        ({"kind": "SESSION_TIME", "period": "DAY", "minutes": 0}, "minutes"),
        ({"kind": "SESSION_TIME", "period": "DAY", "minutes": 24 * 60 + 1}, "minutes"),
        ({"kind": "LOSS", "period": "DAY"}, "amount"),
    ):
        payload = await set_limit(gql, player, **{k.lower(): v for k, v in variables.items()})
        assert payload["errors"], variables
        assert payload["errors"][0]["field"] == field, (variables, payload)
    assert (await my_rg(gql, player))["limits"] == []


async def test_staff_cannot_set_a_players_limits(gql: Any, make_player: Any, make_staff: Any) -> None:
    player = await make_player()
    staff = await make_staff("support")
    body = await gql(
        'mutation { setLimit(input: {kind: DEPOSIT, period: DAY, amount: "5"}) { errors { code } } }', token=staff.token
    )
    assert body.get("errors") or body["data"]["setLimit"]["errors"]
    assert (await my_rg(gql, player))["limits"] == []
    assert uuid.UUID(str(player.uuid))
