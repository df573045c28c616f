"""Reference rates: the ECB's CSV imported (`croupier fx import`), the rate in force on a day (the
latest on or before it), exact conversion with each currency's exponent, and a clear refusal
(FX_RATE_MISSING) when a report needs a rate nobody imported."""

from __future__ import annotations

import asyncio
import zipfile
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.clock import clock
from core.errors import DomainError
from services.reports import fx, kpis
from tests.conftest import fund
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, seated
from tests.test_startup_and_cli import run_cli

# The ECB's layout: newest first, "N/A" where it has no rate, a trailing empty column, currencies the
# platform does not know (BGN, CYP, CZK, ...).
RATES = """Date,USD,JPY,BGN,CYP,CZK,GBP,SEK,
2027-01-11,1.2000,170.00,1.9558,N/A,25.000,0.9000,12.0000,
2027-01-08,N/A,161.45,1.9558,N/A,25.000,0.8511,11.4235,
2027-01-07,1.0878,160.00,1.9558,N/A,25.000,0.8500,11.5000,
"""
SATURDAY = date(2027, 1, 9)  # no rates: Friday's are in force (Thursday's for USD, N/A on Friday)


def test_an_ecb_file_gives_the_rates_of_known_currencies_and_skips_the_rest() -> None:
    parsed = fx.parse_ecb_csv(RATES)
    assert parsed.skipped == ("BGN", "CYP", "CZK")
    assert parsed.rates[("SEK", date(2027, 1, 8))] == Decimal("11.4235")
    assert ("USD", date(2027, 1, 8)) not in parsed.rates  # N/A
    assert len(parsed.rates) == 4 * 3 - 1
    daily = fx.parse_ecb_csv("Date, USD, JPY, \n08 January 2027, 1.0878, 161.45, \n")  # eurofxref.csv
    assert daily.rates == {("USD", date(2027, 1, 8)): Decimal("1.0878"), ("JPY", date(2027, 1, 8)): Decimal("161.45")}


@pytest.mark.parametrize(
    ("content", "complaint"),
    [
        ("USD,JPY\n1.1,160\n", "first column must be `Date`"),
        ("Date,USD,\n2027-13-01,1.1,\n", "Line 2: '2027-13-01' is not a date"),
        ("Date,USD,\n2027-01-08,1.1,\n2027-01-07,-1,\n", "Line 3: USD rate '-1' must be a positive number"),
        ("Date,USD,\n2027-01-08,one,\n", "Line 2: USD rate 'one' is not a number"),
        ("Date,BGN,\n2027-01-08,1.9558,\n", "no rate of a known currency"),
    ],
)
def test_a_malformed_file_is_refused_naming_the_line(content: str, complaint: str) -> None:
    with pytest.raises(fx.InvalidRatesFile) as refused:
        fx.parse_ecb_csv(content)
    assert complaint in refused.value.message
    assert (refused.value.code, refused.value.field) == ("INVALID_INPUT", "file")


async def test_croupier_fx_import_loads_the_sample_and_the_ecb_zip(rt: Any, reports: Reports, tmp_path: Path) -> None:
    sample = await asyncio.to_thread(run_cli, "fx", "import", str(fx.SAMPLE_FILE))
    assert sample.returncode == 0, sample.stdout + sample.stderr
    assert "imported 234 rates of CAD, GBP, JPY, SEK, USD from 2026-10-01 to 2026-12-04" in sample.stdout
    assert "skipped (not in the currency registry): CHF, NOK" in sample.stdout
    archive = tmp_path / "eurofxref-hist.zip"
    with zipfile.ZipFile(archive, "w") as packed:
        packed.writestr("eurofxref-hist.csv", RATES)
    zipped = await asyncio.to_thread(run_cli, "fx", "import", str(archive))
    assert zipped.returncode == 0, zipped.stdout + zipped.stderr
    async with rt.database.session() as db:
        book = await fx.load_rates(db, ["USD", "CAD", "SEK"], date(2026, 11, 20), date(2027, 1, 10))
    assert book.rate("CAD", date(2026, 11, 20)) == Decimal("1.5166")  # N/A that Friday: Thursday's
    assert book.rate("USD", SATURDAY) == Decimal("1.0878")  # Friday's is N/A: Thursday's
    assert book.rate("SEK", SATURDAY) == Decimal("11.4235")
    assert book.rate("EUR", SATURDAY) == 1

    broken = tmp_path / "broken.csv"
    broken.write_text("Date,USD,\n2027-01-08,1.1,\nyesterday,1.2,\n")
    refused = await asyncio.to_thread(run_cli, "fx", "import", str(broken))
    assert refused.returncode == 1
    assert "refused: Line 3: 'yesterday' is not a date" in refused.stderr
    assert "Traceback" not in refused.stderr


async def test_figures_convert_day_by_day_at_the_rate_in_force(
    rt: Any,
    reports: Reports,
    make_player: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    async with rt.database.transaction() as db:
        await fx.import_rates(db, fx.parse_ecb_csv(RATES))
    clock.advance(datetime.combine(SATURDAY, time(15), UTC) - clock.now())
    euro, krona = await make_player(), await make_player(currency="SEK")
    await fund(rt, euro, "50.00 EUR", deposit=True)
    await fund(rt, krona, "500.00 SEK", deposit=True)
    await play(aggregator, await seated(rt, hub88_provider, euro), 7 * EUR, round_ref="e")
    await play(aggregator, await seated(rt, hub88_provider, krona, "SEK"), 100 * EUR, round_ref="s")  # 100 SEK
    await reports.drain()

    async def turnover(currency: str | None) -> tuple[dict[str, int], int | None]:
        async with rt.database.session() as db:
            [period] = await kpis.figures(
                db, brands=[brand.id], start=SATURDAY, end=SATURDAY, reporting_currency=currency
            )
        converted = period.converted.turnover if period.converted else None
        return {f.currency: f.turnover for f in period.by_currency}, converted

    assert await turnover(None) == ({"EUR": 7_00, "SEK": 100_00}, None)
    # 100 SEK / 11.4235 = 8.7539 EUR
    assert await turnover("EUR") == ({"EUR": 7_00, "SEK": 100_00}, 7_00 + 8_75)
    # 7 EUR x 1.0878 = 7.6146 USD and 100 SEK / 11.4235 x 1.0878 = 9.5224 USD: 17.1370 USD
    assert await turnover("USD") == ({"EUR": 7_00, "SEK": 100_00}, 17_14)
    # JPY has no minor unit: 7 x 161.45 + 100 / 11.4235 x 161.45 = 1130.15 + 1413.31 = 2543.47 yen
    assert await turnover("JPY") == ({"EUR": 7_00, "SEK": 100_00}, 2543)
    async with rt.database.session() as db:
        [converted] = await kpis.figures(db, brands=[brand.id], start=SATURDAY, end=SATURDAY, reporting_currency="USD")
    total = converted.converted
    assert total is not None
    assert (total.currency, total.deposits, total.deposit_count, total.ftd_count) == ("USD", 54_39 + 47_61, 2, 2)
    assert (total.active_players, total.paying_players) == (2, 2)  # counted across currencies


async def test_a_report_without_a_rate_in_force_is_refused_not_guessed(
    rt: Any,
    reports: Reports,
    make_player: Any,
    brand: Any,
    hub88_provider: Any,
    aggregator: Aggregator,
) -> None:
    async with rt.database.transaction() as db:
        await fx.import_rates(db, fx.parse_ecb_csv(RATES))
    before_any = date(2027, 1, 6)
    clock.advance(datetime.combine(before_any, time(15), UTC) - clock.now())
    krona = await make_player(currency="SEK")
    await fund(rt, krona, "500.00 SEK", deposit=True)
    await reports.drain()
    async with rt.database.session() as db:
        with pytest.raises(fx.MissingRate) as missing:
            await kpis.figures(db, brands=[brand.id], start=before_any, end=SATURDAY, reporting_currency="EUR")
        with pytest.raises(fx.MissingRate) as no_bitcoin:
            await kpis.figures(db, brands=[brand.id], start=before_any, end=SATURDAY, reporting_currency="BTC")
        [quiet] = await kpis.figures(db, brands=[brand.id], start=SATURDAY, end=SATURDAY, reporting_currency="BTC")
    assert isinstance(missing.value, DomainError)
    assert (missing.value.code, missing.value.field, missing.value.missing) == (
        "FX_RATE_MISSING",
        "currency",
        {"SEK": before_any},
    )
    assert "No reference exchange rate in force for SEK on 2027-01-06" in missing.value.message
    assert no_bitcoin.value.missing == {"BTC": before_any, "SEK": before_any}
    assert quiet.converted is not None
    assert (quiet.converted.currency, quiet.converted.deposits) == ("BTC", 0)  # nothing to convert that day


async def test_the_demo_seed_imports_the_sample_rates_and_can_run_again(rt: Any, reports: Reports) -> None:
    from integrations.demo import seed

    first, again = await seed.seed_rates(rt), await seed.seed_rates(rt)
    assert (
        first
        == again
        == [
            "234 sample reference rates of CAD, GBP, JPY, SEK, USD from 2026-10-01 to 2026-12-04 "
            "(replace with the ECB's: croupier fx import)"
        ]
    )
    async with rt.database.session() as db:
        book = await fx.load_rates(db, ["GBP"], date(2026, 12, 6), date(2026, 12, 6))
    assert book.rate("GBP", date(2026, 12, 6)) == Decimal("0.8533")  # Friday 4 December's
