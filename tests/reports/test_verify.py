"""`croupier reports verify`: each day's GGR, bonus cost, deposits and withdrawals per brand and currency
recomputed from the ledger and compared with the projections; clean after real activity, and a
tampered projection row is caught (exit 1)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta
from typing import Any

import pytest

from services import cashier
from services.reports import verify
from tests.cashier.conftest import player_viewer
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, roll_back, seated
from tests.test_startup_and_cli import run_cli


async def some_activity(
    rt: Any, make_player: Any, card_deposit: Any, brand: Any, hub88_provider: Any, aggregator: Aggregator
) -> None:
    player = await make_player()
    await card_deposit(player, "60.00")
    at = await seated(rt, hub88_provider, player)
    await play(aggregator, at, 9 * EUR, 2 * EUR, round_ref="1")
    await roll_back(aggregator, at, await play(aggregator, at, 4 * EUR, round_ref="2"))
    paid = await cashier.request_withdrawal(
        rt, player_viewer(player, brand), amount="10.00", currency="EUR", method="bank_transfer"
    )
    assert paid.status == "paid"


async def reports_verify(*days: str) -> Any:
    return await asyncio.to_thread(run_cli, "reports", "verify", "--from", days[0], "--to", days[-1])


async def test_verify_is_clean_after_real_activity(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
    noon: date,
) -> None:
    await some_activity(rt, make_player, card_deposit, brand, hub88_provider, aggregator)
    await reports.drain()
    today = noon
    done = await reports_verify((today - timedelta(days=1)).isoformat(), today.isoformat())
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"checked 1 day/brand/currency rows from {today - timedelta(days=1)} to {today}: OK" in done.stdout


async def test_verify_says_what_the_consumer_has_not_applied_yet(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
    noon: date,
) -> None:
    await some_activity(rt, make_player, card_deposit, brand, hub88_provider, aggregator)
    today = noon
    async with rt.database.session() as db:
        behind = await verify.verify(db, start=today, end=today)
    assert not behind.ok
    assert {d.figure for d in behind.differences} == {
        "ggr",
        "deposits",
        "deposit_count",
        "withdrawals",
        "withdrawal_count",
    }
    assert behind.unapplied_events > 0
    await reports.drain()
    async with rt.database.session() as db:
        caught_up = await verify.verify(db, start=today, end=today)
    assert (caught_up.ok, caught_up.unapplied_events, caught_up.parked_events) == (True, 0, 0)


@pytest.mark.tampers
async def test_verify_catches_a_tampered_projection_row(
    rt: Any,
    reports: Reports,
    make_player: Any,
    card_deposit: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
    noon: date,
) -> None:
    await some_activity(rt, make_player, card_deposit, brand, hub88_provider, aggregator)
    await reports.drain()
    today = noon.isoformat()
    await reports.conn.execute("UPDATE report_game_days SET wins_cash = wins_cash - 1")
    await reports.conn.execute("UPDATE report_player_days SET deposits = deposits + 500")
    caught = await reports_verify(today)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    lines = caught.stdout.splitlines()
    assert f"{today} royal EUR ggr: ledger 700, game days 701 (off by 1)" in lines
    assert f"{today} royal EUR deposits: ledger 6000, player days 6500 (off by 500)" in lines
    assert lines[-1] == f"checked 1 day/brand/currency rows from {today} to {today}: 2 difference(s)"


async def test_verify_refuses_a_malformed_range(rt: Any, reports: Reports) -> None:
    not_a_day = await reports_verify("2027-02-30")
    assert (not_a_day.returncode, not_a_day.stderr.strip()) == (2, "--from is a day, YYYY-MM-DD (got '2027-02-30')")
    backwards = await asyncio.to_thread(run_cli, "reports", "verify", "--from", "2027-02-02", "--to", "2027-02-01")
    assert (backwards.returncode, backwards.stderr.strip()) == (2, "refused: The range ends before it starts.")
