"""KYC in the back office, in a real browser: the player 360's KYC section and the officers' review queue.
An officer restricts an account pending review and finds it in the queue; support reads the section
without the officers' forms."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in
from tests.kyc.conftest import DemoIdv, start_verification


async def test_an_officer_restricts_an_account_and_finds_it_in_the_kyc_queue(
    page: Any, make_player: Any, make_staff: Any
) -> None:
    dora = await make_player(email="dora@example.com", firstName="Dora", lastName="Debono")
    officer = await make_staff("kyc_officer", login=False)

    await sign_in(page, officer)
    await page.get_by_role("link", name="KYC queue").click()
    await expect(page.get_by_text("No player waits for a KYC decision.")).to_be_visible()

    await page.goto(f"/admin/#/players/{dora.id}")
    section = page.locator("cr-player-kyc")
    await expect(section).to_contain_text("verified")
    await expect(section).to_contain_text("registered")
    form = section.get_by_role("form", name="Restriction")
    await form.get_by_label("Restriction reason").fill("source of funds unclear, pending review")
    await form.get_by_role("button", name="Restrict account").click()
    await expect(section.get_by_role("status")).to_have_text("Account restricted pending review.")
    await expect(section).to_contain_text("restricted")
    await expect(section.get_by_role("button", name="Lift restriction")).to_be_visible()
    # The next level cannot be approved before its other requirements: the server says which.
    decide = section.get_by_role("form", name="Decide the next level")
    await decide.get_by_label("Reason or request (identity verified)").fill("looks fine")
    await decide.get_by_role("button", name="Approve level").click()
    await expect(section.get_by_role("alert")).to_contain_text("document:identity")

    await page.get_by_role("link", name="KYC queue").click()
    row = cell(page, "Dora Debono")
    await expect(row).to_contain_text("restricted")
    await row.get_by_role("link", name="Dora Debono").click()
    await expect(page.locator("cr-player-kyc")).to_contain_text("restricted")


async def test_support_reads_the_kyc_section_without_the_officers_forms(
    page: Any, make_player: Any, make_staff: Any
) -> None:
    erik = await make_player(email="erik@example.com", firstName="Erik", lastName="Ek")
    support = await make_staff("support", login=False)

    await sign_in(page, support)
    await expect(page.get_by_role("link", name="KYC queue")).to_have_count(0)
    await page.goto(f"/admin/#/players/{erik.id}")
    section = page.locator("cr-player-kyc")
    await expect(section).to_contain_text("verified")
    await expect(section.get_by_role("form")).to_have_count(0)


async def test_the_kyc_section_shows_the_identity_check_as_the_providers_webhooks_left_it(
    page: Any, gql: Any, client: Any, idv: DemoIdv, make_player: Any, make_staff: Any
) -> None:
    fay = await make_player(email="fay@example.com", firstName="Fay", lastName="Farrugia")
    officer = await make_staff("kyc_officer", login=False)
    await sign_in(page, officer)
    await page.goto(f"/admin/#/players/{fay.id}")
    check = page.locator("cr-player-kyc [data-field=identity-check]")
    await expect(check).to_have_text("not started")

    started = await start_verification(gql, fay)
    assert [result for _, result in await idv.review(client, fay, started["url"], "retry")] == ["applied", "applied"]
    await page.reload()
    await expect(check).to_contain_text("sumsub: completed, RED (RETRY: UNSATISFACTORY_PHOTOS)")
    await expect(check).to_contain_text("reviewed")
