"""The lobbies screen (admin/app/lobbies.js): marketing gives a segment its lobby layout from the form (an
unknown category is said, not swallowed), recomputes the popular games, and archives the layout."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect
from sqlalchemy import text

from models.games import LobbyCategory
from tests.backoffice.browser.conftest import cell, sign_in


async def test_marketing_gives_a_segment_its_lobby_and_archives_it(
    page: Any, rt: Any, make_staff: Any, brand: Any
) -> None:
    segment = uuid.uuid4()
    async with rt.database.transaction() as db:
        db.add(LobbyCategory(code="table", title="Table", position=1))
        await db.execute(
            text("INSERT INTO crm_segments (id, brand_id, name, kind) VALUES (:id, :brand, 'VIP', 'static')"),
            {"id": segment, "brand": brand.id},
        )
    marketing = await make_staff("marketing", login=False)
    await sign_in(page, marketing)
    await page.get_by_role("link", name="Lobbies").click()
    await expect(page.get_by_text("No lobby layout yet")).to_be_visible()
    form = page.get_by_role("form", name="New lobby layout")
    await form.get_by_label("Name").fill("VIP lobby")
    await form.get_by_label("Segment id").fill(str(segment))
    await form.get_by_label("Category order").fill("nope")
    await form.get_by_role("button", name="Save layout").click()
    await expect(page.get_by_role("alert")).to_contain_text("Unknown lobby categories: nope")
    await form.get_by_label("Category order").fill("table")
    await form.get_by_role("button", name="Save layout").click()
    await expect(page.get_by_role("status")).to_have_text("VIP lobby saved.")
    await expect(cell(page, "VIP lobby")).to_contain_text("table")
    await form.get_by_role("button", name="Recompute popular games").click()
    await expect(page.get_by_role("status")).to_have_text("Popular games recomputed.")
    await cell(page, "VIP lobby").get_by_role("button", name="Archive").click()
    await expect(page.get_by_role("status")).to_have_text("VIP lobby archived.")
    await expect(cell(page, "VIP lobby")).to_contain_text("archived")
