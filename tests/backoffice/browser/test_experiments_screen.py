"""The A/B tests screen (admin/app/experiments.js): marketing drafts a test from the form (a bad design is said,
not swallowed), starts it, reads its result per variant once players were exposed, and stops it with a winner."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect
from sqlalchemy import text

from services.crm.experiments.assignment import assign
from tests.backoffice.browser.conftest import cell, sign_in


async def test_marketing_drafts_starts_reads_and_stops_an_ab_test(
    page: Any, rt: Any, make_staff: Any, make_player: Any
) -> None:
    marketing = await make_staff("marketing", login=False)
    players = [await make_player() for _ in range(3)]
    await sign_in(page, marketing)
    await page.get_by_role("link", name="A/B tests").click()
    await expect(page.get_by_text("No A/B test yet.")).to_be_visible()
    form = page.get_by_role("form", name="New A/B test")
    await form.get_by_label("Name").fill("Welcome subject")
    await form.get_by_label("Variants").fill("control:1")
    await form.get_by_role("button", name="Create draft").click()
    await expect(page.get_by_role("alert")).to_contain_text("variants")
    await form.get_by_label("Variants").fill("control:1, bold:1")
    await form.get_by_role("button", name="Create draft").click()
    await expect(page.get_by_role("status")).to_have_text("Welcome subject saved as a draft.")
    row = cell(page, "Welcome subject")
    await expect(row).to_contain_text("control:1, bold:1")
    await row.get_by_role("button", name="Start").click()
    await expect(page.get_by_role("status")).to_have_text("Welcome subject started.")

    async with rt.database.transaction() as db:
        experiment_id = await db.scalar(text("SELECT id FROM crm_experiments"))
        assert isinstance(experiment_id, uuid.UUID)
        for player in players:
            await assign(db, experiment_id, player.uuid)
    await cell(page, "Welcome subject").get_by_role("button", name="Result").click()
    result = page.get_by_label("Result")
    await expect(result).to_contain_text("deposited within 7 days")
    await expect(result.locator("tbody tr")).to_have_count(3)  # control, bold, holdout
    exposed = [int(await r.locator("td").nth(1).inner_text()) for r in await result.locator("tbody tr").all()]
    assert sum(exposed) == 3

    await cell(page, "Welcome subject").get_by_label("Winner").select_option("bold")
    await cell(page, "Welcome subject").get_by_role("button", name="Stop").click()
    await expect(page.get_by_role("status")).to_have_text("Welcome subject stopped.")
    await expect(cell(page, "Welcome subject")).to_contain_text("winner bold")
