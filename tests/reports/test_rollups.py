"""The rollups the player and cohort KPIs read (services/reports/rollups.py) hold what their definitions
say, recomputed from scratch over the player days and the players: after two weeks of play across a month's
end in two currencies; after a replay; under redelivery; for the events in any order and any batching
(registrations and first deposits arriving after what follows them). The players of any range, by any
period (cut by the range or not), are those of its days, once each; a tampered rollup row is caught by
`reports verify`."""

from __future__ import annotations

import asyncio
import json
import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import text

from core.clock import clock
from core.consumers import STREAM, reset
from services.reports import cohorts, fx, kpis, rollups
from services.reports.periods import Period
from services.reports.projection import TYPES as PROJECTION_TYPES
from tests.conftest import fund
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, roll_back, seated
from tests.test_startup_and_cli import run_cli

MONDAY = date(2027, 5, 31)  # its ISO week runs into June


def on(n: int, hour: int = 10) -> None:
    """Move the platform clock to day `n` of the scenario at `hour`:00 UTC (forwards only)."""
    moment = datetime.combine(day(n), time(hour), UTC)
    assert moment >= clock.now()
    clock.advance(moment - clock.now())


def day(n: int) -> date:
    return MONDAY + timedelta(days=n)


@pytest.fixture
async def two_weeks(rt: Any, make_player: Any, hub88_provider: Any, aggregator: Aggregator) -> dict[str, Any]:
    """p1 and p2 register on Monday 31 May, p3 on 1 June. p1 deposits and plays in euros on the 31st,
    again on 1 June, when they also deposit and play in kronor; a stake of theirs on 2 June is rolled
    back. p2 deposits first on 2 June and plays on the 7th; p3 deposits on 1 June and on the 9th; p1
    plays again on the 8th."""
    on(0)
    p1, p2 = await make_player(), await make_player()
    await fund(rt, p1, "100.00 EUR", deposit=True)
    p1_eur = await seated(rt, hub88_provider, p1)
    await play(aggregator, p1_eur, 10 * EUR, 4 * EUR, round_ref="d0")
    on(1)
    p3 = await make_player()
    await fund(rt, p3, "30.00 EUR", deposit=True)
    await play(aggregator, p1_eur, 5 * EUR, round_ref="d1")
    await fund(rt, p1, "400.00 SEK", deposit=True)
    await play(aggregator, await seated(rt, hub88_provider, p1, "SEK"), 20 * EUR, round_ref="d1-sek")
    on(2)
    await fund(rt, p2, "20.00 EUR", deposit=True)
    await roll_back(aggregator, p1_eur, await play(aggregator, p1_eur, 3 * EUR, round_ref="d2"))
    on(7)
    await play(aggregator, await seated(rt, hub88_provider, p2), 4 * EUR, round_ref="d7")
    on(8)
    await play(aggregator, p1_eur, 1 * EUR, 3 * EUR, round_ref="d8")
    on(9)
    await fund(rt, p3, "10.00 EUR", deposit=True)
    return {"players": (p1, p2, p3)}


def audience(figures: kpis.MoneyFigures | None) -> tuple[int, int] | None:
    return (figures.active_players, figures.paying_players) if figures is not None else None


async def recomputed_differences(rt: Any) -> list[rollups.Mismatch]:
    async with rt.database.session() as db:
        return await rollups.check(db, start=day(-10), end=day(40))


async def test_the_rollups_hold_their_definitions_across_weeks_months_and_currencies(
    rt: Any, reports: Reports, brand: Any, two_weeks: dict[str, Any]
) -> None:
    await reports.drain()
    assert await recomputed_differences(rt) == []
    first_of_june = {
        row["previous"]: (row["active"], row["paying"])
        for row in await reports.rows("report_player_gaps", day=day(1), currency="")
    }
    # p1 played and paid again (last on 31 May); p3 paid for the first time.
    assert first_of_june == {rollups.LONG_AGO: (0, 1), day(0): (1, 1)}
    async with rt.database.transaction() as db:
        await fx.import_rates(db, fx.read_rates_file(fx.SAMPLE_FILE))
    async with rt.database.session() as db:
        may, june = await kpis.figures(
            db,
            brands=None,
            start=date(2027, 5, 1),
            end=date(2027, 6, 30),
            period=Period.MONTH,
            reporting_currency="EUR",
        )
        [both_weeks] = await kpis.figures(
            db, brands=None, start=day(0), end=day(9), period=Period.RANGE, reporting_currency="EUR"
        )
    players = {f.currency: (f.active_players, f.paying_players) for f in june.by_currency}
    assert players == {"EUR": (2, 2), "SEK": (1, 1)}  # p1 and p2 played in euros, p3 and p2 paid in them
    # Across currencies (converted into euros): p1 once.
    assert [audience(f.converted) for f in (may, june, both_weeks)] == [(1, 1), (2, 3), (2, 3)]
    cohort = {
        row["day"]: (row["registered"], row["active"], row["depositors"])
        for row in await reports.rows("report_cohort_days", registered_on=MONDAY)
    }
    assert cohort == {
        day(0): (2, 1, 1),  # p1 and p2 registered; p1 played and deposited first
        day(1): (0, 1, 0),  # p1, in two currencies: once
        day(2): (0, 1, 1),  # p1's stake, rolled back, still counts; p2's first deposit
        day(7): (0, 1, 0),
        day(8): (0, 1, 0),
    }


async def test_the_players_of_any_range_and_period_are_counted_once_each(
    rt: Any, reports: Reports, two_weeks: dict[str, Any]
) -> None:
    """Every range within the fortnight (and a day either side), by day, week, month and as one period:
    the active and paying players of each span and currency, as counted from the player days."""
    await reports.drain()
    rows = await reports.conn.fetch("SELECT player_id, day, currency, bet_count, deposit_count FROM report_player_days")
    checked = 0
    async with rt.database.session() as db:
        for first in range(-1, 11):
            for last in range(first, 11):
                for period in Period:
                    for span in await kpis.figures(db, brands=None, start=day(first), end=day(last), period=period):
                        inside = [r for r in rows if span.start <= r["day"] <= span.end]
                        expected = {
                            currency: (
                                len({r["player_id"] for r in inside if r["currency"] == currency and r["bet_count"]}),
                                len(
                                    {r["player_id"] for r in inside if r["currency"] == currency and r["deposit_count"]}
                                ),
                            )
                            for currency in {r["currency"] for r in inside}
                        }
                        got = {f.currency: (f.active_players, f.paying_players) for f in span.by_currency}
                        assert got == expected, (day(first), day(last), period, span)
                        checked += 1
    assert checked > 500


async def test_retention_on_any_day_and_ltv_agree_with_the_player_days(
    rt: Any, reports: Reports, brand: Any, two_weeks: dict[str, Any]
) -> None:
    """The cohort KPIs read the rollups; the same figures straight from the players and their days."""
    await reports.drain()
    every_day = list(range(1, 12))
    async with rt.database.session() as db:
        [first] = await cohorts.retention(
            db, brands=[brand.id], start=day(0), end=day(1), as_of=day(9), period=Period.WEEK, days=every_day
        )
        [value] = await cohorts.lifetime_value(
            db, brands=None, start=day(0), end=day(1), as_of=day(8), period=Period.WEEK
        )
        scratch = await db.execute(
            text("""
            SELECT n, count(*) FILTER (WHERE p.registered_on + n <= :as_of) AS eligible,
                   count(*) FILTER (WHERE p.registered_on + n <= :as_of AND EXISTS (
                       SELECT 1 FROM report_player_days d WHERE d.player_id = p.player_id
                       AND d.day = p.registered_on + n AND d.bet_count > 0)) AS retained
            FROM report_players p CROSS JOIN unnest(CAST(:days AS integer[])) AS n
            WHERE p.registered_on BETWEEN :start AND :end GROUP BY n ORDER BY n"""),
            {"as_of": day(9), "days": every_day, "start": day(0), "end": day(1)},
        )
        ngr = await db.execute(
            text("""
            SELECT d.currency, sum(d.stakes - d.wins - d.bonus_cost) AS ngr
            FROM report_players p JOIN report_player_days d USING (player_id)
            WHERE p.registered_on BETWEEN :start AND :end AND d.day <= :as_of GROUP BY 1"""),
            {"as_of": day(8), "start": day(0), "end": day(1)},
        )
        by_currency = {row.currency: int(row.ngr) for row in ngr}
    assert [(r.day, r.eligible, r.retained) for r in first.retention] == [
        (int(row.n), int(row.eligible), int(row.retained)) for row in scratch
    ]
    assert [r.retained for r in first.retention] == [1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0]  # p1 on 1, 2, 8; p2 on 7
    assert [r.eligible for r in first.retention][-4:] == [3, 2, 0, 0]  # p3's day 9 (10 June) has not come
    assert first.retention[0].rate == Decimal("0.3333")
    assert (value.size, value.ngr_by_currency) == (3, by_currency)
    assert by_currency == {"EUR": 13_00, "SEK": 20_00}  # 10 - 4 + 5 + 4 + 1 - 3 euros; 20 kronor


async def test_a_replay_and_redelivered_events_keep_the_rollups_exact(
    rt: Any, reports: Reports, two_weeks: dict[str, Any]
) -> None:
    await reports.drain()
    built = await reports.snapshot()
    events = await reports.events()

    # a replay applies the events of the types the projection reads (core/consumers: the others are skipped)
    assert await reports.replay() == len([e for e in events if e.type in PROJECTION_TYPES])
    assert await reports.snapshot() == built

    for event in events:  # through the stream again, as a relay that crashed before marking them published
        envelope = json.dumps(event.envelope())
        await rt.redis.xadd(STREAM, {"id": event.id, "type": event.type, "subject": event.subject, "event": envelope})
    assert await reports.drain() == len(events)
    assert await reports.runner.apply(reports.conn, events) == set()
    assert await reports.snapshot() == built
    assert await recomputed_differences(rt) == []


async def test_events_in_any_order_and_batching_build_the_same_rollups(
    rt: Any, reports: Reports, two_weeks: dict[str, Any]
) -> None:
    """Registrations after the play they preceded, a first deposit after a later one, a player day's bet
    after its deposit: the same rows whatever the order and the batches."""
    await reports.drain()
    built = await reports.snapshot()
    events = await reports.events()
    registered = [e for e in events if e.type == "player.registered"]
    orders = {
        # a first deposit seen after a later one: it moves the FTD (and the cohort's depositor) earlier
        "registrations first, then newest first": (registered + [e for e in events[::-1] if e not in registered], 1),
        **{f"shuffled ({seed})": (random.Random(seed).sample(events, len(events)), size) for seed, size in SHUFFLES},
    }
    for name, (ordered, size) in orders.items():
        await reset(reports.conn, reports.runner.consumer)
        for start in range(0, len(ordered), size):
            assert await reports.runner.apply(reports.conn, ordered[start : start + size]) == set()
        assert await reports.snapshot() == built, name


SHUFFLES = ((1, 1), (2, 3), (3, 7), (4, 40))


async def test_a_range_that_cuts_a_period_counts_the_players_of_its_own_days(
    rt: Any, reports: Reports, brand: Any, two_weeks: dict[str, Any]
) -> None:
    await reports.drain()
    async with rt.database.session() as db:
        from_wednesday = await kpis.figures(db, brands=None, start=day(2), end=day(8), period=Period.WEEK)
        inside_june = await kpis.figures(db, brands=None, start=day(2), end=day(8), period=Period.MONTH)
        whole = await kpis.figures(db, brands=None, start=day(0), end=day(13), period=Period.WEEK)
    head, tail = from_wednesday
    assert ((head.start, head.end), (tail.start, tail.end)) == ((day(2), day(6)), (day(7), day(8)))
    # 2-6 June: p1's stake (rolled back) and p2's deposit; 7-8 June: p2 and p1 played, nobody paid.
    assert [(f.currency, f.active_players, f.paying_players) for f in head.by_currency] == [("EUR", 1, 1)]
    assert [(f.currency, f.active_players, f.paying_players) for f in tail.by_currency] == [("EUR", 2, 0)]
    [june] = inside_june
    assert [(f.currency, f.active_players, f.paying_players) for f in june.by_currency] == [("EUR", 2, 1)]
    first_week = {f.currency: (f.active_players, f.paying_players) for f in whole[0].by_currency}
    assert first_week == {"EUR": (1, 3), "SEK": (1, 1)}  # whole weeks: the rollup


@pytest.mark.tampers
async def test_verify_catches_a_tampered_rollup_row(
    rt: Any, reports: Reports, brand: Any, two_weeks: dict[str, Any]
) -> None:
    await reports.drain()
    await reports.conn.execute("UPDATE report_player_gaps SET active = active + 1 WHERE currency = 'SEK'")
    await reports.conn.execute("UPDATE report_cohort_days SET depositors = 0 WHERE day = $1", day(2))
    caught = await asyncio.to_thread(
        run_cli, "reports", "verify", "--from", day(0).isoformat(), "--to", day(9).isoformat()
    )
    assert caught.returncode == 1, caught.stdout + caught.stderr
    lines = caught.stdout.splitlines()
    assert f"{day(1)} royal SEK active players (none before): player days 1, player gaps 2 (off by 1)" in lines
    assert f"{day(2)} royal - depositors (registered {MONDAY}): players' days 1, cohort days 0 (off by -1)" in lines
    assert lines[-1].endswith(": 2 difference(s)")
