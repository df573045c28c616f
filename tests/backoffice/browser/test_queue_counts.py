"""Live queue counts on the compliance screens in a real browser: a case opened elsewhere shows on the AML
case screen without a reload; each role sees the counts of the queues it works and no other."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in

OPEN = """mutation($input: OpenAmlCaseInput!) { openAmlCase(input: $input) { case { id } errors { code } } }"""


async def open_case(gql: Any, token: str, player: Any) -> None:
    body = await gql(OPEN, {"input": {"playerId": player.id, "summary": "watch the counts"}}, token=token)
    assert body["data"]["openAmlCase"]["errors"] == [], body


async def test_the_case_screen_counts_a_new_case_live(page: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    kyc = await make_staff("kyc_officer")
    await open_case(gql, kyc.token, await make_player())
    await sign_in(page, kyc, step_offset=1)  # (its API login used this step's code)
    await page.get_by_role("link", name="AML cases").click()
    counts = page.get_by_role("group", name="Queue counts")
    opened = counts.locator("[data-count=amlCasesOpen]")
    await expect(opened).to_have_text("1Cases open")
    await expect(counts.locator("[data-count=amlAlerts]")).to_have_text("0Open monitoring alerts")
    await open_case(gql, kyc.token, await make_player())  # another desk's work: pushed, no reload
    await expect(opened).to_have_text("2Cases open")

    await page.get_by_role("link", name="KYC documents").click()
    await expect(page.get_by_role("group", name="Queue counts").locator("[data-count=kycDocuments]")).to_have_text(
        "0Documents to review"
    )


async def test_the_mlro_sees_case_counts_and_no_monitoring_alerts(
    page: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    mlro = await make_staff("mlro")
    await open_case(gql, mlro.token, await make_player())
    await sign_in(page, mlro, step_offset=1)
    await page.get_by_role("link", name="AML cases").click()
    counts = page.get_by_role("group", name="Queue counts")
    await expect(counts.locator("[data-count=amlCasesOpen]")).to_have_text("1Cases open")
    await expect(counts.locator("[data-count]")).to_have_count(4)  # the case counts; alerts are not the MLRO's
    await expect(counts.locator("[data-count=amlAlerts]")).to_have_count(0)


async def test_the_player_360_links_the_players_cases_for_the_aml_desk_only(
    page: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(firstName="Ada", lastName="Aml")
    mlro = await make_staff("mlro")
    await open_case(gql, mlro.token, player)
    support = await make_staff("support", login=False)

    await sign_in(page, support)
    await page.goto(f"/admin/#/players/{player.id}")
    await expect(page.locator("cr-player-notes h3")).to_be_visible()  # the 360 is there
    for section in ("cr-player-aml-cases", "cr-player-aml-alerts", "cr-player-screening-matches"):
        await expect(page.locator(f"{section} h3")).to_have_count(0)  # and no AML section for support
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, mlro, step_offset=1)
    await page.goto(f"/admin/#/players/{player.id}")
    cases = page.locator("cr-player-aml-cases")
    await expect(cases.locator("h3")).to_have_text("AML cases")
    await expect(page.locator("cr-player-aml-alerts h3")).to_have_count(0)  # the MLRO reads no alert queue
    await cases.get_by_role("link").click()
    await expect(page.locator("[data-summary]")).to_have_text("watch the counts")
