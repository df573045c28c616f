"""Chargebacks in the report figures: the projection counts what the PSP took back (cash and debt) and
what a won dispute returned, and the KPIs subtract them from the net deposits."""

from __future__ import annotations

from typing import Any

from core.clock import clock
from services.reports import kpis
from tests.cashier.conftest import card_deposit, deliver, held, notice, psp  # noqa: F401  (fixtures)
from tests.conftest import fund
from tests.reports.conftest import Reports


async def _day(rt: Any, brand: Any) -> kpis.MoneyFigures:
    today = clock.now().date()
    async with rt.database.session() as db:
        [period] = await kpis.figures(db, brands=[brand.id], start=today, end=today)
    [eur] = period.by_currency
    return eur


async def test_a_chargeback_and_its_reversal_reach_the_kpis(
    rt: Any,
    reports: Reports,
    held: Any,  # noqa: F811
    card_deposit: Any,  # noqa: F811
    make_player: Any,
    brand: Any,
    client: Any,
) -> None:
    player = await make_player()
    payment = await card_deposit(player, "100.00")
    await fund(rt, player, -7000)  # spent: 30.00 left, so the chargeback books 70.00 as debt
    assert (await deliver(client, await notice(held, payment, rt, "chargeback", id="cb_kpi"))).status_code == 200
    await reports.drain()

    taken = await _day(rt, brand)
    assert (taken.deposits, taken.chargebacks, taken.chargeback_count, taken.net_deposits) == (100_00, 100_00, 1, 0)

    won = await notice(held, payment, rt, "chargeback_reversed", id="cb_kpi")
    assert (await deliver(client, won)).status_code == 200
    await reports.drain()
    reversed_ = await _day(rt, brand)
    assert (reversed_.chargebacks, reversed_.chargeback_count, reversed_.net_deposits) == (0, 1, 100_00)
