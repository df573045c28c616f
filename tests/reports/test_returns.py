"""Regulatory and tax returns as data: a brand licensed for the UK and Sweden files its UK quarterly GGY
by product and its Swedish monthly gaming tax from real play, converted at the day's reference rate;
filing again gives the same bytes (the filed revision), changed figures are refused unless filed as an
amendment, and the database refuses to edit a filed return."""

from __future__ import annotations

import base64
import csv
import io
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from core.clock import clock
from services.reports import fx
from tests.conftest import DATABASE_URL, error_codes
from tests.providers.conftest import Aggregator, Seat, open_session
from tests.reports.conftest import EUR, Reports
from tests.reports.test_projection import play
from tests.rg.conftest import licensed_brand, set_limit
from tests.test_startup_and_cli import run_cli

FILE = """mutation($input: FileRegulatoryReturnInput!) {
  fileRegulatoryReturn(input: $input) {
    regulatoryReturn { template jurisdiction periodStart periodEnd revision sha256 file { contentBase64 } }
    errors { code field message }
  }
}"""
FILED = "{ regulatoryReturns { template revision sha256 } }"


def _lines(content_base64: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(base64.b64decode(content_base64).decode())))


@pytest.fixture
async def last_month(
    rt: Any,
    gql: Any,
    reports: Reports,
    make_player: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
    tmp_path: Path,
) -> dict[str, Any]:
    """Today, in brand `nordic` (UK and SE): a UK player stakes 10 GBP and wins 4; a UK player playing in
    euros stakes 10 EUR (8.50 GBP at today's 0.85); a Swedish player stakes 100 SEK and wins 30. Today's
    rates imported from an ECB-format file. Then the clock moves to the next quarter: this month and this
    quarter have ended, their returns may be filed."""
    await licensed_brand(rt, "nordic", ["UK", "SE"], ["GB", "SE"], ["GBP", "EUR", "SEK"])
    today = clock.now().date()
    rates = tmp_path / "rates.csv"
    rates.write_text(f"Date,GBP,SEK,\n{today},0.85,11.5,\n")
    async with rt.database.transaction() as db:
        await fx.import_rates(db, fx.read_rates_file(rates))
    for country, currency, stake, win in (("GB", "GBP", 10, 4), ("GB", "EUR", 10, None), ("SE", "SEK", 100, 30)):
        player = await make_player(
            brand_code="nordic", country=country, currency=currency, balance=f"500.00 {currency}"
        )
        if country == "SE":  # Sweden: a deposit limit before any play
            assert (await set_limit(gql, player, "DEPOSIT", "MONTH", "1000.00"))["errors"] == []
        token = await open_session(rt, hub88_provider, player.uuid, currency=currency)
        seat = Seat(str(player.uuid), player.uuid, token, currency=currency)
        await play(aggregator, seat, stake * EUR, win * EUR if win else None, round_ref=f"{currency}-1")
    await reports.drain()
    quarter = (today.month - 1) // 3 + 1
    next_quarter = date(today.year + (quarter == 4), 1 if quarter == 4 else 3 * quarter + 1, 2)
    clock.advance(timedelta(days=(next_quarter - today).days))
    return {"month": today.strftime("%Y-%m"), "quarter": f"{today.year}-Q{quarter}", "day": today}


async def test_finance_files_the_uk_and_swedish_returns_from_real_play(
    gql: Any, make_staff: Any, last_month: dict[str, Any]
) -> None:
    finance = await make_staff(("finance", "nordic"))
    uk = await gql(FILE, {"input": {"template": "uk-ggy-quarterly", "period": last_month["quarter"]}},
                   token=finance.token, brand="nordic")  # fmt: skip
    assert uk["data"]["fileRegulatoryReturn"]["errors"] == [], uk
    filed = uk["data"]["fileRegulatoryReturn"]["regulatoryReturn"]
    assert (filed["jurisdiction"], filed["revision"]) == ("UK", 1)
    lines = {line["line"]: line for line in _lines(filed["file"]["contentBase64"])}
    assert set(lines) == {"slot", "total"}
    assert (lines["total"]["currency"], lines["total"]["stakes"], lines["total"]["wins"], lines["total"]["ggy"]) == (
        "GBP", "1850", "400", "1450",
    )  # fmt: skip
    assert lines["total"]["tax"] == ""  # the UK return states GGY; no tax on it
    se = await gql(FILE, {"input": {"template": "se-gaming-tax-monthly", "period": last_month["month"]}},
                   token=finance.token, brand="nordic")  # fmt: skip
    [total] = _lines(se["data"]["fileRegulatoryReturn"]["regulatoryReturn"]["file"]["contentBase64"])
    assert (total["currency"], total["stakes"], total["wins"], total["ggy"]) == ("SEK", "10000", "3000", "7000")
    assert (total["tax_rate"], total["tax"]) == ("0.220000", "1540")  # 22 % of 70.00 SEK

    again = await gql(FILE, {"input": {"template": "uk-ggy-quarterly", "period": last_month["quarter"]}},
                      token=finance.token, brand="nordic")  # fmt: skip
    assert again["data"]["fileRegulatoryReturn"]["regulatoryReturn"]["sha256"] == filed["sha256"]
    assert again["data"]["fileRegulatoryReturn"]["regulatoryReturn"]["revision"] == 1
    listed = await gql(FILED, token=finance.token, brand="nordic")
    assert sorted((r["template"], r["revision"]) for r in listed["data"]["regulatoryReturns"]) == [
        ("se-gaming-tax-monthly", 1),
        ("uk-ggy-quarterly", 1),
    ]


async def test_bad_filings_are_refused_with_their_reason(gql: Any, make_staff: Any, last_month: dict[str, Any]) -> None:
    finance = await make_staff(("finance", "nordic"))
    cases = [
        ({"template": "uk-ggy-quarterly", "period": last_month["month"]}, "period"),  # a month, not a quarter
        ({"template": "mt-nothing", "period": last_month["month"]}, "template"),
        ({"template": "dk-gaming-tax-monthly", "period": last_month["month"]}, "template"),  # not licensed for DK
        ({"template": "se-gaming-tax-monthly", "period": clock.now().strftime("%Y-%m")}, "period"),  # not over
    ]
    for sent, field in cases:
        body = await gql(FILE, {"input": sent}, token=finance.token, brand="nordic")
        [error] = body["data"]["fileRegulatoryReturn"]["errors"]
        assert error["field"] == field, (sent, error)
    marketing = await make_staff(("marketing", "nordic"))
    denied = await gql(FILE, {"input": cases[0][0]}, token=marketing.token, brand="nordic")
    assert error_codes(denied) == ["FORBIDDEN"]


@pytest.mark.tampers
async def test_changed_figures_need_an_amendment_and_a_filed_return_never_changes(
    gql: Any, make_staff: Any, last_month: dict[str, Any]
) -> None:
    finance = await make_staff(("finance", "nordic"))
    sent = {"template": "se-gaming-tax-monthly", "period": last_month["month"]}
    first = await gql(FILE, {"input": sent}, token=finance.token, brand="nordic")
    filed = first["data"]["fileRegulatoryReturn"]["regulatoryReturn"]
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        await conn.execute("UPDATE report_game_days SET wins_cash = wins_cash + 100 WHERE currency = 'SEK'")
        refused = await gql(FILE, {"input": sent}, token=finance.token, brand="nordic")
        [error] = refused["data"]["fileRegulatoryReturn"]["errors"]
        assert (error["code"], error["field"]) == ("INVALID_STATE", "amend")
        checked = run_cli("reports", "check-returns")
        assert checked.returncode == 1
        assert "DIFFERS" in checked.stdout
        amended = await gql(FILE, {"input": {**sent, "amend": True}}, token=finance.token, brand="nordic")
        second = amended["data"]["fileRegulatoryReturn"]["regulatoryReturn"]
        assert second["revision"] == 2
        assert second["sha256"] != filed["sha256"]
        [total] = _lines(second["file"]["contentBase64"])
        assert (total["ggy"], total["tax"]) == ("6900", "1518")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute("UPDATE regulatory_returns SET sha256 = 'x'")
        stored = await conn.fetchval("SELECT content FROM regulatory_returns WHERE revision = 1")
        assert base64.b64encode(stored).decode() == filed["file"]["contentBase64"]
    finally:
        await conn.close()


async def test_the_cli_files_a_return_byte_for_byte(rt: Any, tmp_path: Path) -> None:
    """The CLI runs on the real clock: it files last month's (quiet) Swedish return, twice, identically."""
    await licensed_brand(rt, "nordic", ["UK", "SE"], ["GB", "SE"], ["GBP", "EUR", "SEK"])
    month = (clock.now().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    first = run_cli("reports", "file-return", "se-gaming-tax-monthly", "--brand", "nordic", "--period", month,
                    "-o", str(tmp_path / "first.csv"))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert "revision 1" in first.stdout
    again = run_cli("reports", "file-return", "se-gaming-tax-monthly", "--brand", "nordic", "--period", month,
                    "-o", str(tmp_path / "again.csv"))  # fmt: skip
    assert "revision 1" in again.stdout
    assert (tmp_path / "first.csv").read_bytes() == (tmp_path / "again.csv").read_bytes()
    [total] = list(csv.DictReader(io.StringIO((tmp_path / "first.csv").read_text())))
    assert (total["line"], total["ggy"], total["tax"]) == ("total", "0", "0")
    assert run_cli("reports", "check-returns").returncode == 0
    refused = run_cli("reports", "file-return", "se-gaming-tax-monthly", "--brand", "nordic", "--period", "soon")
    assert refused.returncode == 2
    assert "a period is YYYY-MM" in refused.stderr
