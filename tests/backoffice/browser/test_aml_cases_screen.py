"""The AML case screen in a real browser: an investigator takes a case, notes and escalates it; the MLRO
restricts the account, decides it and downloads the goAML draft; support sees no such screen."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from services.aml import goaml_schema
from tests.backoffice.browser.conftest import sign_in

OPEN = """mutation($input: OpenAmlCaseInput!) { openAmlCase(input: $input) { case { id } errors { code } } }"""


async def test_an_investigator_and_the_mlro_work_a_case_to_a_sar(
    page: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(firstName="Zoë", lastName="Ψαρά")
    kyc = await make_staff("kyc_officer")
    body = await gql(
        OPEN,
        {"input": {"playerId": player.id, "summary": "Deposits split under 2,000 EUR", "caseType": "structuring"}},
        token=kyc.token,
    )
    assert body["data"]["openAmlCase"]["errors"] == [], body
    mlro = await make_staff("mlro", login=False)
    support = await make_staff("support", login=False)

    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Players")).to_be_visible()
    await expect(page.get_by_role("link", name="AML cases")).to_have_count(0)  # not offered to support
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, kyc, step_offset=1)  # (its API login used this step's code)
    await page.get_by_role("link", name="AML cases").click()
    row = page.locator("tr", has_text="Zoë")
    await expect(row).to_contain_text("structuring")
    await row.get_by_role("link").click()
    await expect(page.locator("[data-summary]")).to_have_text("Deposits split under 2,000 EUR")
    await page.get_by_role("button", name="Take the case").click()
    await expect(page.get_by_role("status")).to_have_text("The case is yours.")
    await page.get_by_label("New note").fill("Five deposits of 1,950 EUR in a week.")
    await page.get_by_role("button", name="Add note").click()
    await expect(page.get_by_text("Five deposits of 1,950 EUR in a week.")).to_be_visible()
    await page.get_by_role("button", name="Escalate to the MLRO").click()
    await expect(page.get_by_role("status")).to_have_text("The case is escalated.")
    await page.get_by_label("Outcome").select_option("SAR_FILED")
    await page.get_by_label("Decision reason").fill("report it")
    await page.get_by_role("button", name="Close case").click()  # the MLRO's decision: refused, and said so
    await expect(page.get_by_role("alert")).to_have_text("Only the MLRO decides an escalated case.")
    case_url = page.url
    await page.get_by_role("button", name="Sign out").click()

    await sign_in(page, mlro)
    await page.goto(case_url)
    await page.get_by_label("Restriction reason").fill("pending the report")
    await page.get_by_role("button", name="Restrict account").click()
    await expect(page.get_by_role("status")).to_have_text("The account is restricted.")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Export SAR (goAML XML)").click()
    download = await waiting.value
    xml = (await download.path()).read_bytes()
    assert download.suggested_filename.startswith("SAR-")
    assert goaml_schema.problems(xml) == []
    assert b"<first_name>Zoe</first_name>" in xml
    await page.get_by_label("Outcome").select_option("SAR_FILED")
    await page.get_by_label("Decision reason").fill("Filed with the FIU")
    await page.get_by_role("button", name="Close case").click()
    await expect(page.get_by_role("status")).to_have_text("Closed: sar filed.")
    await page.get_by_role("link", name="← All cases").click()
    await page.get_by_label("State").select_option("CLOSED")
    await expect(page.locator("tr", has_text="Zoë")).to_contain_text("closed: sar filed")
