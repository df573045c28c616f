"""The Reports screen in a real browser, over real figures: two players registered yesterday, card
deposits through the demo PSP and Hub88 play today, the `reports` consumer drained into the projections.
Finance reads the exact tiles, the charts, the retention heat-map, lifetime value and top games,
downloads CSV and Parquet files and files a regulatory return; marketing reads the audience figures
only, and is offered neither the books' money nor downloads and returns."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from playwright.async_api import expect

from core.clock import clock
from tests.backoffice.browser.conftest import cell, sign_in
from tests.providers.conftest import Aggregator
from tests.reports.conftest import EUR, Reports, play, seated


@dataclass(frozen=True)
class Played:
    yesterday: date
    today: date


@pytest.fixture
async def played(
    rt: Any, reports: Reports, make_player: Any, card_deposit: Any, hub88_provider: Any, aggregator: Aggregator
) -> Played:
    """Alice and Bob registered yesterday; today both make their first deposit (100 and 40 EUR) and Alice
    comes back to play (stake 10, win 4): GGR 6.00 EUR, and D1 retention of yesterday's cohort 1 of 2."""
    today = clock.now().date()
    clock.advance(timedelta(days=-1))
    try:
        alice, bob = await make_player(), await make_player()
    finally:
        clock.reset()
    await card_deposit(alice, "100.00")
    await card_deposit(bob, "40.00")
    await play(aggregator, await seated(rt, hub88_provider, alice), 10 * EUR, 4 * EUR, round_ref="r-1")
    await reports.drain()
    return Played(today - timedelta(days=1), today)


async def licensed_for_sweden(rt: Any, brand: Any) -> None:
    from models.brands import Brand

    async with rt.database.transaction() as db:
        royal = await db.get(Brand, brand.id)
        assert royal is not None
        royal.jurisdictions = [*royal.jurisdictions, "SE"]


def tile(page: Any, name: str) -> Any:
    return page.locator(f"[data-figure={name}] .value")


async def saved(page: Any, button: str) -> tuple[str, Path]:
    """Click a download button; the file the browser saved (its suggested name, its path)."""
    async with page.expect_download() as started:
        await page.get_by_role("button", name=button).click()
    download = await started.value
    return download.suggested_filename, Path(await download.path())


async def test_finance_reads_the_figures_downloads_them_and_files_a_return(
    page: Any, rt: Any, make_staff: Any, brand: Any, played: Played
) -> None:
    await licensed_for_sweden(rt, brand)
    finance = await make_staff("finance", login=False)
    await sign_in(page, finance)
    await page.get_by_role("link", name="Reports").click()
    await expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()

    # The last 30 days by default: the range's totals.
    start = (played.today - timedelta(days=29)).isoformat()
    await expect(page.get_by_label("From", exact=True)).to_have_value(start)
    await expect(page.get_by_label("To", exact=True)).to_have_value(played.today.isoformat())
    for name, value in {
        "ggr": "6.00 EUR",
        "ngr": "6.00 EUR",
        "turnover": "10.00 EUR",
        "hold": "60.00 %",
        "deposits": "140.00 EUR",
        "withdrawals": "0.00 EUR",
        "ftds": "2",
        "conversion": "100.00 %",
        "active-players": "1",
        "arppu": "3.00 EUR",
    }.items():
        await expect(tile(page, name)).to_have_text(value)
    await expect(page.locator("[data-figure=deposits] .note")).to_have_text("2 deposits")
    await expect(page.locator("[data-figure=conversion] .note")).to_have_text("2 of 2 registered")

    # The charts are drawn, each with its figures in a table.
    for chart in ("revenue", "cashier", "players"):
        await expect(page.locator(f"figure[data-chart={chart}] canvas").first).to_be_visible()
    revenue = page.locator("figure[data-chart=revenue]")
    await revenue.get_by_text("GGR and NGR: the figures").click()
    await expect(revenue.get_by_role("row").filter(has_text=played.today.isoformat())).to_contain_text("6")

    # Retention: yesterday's cohort of two, one of whom came back today; its D7 and D30 have not come.
    retention = page.locator("cr-report-retention")
    cohort = retention.locator(f"tr[data-cohort='{played.yesterday}']")
    await expect(cohort.locator("td[data-day='1']")).to_have_text("50.0 % 1 of 2")
    await expect(cohort.locator("td[data-day='1']")).to_have_attribute("data-rate", "0.5000")
    assert "background" in (await cohort.locator("td[data-day='1']").get_attribute("style") or "")
    await expect(cohort.locator("td[data-day='7']")).to_have_text("not yet due")
    value = page.locator("cr-report-value").locator(f"tr[data-cohort='{played.yesterday}']")
    await expect(value).to_contain_text("6.00 EUR")  # the cohort's NGR to date
    await expect(value).to_contain_text("3.00 EUR")  # per registered player
    game = cell(page.locator("cr-report-games"), "slot-fortune")
    await expect(game).to_contain_text("10.00 EUR")
    await expect(game).to_contain_text("6.00 EUR")

    # Converted into the reporting currency: the same euros.
    await page.get_by_label("In EUR (reporting currency)").check()
    await expect(tile(page, "ggr")).to_have_text("6.00 EUR")
    await page.get_by_label("Group by").select_option("MONTH")
    await expect(page.locator("figure[data-chart=revenue] canvas").first).to_be_visible()

    # Downloads: the range's files as CSV and Parquet, amounts in minor units.
    await page.get_by_label("Original currencies").check()
    name, path = await saved(page, "Download key figures as CSV")
    assert name == f"croupier-figures-{start}-{played.today}.csv"
    [today] = [row for row in csv.DictReader(io.StringIO(path.read_text())) if row["day"] == str(played.today)]
    assert (today["currency"], today["ggr"], today["deposits"], today["ftd_count"]) == ("EUR", "600", "14000", "2")
    await expect(page.get_by_role("status")).to_have_text(f"Key figures saved as {name} (1 row).")
    name, path = await saved(page, "Download games as Parquet")
    assert name == f"croupier-games-{start}-{played.today}.parquet"
    [row] = pq.read_table(path).to_pylist()
    assert (row["day"], row["game"], row["stakes_cash"], row["ggr"]) == (played.today, "slot-fortune", 1000, 600)

    # Regulatory returns: refusals in words, then last month's Swedish gaming tax filed and listed.
    returns = page.locator("cr-regulatory-returns")
    await expect(returns).to_contain_text("No return has been filed for this brand yet.")
    form = returns.get_by_role("form", name="File a return")
    await form.get_by_label("Period", exact=True).fill("2026-Q1")
    await form.get_by_role("button", name="File return").click()
    await expect(returns.get_by_role("alert")).to_have_text("Brand royal is not licensed for UK.")
    await form.get_by_label("Return").select_option("se-gaming-tax-monthly")
    await form.get_by_label("Period", exact=True).fill("2026-13")
    await form.get_by_role("button", name="File return").click()
    await expect(returns.get_by_role("alert")).to_have_text(
        "se-gaming-tax-monthly is filed per month: a period is YYYY-MM."
    )
    await expect(form.get_by_label("Period", exact=True)).to_have_attribute("aria-invalid", "true")
    last_month = (played.today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    await form.get_by_label("Period", exact=True).fill(last_month)
    await form.get_by_role("button", name="File return").click()
    await expect(returns.get_by_role("status")).to_have_text(
        f"Filed se-gaming-tax-monthly for {last_month} as revision 1."
    )
    filed = cell(returns, "se-gaming-tax-monthly")
    await expect(filed).to_contain_text(f"{last_month}-01")
    await expect(filed).to_contain_text("SE")
    name, path = await saved(page, f"Download se-gaming-tax-monthly {last_month}-01 revision 1")
    assert name == f"se-gaming-tax-monthly-{last_month}-01-r1.csv"
    [line] = list(csv.DictReader(io.StringIO(path.read_text())))
    assert (line["brand"], line["line"], line["currency"], line["ggy"], line["tax"]) == (
        "royal",
        "total",
        "SEK",
        "0",
        "0",
    )
    await form.get_by_role("button", name="File return").click()  # the same figures again: nothing new
    await expect(returns.get_by_role("status")).to_have_text(
        f"{last_month} was already filed with these figures: revision 1 stands."
    )
    await expect(returns.locator("tbody tr")).to_have_count(1)


async def test_marketing_reads_the_audience_figures_only(page: Any, make_staff: Any, played: Played) -> None:
    marketing = await make_staff("marketing", login=False)
    await sign_in(page, marketing)
    await page.get_by_role("link", name="Reports").click()

    for name, value in {"ftds": "2", "conversion": "100.00 %", "active-players": "1", "arppu": "3.00 EUR"}.items():
        await expect(tile(page, name)).to_have_text(value)
    for money in ("ggr", "ngr", "turnover", "hold", "deposits", "withdrawals"):
        await expect(page.locator(f"[data-figure={money}]")).to_have_count(0)
    players = page.locator("figure[data-chart=players]")
    await expect(players.locator("canvas").first).to_be_visible()
    await players.get_by_text("Active players, registrations and first deposits: the figures").click()
    by_day = {
        str(day): players.get_by_role("row").filter(has_text=str(day)).locator("td") for day in vars(played).values()
    }
    await expect(by_day[str(played.yesterday)]).to_have_text([str(played.yesterday), "0", "2", "0"])
    await expect(by_day[str(played.today)]).to_have_text([str(played.today), "1", "0", "2"])
    await expect(page.locator("figure[data-chart=revenue]")).to_have_count(0)
    await expect(page.locator("figure[data-chart=cashier]")).to_have_count(0)
    cohort = page.locator("cr-report-retention").locator(f"tr[data-cohort='{played.yesterday}']")
    await expect(cohort.locator("td[data-day='1']")).to_have_text("50.0 % 1 of 2")
    for section in ("Downloads", "Regulatory returns", "Top 20 games by GGR"):
        await expect(page.get_by_role("heading", name=section)).to_have_count(0)
    await expect(page.get_by_role("button", name="Download key figures as CSV")).to_have_count(0)
    await expect(page.locator("[role=alert]")).to_have_count(0)  # nothing refused shows as an error

    # Another range: the tiles follow it; a range that ends before it starts is refused in words.
    await page.get_by_label("From", exact=True).fill(str(played.today + timedelta(days=1)))
    await expect(page.get_by_role("alert")).to_contain_text("The range ends before it starts")
    await page.get_by_label("From", exact=True).fill(str(played.today))
    await expect(tile(page, "conversion")).to_have_text("—")  # nobody registered today
    await expect(tile(page, "ftds")).to_have_text("2")
    await expect(page.locator("cr-report-retention")).to_contain_text("Nobody registered in this range.")
