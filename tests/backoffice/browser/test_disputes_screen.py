"""The disputes screen: a chargeback delivered by the demo PSP shows with its cash and debt parts; a risk analyst
reads its evidence, submits it and closes the dispute as lost; finance works it without seeing the evidence."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in
from tests.cashier.conftest import DemoPsp, deliver, held, notice  # noqa: F401  (`held` is a fixture)
from tests.conftest import fund


async def test_risk_reads_the_evidence_submits_it_and_closes_the_dispute_lost_finance_sees_no_evidence(
    page: Any,
    browser: Any,
    live_server: str,
    rt: Any,
    client: Any,
    held: DemoPsp,  # noqa: F811
    card_deposit: Any,
    make_player: Any,
    make_staff: Any,
) -> None:
    carla = await make_player(firstName="Carla", lastName="Camilleri")
    payment = await card_deposit(carla, "100.00")
    await fund(rt, carla, -8000)
    answer = await deliver(client, await notice(held, payment, rt, "chargeback", reason="fraud"))
    assert answer.json()["result"] == "applied"
    risk = await make_staff("risk_analyst", login=False)
    finance = await make_staff("finance", login=False)

    await sign_in(page, risk)
    await page.get_by_role("link", name="Disputes").click()
    row = cell(page, "Carla Camilleri")
    await expect(row).to_contain_text("100.00")
    await expect(row).to_contain_text("20.00")  # from cash
    await expect(row).to_contain_text("80.00")  # booked as debt
    await expect(row).to_contain_text("open")
    await row.get_by_role("button", name="Show evidence").click()
    await expect(row.get_by_label("Evidence")).to_contain_text("1 deposits")

    await row.get_by_role("button", name="Submit evidence").click()
    await expect(page.get_by_role("alert")).to_have_text("Say what was sent to the PSP.")
    await row.get_by_label("Note or reason").fill("3-D Secure log and device")
    await row.get_by_role("button", name="Submit evidence").click()
    await expect(page.get_by_role("status")).to_contain_text("Dispute of Carla Camilleri evidence submitted.")
    await expect(cell(page, "Carla Camilleri")).to_contain_text("3-D Secure log and device")
    await expect(cell(page, "Carla Camilleri").get_by_role("button", name="Submit evidence")).to_have_count(0)

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    other = await context.new_page()
    try:
        await sign_in(other, finance)
        await other.get_by_role("link", name="Disputes").click()
        mine = cell(other, "Carla Camilleri")
        await mine.get_by_role("button", name="Show evidence").click()
        await expect(mine.get_by_label("Evidence")).to_have_text("Not shown to your role.")
        await mine.get_by_label("Note or reason").fill("Issuer sided with the cardholder")
        await mine.get_by_role("button", name="Close as lost").click()
        await expect(other.get_by_role("status")).to_contain_text("Dispute of Carla Camilleri closed as lost.")
        await expect(other.get_by_text("No dispute matches.")).to_be_visible()
        await other.get_by_label("State").select_option("LOST")
        lost = cell(other, "Carla Camilleri")
        await expect(lost).to_contain_text("Issuer sided with the cardholder")
        await lost.get_by_role("link", name="Carla Camilleri").click()  # the player 360: the debt stands
        await expect(other.locator("cr-player-balances")).to_contain_text("80.00")
    finally:
        await context.close()
