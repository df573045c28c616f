"""The AML alerts screen: a structuring pattern deposited through the cashier, raised by the monitoring
consumer, explained on screen and dismissed with a reason by a risk analyst; a KYC officer reads it only."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.aml_monitoring.conftest import Monitoring, monitoring  # noqa: F401  (fixture)
from tests.aml_monitoring.conftest import deposit as deposit
from tests.backoffice.browser.conftest import cell, sign_in


async def test_risk_explains_and_dismisses_an_alert_kyc_only_reads(
    page: Any,
    browser: Any,
    live_server: str,
    make_player: Any,
    make_staff: Any,
    deposit: Any,
    monitoring: Monitoring,  # noqa: F811
) -> None:
    dora = await make_player(firstName="Dora", lastName="Debono")
    for amount in ("1900.00", "1950.00", "1999.00"):
        await deposit(dora, amount)
    await monitoring.drain()
    risk = await make_staff("risk_analyst", login=False)
    kyc = await make_staff("kyc_officer", login=False)

    await sign_in(page, risk)
    await page.get_by_role("link", name="AML alerts").click()
    row = cell(page, "Dora Debono")
    await expect(row).to_contain_text("review")
    await expect(row).to_contain_text("structuring")
    await row.get_by_role("button", name="Explain").click()
    explanation = row.get_by_label("Explanation")
    await expect(explanation).to_contain_text("deposits 3")
    await expect(explanation).to_contain_text("threshold 2000.00 EUR")
    await expect(explanation.locator("tbody tr")).to_have_count(3)

    await row.get_by_role("button", name="Dismiss").click()
    await expect(page.get_by_role("alert")).to_have_text("Give a reason for the decision.")
    await row.get_by_label("Reason").fill("Documented salary")
    await row.get_by_role("button", name="Dismiss").click()
    await expect(page.get_by_role("status")).to_contain_text("Alert on Dora Debono dismissed.")
    await expect(page.get_by_text("No alert matches. The queue is clear.")).to_be_visible()
    await page.get_by_label("Status").select_option("DISMISSED")
    await expect(cell(page, "Dora Debono")).to_contain_text("Documented salary")

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    reader = await context.new_page()
    try:
        await sign_in(reader, kyc)
        await reader.get_by_role("link", name="AML alerts").click()
        await reader.get_by_label("Status").select_option("")
        await expect(cell(reader, "Dora Debono")).to_contain_text("dismissed")
        await expect(reader.get_by_role("button", name="Dismiss")).to_have_count(0)
    finally:
        await context.close()
