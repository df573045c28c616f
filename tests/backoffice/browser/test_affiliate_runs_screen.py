"""The commission runs screen: finance opens last month's draft, reads its deal sums and lines (the figures
behind the commission), approves it, books it and pays it out; support has no such screen.

The run is made by the service with the test's clock moved past the month played (the live server runs on
the real clock, which only the steps after the draft need)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from playwright.async_api import expect

from core.clock import clock
from services.affiliates.runs import drafts
from tests.affiliate_runs.conftest import (  # noqa: F401  (affiliates, month, table: fixtures)
    Affiliates,
    Table,
    affiliates,
    at_noon,
    close_month,
    finance,
    month,
    table,
)
from tests.backoffice.browser.conftest import cell, sign_in


async def test_finance_reads_a_runs_lines_approves_books_and_pays_it(
    page: Any, rt: Any, brand: Any, make_player: Any, make_staff: Any, affiliates: Affiliates,  # noqa: F811
    table: Table, month: tuple[Any, Any], psp: Any,  # noqa: F811
) -> None:  # fmt: skip
    partner = await affiliates.partner("screenpartner")
    plan = await affiliates.plan("revshare", {"revshare": {"kind": "flat", "rate_ppm": 250_000}})
    await affiliates.deal(partner, plan, month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner, sub_id="tiktok-3")
    at_noon(month[0] + timedelta(days=6))
    await table.play(player.uuid, stake=40_000, win=10_000, bonus_cost=2_000)  # NGR 280.00 → 70.00
    await table.project()
    close_month(month)
    async with rt.database.transaction() as db:
        await drafts.create_run(db, finance(brand), brand_id=brand.id, start=month[0], end=month[1])
    clock.reset()  # the live server's clock: signing in (TOTP) and the steps happen now
    staff = await make_staff("finance", login=False)
    support = await make_staff("support", login=False)

    await sign_in(page, staff)
    await page.get_by_role("link", name="Commission runs").click()
    row = cell(page, f"{month[0]} – {month[1]}")
    await expect(row).to_contain_text("70.00 EUR")
    await expect(row).to_contain_text("draft")
    await row.get_by_role("button", name="Lines").click()
    lines = page.get_by_role("table", name="Lines")
    await expect(lines).to_contain_text("tiktok-3")
    for figure in ("400.00 EUR", "100.00 EUR", "20.00 EUR", "280.00 EUR", "25.00 %", "70.00 EUR"):
        await expect(lines).to_contain_text(figure)
    await expect(page.get_by_role("table", name="Deals")).to_contain_text("280.00 EUR")

    await row.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_contain_text("approved")
    await cell(page, f"{month[0]} – {month[1]}").get_by_role("button", name="Book").click()
    await expect(page.get_by_role("status")).to_contain_text("booked in the ledger")
    await cell(page, f"{month[0]} – {month[1]}").get_by_role("button", name="Pay").click()
    await expect(page.get_by_role("status")).to_contain_text("paid out")
    paid = cell(page, f"{month[0]} – {month[1]}")
    await expect(paid).to_contain_text("paid")
    await paid.get_by_role("button", name="Lines").click()
    await expect(page.get_by_role("table", name="Payouts")).to_contain_text("70.00 EUR")
    assert len(await psp.transactions()) == 1

    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Commission runs")).to_have_count(0)
