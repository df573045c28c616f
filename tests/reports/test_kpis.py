"""KPIs over weeks, months and registration cohorts, with the clock moved through a month: who
registered when, deposited first when, and played on which day after registering."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.clock import clock
from core.errors import DomainError
from services.reports import cohorts, kpis
from services.reports.periods import Period
from tests.conftest import fund, recorded_statements
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, seated

MARCH_1 = date(2027, 3, 1)  # a Monday


def on(day: date, hour: int = 10) -> None:
    """Move the platform clock to `day` at `hour`:00 UTC (forwards only)."""
    moment = datetime.combine(day, time(hour), UTC)
    assert moment >= clock.now()
    clock.advance(moment - clock.now())


def day(n: int) -> date:
    return MARCH_1 + timedelta(days=n)


@pytest.fixture
async def a_month(rt: Any, make_player: Any, hub88_provider: Any, aggregator: Aggregator) -> dict[str, Any]:
    """Three players registered on 1 March, a fourth on the 9th; first deposits on days 0 and 1; play on
    the registration day, days 1, 7 and 30 after it, and once in April."""
    on(day(0))
    p1, p2, p3 = await make_player(), await make_player(), await make_player()
    await fund(rt, p1, "100.00 EUR", deposit=True)
    await fund(rt, p2, "20.00 EUR", deposit=True)
    at = {p.uuid: await seated(rt, hub88_provider, p) for p in (p1, p2)}
    await play(aggregator, at[p1.uuid], 10 * EUR, round_ref="d0")
    on(day(1))
    await play(aggregator, at[p1.uuid], 5 * EUR, round_ref="d1")
    await fund(rt, p3, "30.00 EUR", deposit=True)
    on(day(7))
    await play(aggregator, at[p2.uuid], 4 * EUR, round_ref="d7")
    on(day(8))
    p4 = await make_player()
    on(day(30))
    await play(aggregator, at[p1.uuid], 1 * EUR, 3 * EUR, round_ref="d30")
    on(day(31))
    await play(aggregator, at[p2.uuid], 2 * EUR, round_ref="d31")
    return {"players": (p1, p2, p3, p4)}


async def test_weeks_and_months_count_players_once_and_money_by_day(
    rt: Any, reports: Reports, brand: Any, a_month: dict[str, Any]
) -> None:
    await reports.drain()
    async with rt.database.session() as db:
        weeks = await kpis.figures(db, brands=[brand.id], start=day(0), end=day(13), period=Period.WEEK)
        months = await kpis.figures(db, brands=None, start=day(0), end=date(2027, 4, 30), period=Period.MONTH)
        days = await kpis.figures(db, brands=[brand.id], start=day(0), end=day(2))
        elsewhere = await kpis.figures(db, brands=[], start=day(0), end=day(13), period=Period.WEEK)
    assert [(w.start, w.end) for w in weeks] == [(day(0), day(6)), (day(7), day(13))]
    first, second = (w.by_currency[0] for w in weeks)
    assert (first.turnover, first.ggr, first.deposits, first.deposit_count) == (15_00, 15_00, 150_00, 3)
    assert (first.ftd_count, first.ftd_amount, first.active_players, first.paying_players) == (3, 150_00, 1, 3)
    assert first.arppu == 5_00  # 15.00 NGR over three paying players
    assert (second.turnover, second.active_players, second.paying_players, second.arppu) == (4_00, 1, 0, None)
    assert [(m.start, m.end) for m in months] == [(day(0), date(2027, 3, 31)), (date(2027, 4, 1), date(2027, 4, 30))]
    march, april = (m.by_currency[0] for m in months)
    assert (march.turnover, march.wins, march.ggr, march.hold) == (20_00, 3_00, 17_00, Decimal("0.8500"))
    assert (march.active_players, april.active_players, april.ggr) == (2, 1, 2_00)  # p1 on 4 days counts once
    assert [d.by_currency[0].active_players for d in days[:2]] == [1, 1]
    assert days[2].by_currency == ()  # nothing happened: no currency row at all
    assert all(w.by_currency == () for w in elsewhere)  # no brand in scope: nothing


async def test_registrations_convert_to_first_deposits_by_cohort(
    rt: Any, reports: Reports, brand: Any, a_month: dict[str, Any]
) -> None:
    await reports.drain()
    async with rt.database.session() as db:
        weeks = await kpis.registrations(db, brands=[brand.id], start=day(0), end=day(13), period=Period.WEEK)
        as_of_day_0 = await kpis.registrations(db, brands=[brand.id], start=day(0), end=day(0), as_of=day(0))
    assert [(w.registrations, w.depositors, w.conversion, w.ftd_count) for w in weeks] == [
        (3, 3, Decimal("1.0000"), 3),
        (1, 0, Decimal("0.0000"), 0),
    ]
    [first_day] = as_of_day_0
    assert (first_day.registrations, first_day.depositors, first_day.conversion) == (3, 2, Decimal("0.6667"))


async def test_retention_counts_each_players_own_day_n_once_it_has_come(
    rt: Any, reports: Reports, brand: Any, a_month: dict[str, Any]
) -> None:
    await reports.drain()
    async with rt.database.session() as db:
        daily = await cohorts.retention(db, brands=[brand.id], start=day(0), end=day(8), as_of=day(30))
        weekly = await cohorts.retention(
            db, brands=[brand.id], start=day(0), end=day(13), as_of=day(30), period=Period.WEEK
        )
    third = Decimal("0.3333")
    march_1 = daily[0]
    assert march_1.size == 3
    assert [(r.day, r.eligible, r.retained, r.rate) for r in march_1.retention] == [
        (1, 3, 1, third),  # p1 on 2 March
        (7, 3, 1, third),  # p2 on 8 March
        (30, 3, 1, third),  # p1 on 31 March
    ]
    assert all(c.size == 0 and all(r.rate is None for r in c.retention) for c in daily[1:8])
    march_9 = daily[8]
    assert [(r.day, r.eligible, r.retained, r.rate) for r in march_9.retention] == [
        (1, 1, 0, Decimal("0.0000")),
        (7, 1, 0, Decimal("0.0000")),
        (30, 0, 0, None),  # 8 April has not come by 31 March
    ]
    assert [(c.start, c.size) for c in weekly] == [(day(0), 3), (day(7), 1)]
    assert weekly[0].retention == march_1.retention


async def test_lifetime_value_is_the_cohorts_ngr_per_registered_player(
    rt: Any, reports: Reports, brand: Any, a_month: dict[str, Any]
) -> None:
    await reports.drain()
    async with rt.database.session() as db:
        [march] = await cohorts.lifetime_value(
            db, brands=[brand.id], start=day(0), end=day(30), as_of=day(30), reporting_currency="EUR"
        )
        [later] = await cohorts.lifetime_value(db, brands=[brand.id], start=day(0), end=day(30), as_of=day(61))
    assert (march.size, march.ngr_by_currency, march.ltv_by_currency) == (4, {"EUR": 17_00}, {"EUR": 4_25})
    assert (march.ngr, march.ltv) == (17_00, 4_25)
    assert (later.ngr_by_currency, later.ltv_by_currency, later.ngr, later.ltv) == (
        {"EUR": 19_00},
        {"EUR": 4_75},
        None,
        None,
    )


async def test_each_kpi_runs_a_fixed_number_of_statements_whatever_the_range(
    rt: Any, reports: Reports, brand: Any, a_month: dict[str, Any]
) -> None:
    await reports.drain()
    from services.reports import fx

    async with rt.database.transaction() as db:
        await fx.import_rates(db, fx.read_rates_file(fx.SAMPLE_FILE))
    calls = {
        "figures by day over two months, converted": lambda db: kpis.figures(
            db, brands=None, start=day(0), end=day(60), reporting_currency="USD"
        ),
        "games, converted": lambda db: kpis.game_figures(
            db, brands=None, start=day(0), end=day(60), reporting_currency="USD"
        ),
        "games": lambda db: kpis.game_figures(db, brands=None, start=day(0), end=day(60)),
        "registrations": lambda db: kpis.registrations(db, brands=None, start=day(0), end=day(60)),
        "retention by day": lambda db: cohorts.retention(db, brands=None, start=day(0), end=day(60), as_of=day(60)),
        "lifetime value, converted": lambda db: cohorts.lifetime_value(
            db, brands=None, start=day(0), end=day(60), as_of=day(60), reporting_currency="USD"
        ),
    }
    counts = {}
    for name, call in calls.items():
        async with rt.database.session() as db:
            with recorded_statements(rt) as statements:
                await call(db)
        counts[name] = len([s for s in statements if not s.startswith(("BEGIN", "COMMIT", "ROLLBACK"))])
    assert counts == {
        "figures by day over two months, converted": 4,  # the play, the cashier days, the players, the rates
        "games, converted": 2,
        "games": 1,
        "registrations": 2,
        "retention by day": 1,
        "lifetime value, converted": 3,
    }
    async with rt.database.session() as db:
        [game] = await kpis.game_figures(db, brands=[brand.id], start=day(0), end=day(60))
    assert (game.provider, game.game, game.currency, game.turnover, game.wins, game.ggr) == (
        "hub88",
        "slot-fortune",
        "EUR",
        22_00,
        3_00,
        19_00,
    )
    assert (game.bet_count, game.win_count, game.rollback_count) == (5, 1, 0)


async def test_a_range_that_ends_before_it_starts_or_spans_years_is_refused(rt: Any, reports: Reports) -> None:
    async with rt.database.session() as db:
        with pytest.raises(DomainError) as backwards:
            await kpis.figures(db, brands=None, start=day(1), end=day(0))
        with pytest.raises(DomainError) as too_long:
            await kpis.figures(db, brands=None, start=day(0), end=day(0) + timedelta(days=5 * 366))
        with pytest.raises(DomainError) as unknown:
            await kpis.figures(db, brands=None, start=day(0), end=day(0), reporting_currency="XYZ")
        with pytest.raises(DomainError) as no_days:
            await cohorts.retention(db, brands=None, start=day(0), end=day(0), as_of=day(0), days=[0])
    assert [(e.value.code, e.value.field) for e in (backwards, too_long, unknown, no_days)] == [
        ("INVALID_INPUT", "end"),
        ("INVALID_INPUT", "end"),
        ("UNKNOWN_CURRENCY", "currency"),
        ("INVALID_INPUT", "days"),
    ]
