"""The reports through GraphQL: the figures of real play and payments after the `reports` consumer ran,
each role seeing the fields its Casbin lines allow (finance every figure, marketing the audience figures
and none of the books' money, support and players no report at all), and bad ranges refused with a
structured error."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from tests.conftest import error_codes, recorded_statements
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, seated

FIGURES = """query($start: Date!, $end: Date!, $currency: String) {
  reportFigures(start: $start, end: $end, reportingCurrency: $currency) {
    start end
    byCurrency { currency turnover { amount } ggr { amount } ngr { amount } hold deposits { amount }
                 depositCount withdrawals { amount } ftdCount activePlayers payingPlayers arppu { amount } }
    converted { currency ggr { amount } }
  }
}"""
AUDIENCE = """query($start: Date!, $end: Date!) {
  reportRegistrations(start: $start, end: $end) { registrations depositors conversion ftdCount }
  reportRetention(start: $start, end: $end, asOf: $end) { size retention { day eligible retained rate } }
  reportLifetimeValue(start: $start, end: $end, asOf: $end, period: DAY) { size ngr { amount currency } }
}"""
GAMES = """query($start: Date!, $end: Date!) {
  reportGames(start: $start, end: $end) { provider game turnover { amount } ggr { amount } betCount }
}"""
BOOKS = ("turnover", "ggr", "ngr", "hold", "deposits", "withdrawals")
AUDIENCE_FIGURES = ("currency", "depositCount", "ftdCount", "activePlayers", "payingPlayers", "arppu")


@pytest.fixture
async def played(
    rt: Any, reports: Reports, make_player: Any, card_deposit: Any, hub88_provider: Any, aggregator: Aggregator
) -> str:
    """Two players deposit, one plays (stake 10, win 4): today's figures, drained into the projections."""
    alice, bob = await make_player(), await make_player()
    await card_deposit(alice, "100.00")
    await card_deposit(bob, "40.00")
    await play(aggregator, await seated(rt, hub88_provider, alice), 10 * EUR, 4 * EUR, round_ref="r-1")
    await reports.drain()
    return clock.now().date().isoformat()


@pytest.mark.parametrize("role", ["finance", "brand_admin"])
async def test_finance_reads_every_figure_of_the_day(role: str, gql: Any, make_staff: Any, played: str) -> None:
    finance = await make_staff(role)
    body = await gql(FIGURES, {"start": played, "end": played, "currency": "EUR"}, token=finance.token)
    assert "errors" not in body, body
    [day] = body["data"]["reportFigures"]
    [eur] = day["byCurrency"]
    assert eur == {
        "currency": "EUR",
        "turnover": {"amount": "10.00"},
        "ggr": {"amount": "6.00"},
        "ngr": {"amount": "6.00"},
        "hold": "0.6000",
        "deposits": {"amount": "140.00"},
        "depositCount": 2,
        "withdrawals": {"amount": "0.00"},
        "ftdCount": 2,
        "activePlayers": 1,
        "payingPlayers": 2,
        "arppu": {"amount": "3.00"},
    }
    assert day["converted"] == {"currency": "EUR", "ggr": {"amount": "6.00"}}
    games = await gql(GAMES, {"start": played, "end": played}, token=finance.token)
    [game] = games["data"]["reportGames"]
    assert (game["turnover"], game["ggr"], game["betCount"]) == ({"amount": "10.00"}, {"amount": "6.00"}, 1)
    audience = await gql(AUDIENCE, {"start": played, "end": played}, token=finance.token)
    assert audience["data"]["reportRegistrations"] == [
        {"registrations": 2, "depositors": 2, "conversion": "1.0000", "ftdCount": 2}
    ]


async def test_marketing_reads_the_audience_but_not_the_books(gql: Any, make_staff: Any, played: str) -> None:
    marketing = await make_staff("marketing")
    assert (await gql("{ reportingCurrency }", token=marketing.token))["data"] == {"reportingCurrency": "EUR"}
    body = await gql(FIGURES, {"start": played, "end": played}, token=marketing.token)
    [eur] = body["data"]["reportFigures"][0]["byCurrency"]
    assert {name: eur[name] for name in AUDIENCE_FIGURES} == {
        "currency": "EUR",
        "depositCount": 2,
        "ftdCount": 2,
        "activePlayers": 1,
        "payingPlayers": 2,
        "arppu": {"amount": "3.00"},
    }
    assert all(eur[name] is None for name in BOOKS)
    denied = {tuple(e["path"][-1:]) for e in body["errors"]}
    assert denied == {(name,) for name in BOOKS}
    assert set(error_codes(body)) == {"FORBIDDEN"}
    audience = await gql(AUDIENCE, {"start": played, "end": played}, token=marketing.token)
    assert "errors" not in audience, audience
    assert audience["data"]["reportRetention"][0]["size"] == 2
    games = await gql(GAMES, {"start": played, "end": played}, token=marketing.token)
    assert games["data"] == {"reportGames": None}
    assert error_codes(games) == ["FORBIDDEN"]


@pytest.mark.parametrize("role", ["support", "kyc_officer", "player"])
async def test_roles_without_reports_get_none(role: str, gql: Any, make_staff: Any, make_player: Any) -> None:
    token = (await make_player()).token if role == "player" else (await make_staff(role)).token
    day = clock.now().date().isoformat()
    body = await gql(FIGURES, {"start": day, "end": day}, token=token)
    assert body["data"] == {"reportFigures": None}
    assert error_codes(body) == ["FORBIDDEN"]


async def test_a_bad_range_or_a_missing_rate_is_a_structured_error(gql: Any, make_staff: Any, played: str) -> None:
    finance = await make_staff("finance")
    backwards = await gql(FIGURES, {"start": played, "end": "2020-01-01"}, token=finance.token)
    assert error_codes(backwards) == ["BAD_USER_INPUT"]
    assert backwards["errors"][0]["extensions"]["field"] == "end"
    too_long = await gql(FIGURES, {"start": "2000-01-01", "end": played}, token=finance.token)
    assert error_codes(too_long) == ["BAD_USER_INPUT"]
    unknown = await gql(FIGURES, {"start": played, "end": played, "currency": "XXX"}, token=finance.token)
    assert error_codes(unknown) == ["BAD_USER_INPUT"]


async def test_report_statements_do_not_grow_with_the_range(rt: Any, gql: Any, make_staff: Any, played: str) -> None:
    finance = await make_staff("finance")
    counts = []
    for start in (played, "2026-01-01"):
        with recorded_statements(rt) as statements:
            body = await gql(FIGURES, {"start": start, "end": played, "currency": "EUR"}, token=finance.token)
        assert "errors" not in body, body
        counts.append(len([s for s in statements if "report_" in s or "fx_rates" in s]))
    assert counts[0] == counts[1] <= 6, counts


RANGE = """query($start: Date!, $end: Date!, $period: ReportPeriod!) {
  reportFigures(start: $start, end: $end, period: $period) {
    start end byCurrency { turnover { amount } activePlayers payingPlayers } }
  reportRegistrations(start: $start, end: $end, period: $period) { start end registrations }
  reportRetention(start: $start, end: $end, asOf: $end, period: $period) { start end size }
}"""


async def test_the_whole_range_as_one_period_counts_a_player_active_on_two_days_once(
    rt: Any, gql: Any, reports: Reports, make_player: Any, make_staff: Any, hub88_provider: Any, aggregator: Aggregator
) -> None:
    """Alice plays today and tomorrow: two active days, one active player over the range (the tiles of
    the back office's Reports screen), where summing the days would count her twice."""
    alice = await make_player(balance="100.00 EUR")
    first = clock.now().date()
    await play(aggregator, await seated(rt, hub88_provider, alice), 10 * EUR, round_ref="d-1")
    clock.advance(timedelta(days=1))
    await play(aggregator, await seated(rt, hub88_provider, alice), 5 * EUR, round_ref="d-2")
    await reports.drain()
    finance = await make_staff("finance")
    window = {"start": first.isoformat(), "end": (first + timedelta(days=1)).isoformat()}

    by_day = (await gql(RANGE, {**window, "period": "DAY"}, token=finance.token))["data"]
    assert [d["byCurrency"][0]["activePlayers"] for d in by_day["reportFigures"]] == [1, 1]
    body = await gql(RANGE, {**window, "period": "RANGE"}, token=finance.token)
    assert "errors" not in body, body
    assert body["data"]["reportFigures"] == [
        {**window, "byCurrency": [{"turnover": {"amount": "15.00"}, "activePlayers": 1, "payingPlayers": 0}]}
    ]
    assert body["data"]["reportRegistrations"] == [{**window, "registrations": 1}]
    assert body["data"]["reportRetention"] == [{**window, "size": 1}]
