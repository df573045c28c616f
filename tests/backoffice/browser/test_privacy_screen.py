"""Privacy in the back office, in a real browser: the data-protection officer downloads a player's export,
sees the player's waiting erasure request, erases them and reads what is kept under retention; support
never sees the section."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.privacy.conftest import REQUEST


async def test_the_dpo_downloads_the_export_and_erases_a_player_who_asked(
    page: Any, gql: Any, make_player: Any, make_staff: Any, tmp_path: Path
) -> None:
    fenna = await make_player(email="fenna@example.com", firstName="Fenna", lastName="Falzon")
    asked = await gql(REQUEST, {"input": {"reason": "closing my account"}}, token=fenna.token)
    assert asked["data"]["requestDataErasure"]["errors"] == [], asked
    dpo = await make_staff("dpo", login=False)

    await sign_in(page, dpo)
    await page.get_by_role("link", name="Privacy requests").click()
    waiting = page.get_by_role("table", name="Waiting erasure requests")
    await expect(waiting).to_contain_text("closing my account")
    await waiting.get_by_role("link", name="Fenna Falzon").click()
    section = page.locator("cr-player-privacy")
    await expect(section.get_by_role("table", name="Privacy requests")).to_contain_text("closing my account")
    await expect(section.get_by_role("table", name="Privacy requests")).to_contain_text("requested")

    await section.get_by_role("button", name="Export the player's data").click()
    await expect(section.get_by_role("status")).to_have_text("The export is ready (audited).")
    async with page.expect_download() as waiting:
        await section.get_by_role("link", name=f"Download player-{fenna.uuid}-export.json").click()
    saved = tmp_path / "export.json"
    await (await waiting.value).save_as(saved)
    document = json.loads(saved.read_text())
    assert document["categories"]["account"]["players"][0]["email"] == "fenna@example.com"

    form = section.get_by_role("form", name="Erasure")
    await form.get_by_label("Erasure reason or request reference").fill("GDPR request of 7 Dec")
    await form.get_by_role("button", name="Erase player").click()
    await expect(section.get_by_role("status")).to_have_text("The player was erased.")
    await expect(section).to_contain_text("as erased-")
    holds = section.get_by_role("table", name="Retention holds")
    await expect(holds).to_contain_text("identity")
    await expect(holds).to_contain_text("5 years after the business relationship ends")
    await expect(section.get_by_role("form", name="Erasure")).to_have_count(0)
    await page.get_by_role("link", name="Privacy requests").click()
    await expect(page.get_by_text("No erasure request is waiting.")).to_be_visible()


async def test_a_refused_erasure_says_why(page: Any, rt: Any, make_player: Any, make_staff: Any) -> None:
    from tests.conftest import fund

    gus = await make_player(email="gus@example.com", firstName="Gus", lastName="Grech")
    await fund(rt, gus, "12.50 EUR")
    dpo = await make_staff("dpo", login=False)

    await sign_in(page, dpo)
    await page.goto(f"/admin/#/players/{gus.id}")
    form = page.locator("cr-player-privacy").get_by_role("form", name="Erasure")
    await form.get_by_label("Erasure reason or request reference").fill("request #9")
    await form.get_by_role("button", name="Erase player").click()
    await expect(page.locator("cr-player-privacy").get_by_role("alert")).to_have_text("12.50 EUR in the cash account")
    await expect(page.locator("cr-player-privacy")).to_contain_text("Erased")  # nothing erased: still a form
    await expect(page.locator("cr-player-privacy").get_by_role("form", name="Erasure")).to_have_count(1)


async def test_support_never_sees_the_privacy_section(page: Any, make_player: Any, make_staff: Any) -> None:
    gus = await make_player(email="gus@example.com", firstName="Gus", lastName="Grech")
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Privacy requests")).to_have_count(0)
    await page.goto(f"/admin/#/players/{gus.id}")
    await expect(page.locator("cr-player-profile")).to_contain_text("gus@example.com")
    await expect(page.locator("cr-player-privacy").locator("section")).to_have_count(0)
