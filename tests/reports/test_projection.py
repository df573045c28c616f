"""The report projections built from what really happens: players registered through GraphQL, card
deposits and withdrawals through the cashier and the demo PSP, play through the Hub88 wallet API; then
the `reports` consumer drained, and the rows and KPIs checked to the cent. Every test ends with the
projections verified against the ledger (tests/reports/conftest.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from services import cashier
from services.reports import kpis
from tests.cashier.conftest import player_viewer
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, roll_back, seated


async def test_play_and_payments_project_into_exact_daily_figures(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
    noon: date,
) -> None:
    alice, bob = await make_player(), await make_player()
    await card_deposit(alice, "100.00")
    await card_deposit(bob, "50.00")
    at_the_table = await seated(rt, hub88_provider, alice)
    await play(aggregator, at_the_table, 10 * EUR, 25 * EUR, round_ref="a-1")
    await roll_back(aggregator, at_the_table, await play(aggregator, at_the_table, 5 * EUR, round_ref="a-2"))
    small = await play(aggregator, at_the_table, 2 * EUR, round_ref="a-3")
    win = at_the_table.win(1 * EUR, small["transaction_uuid"], round_ref="a-3")
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"
    await roll_back(aggregator, at_the_table, win)
    await play(aggregator, await seated(rt, hub88_provider, bob), 20 * EUR, round_ref="b-1")
    paid = await cashier.request_withdrawal(
        rt, player_viewer(alice, brand), amount="30.00", currency="EUR", method="bank_transfer"
    )
    assert paid.status == "paid"

    assert await reports.drain() > 0
    today = noon
    [game] = await reports.rows("report_game_days")
    assert (game["brand_id"], game["day"], game["currency"], game["provider"], game["game"]) == (
        brand.id,
        today,
        "EUR",
        "hub88",
        "slot-fortune",
    )
    assert {k: v for k, v in game.items() if isinstance(v, int)} == {
        "stakes_cash": 32_00,  # 10 + 2 + 20; the 5 rolled back
        "stakes_bonus": 0,
        "wins_cash": 25_00,  # the 1.00 win rolled back
        "wins_bonus": 0,
        "bet_count": 4,
        "win_count": 2,
        "rollback_count": 2,
        "stakes_rolled_back": 5_00,
        "wins_rolled_back": 1_00,
    }
    [money] = await reports.rows("report_cashier_days")
    assert {k: v for k, v in money.items() if isinstance(v, int) and v} == {
        "deposits": 150_00,
        "deposit_count": 2,
        "withdrawals": 30_00,
        "withdrawal_count": 1,
        "deposit_attempts": 2,
        "withdrawal_requests": 1,
        "withdrawals_requested": 30_00,
        "ftd_count": 2,  # both deposits were first ones
        "ftd_amount": 150_00,
    }
    days = {row["player_id"]: row for row in await reports.rows("report_player_days")}
    assert {k: days[alice.uuid][k] for k in ("stakes", "wins", "deposits", "withdrawals", "bet_count")} == {
        "stakes": 12_00,
        "wins": 25_00,
        "deposits": 100_00,
        "withdrawals": 30_00,
        "bet_count": 3,
    }
    assert {k: days[bob.uuid][k] for k in ("stakes", "wins", "deposits", "withdrawals", "bet_count")} == {
        "stakes": 20_00,
        "wins": 0,
        "deposits": 50_00,
        "withdrawals": 0,
        "bet_count": 1,
    }
    players = {row["player_id"]: row for row in await reports.rows("report_players")}
    assert {
        (p["registered_on"], p["currency"], p["jurisdiction"], p["first_deposit_on"], p["first_deposit_amount"])
        for p in players.values()
    } == {(today, "EUR", "DEFAULT", today, 100_00), (today, "EUR", "DEFAULT", today, 50_00)}

    async with rt.database.session() as db:
        [period] = await kpis.figures(db, brands=[brand.id], start=today, end=today)
    assert (period.start, period.end, period.converted) == (today, today, None)
    [eur] = period.by_currency
    assert eur == kpis.MoneyFigures(
        currency="EUR",
        turnover=32_00,
        turnover_cash=32_00,
        turnover_bonus=0,
        wins=25_00,
        ggr=7_00,
        bonus_cost=0,
        ngr=7_00,
        hold=Decimal("0.2188"),  # 7 / 32 = 0.21875, to four places half to even
        deposits=150_00,
        deposit_count=2,
        withdrawals=30_00,
        withdrawal_count=1,
        ftd_count=2,
        ftd_amount=150_00,
        chargebacks=0,
        chargeback_count=0,
        payouts_returned=0,
        net_deposits=120_00,  # 150 in, 30 out
        active_players=2,
        paying_players=2,
        arppu=3_50,
    )
