"""The catalogue sync on the Providers screen in a real browser: a content manager syncs a provider's game list
now, reads what the run added, then, after the provider withdrew a game, what the next run withdrew."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.async_api import expect

from authz.subjects import SYSTEM
from services.providers import registry
from tests.backoffice.browser.conftest import sign_in
from tests.providers.test_catalogue_sync import GameLists, served_game_lists


@pytest.fixture(scope="module")
def lists() -> Iterator[GameLists]:
    with served_game_lists() as served:
        yield served


async def test_content_manager_syncs_a_game_list_and_reads_each_runs_report(
    page: Any, rt: Any, make_staff: Any, lists: GameLists
) -> None:
    lists.reset()
    await registry.add_provider(
        rt, SYSTEM, code="acme", name="Acme Games", protocol="hub88", game_list_url=lists.url("acme")
    )
    manager = await make_staff(("content_manager", None), login=False)
    await sign_in(page, manager)
    await page.get_by_role("link", name="Providers").click()
    section = page.get_by_role("region", name="Catalogue sync")
    await expect(section.get_by_text("No sync yet")).to_be_visible()

    form = section.get_by_role("form", name="Sync a provider now")
    await form.get_by_label("Provider").fill("acme")
    await form.get_by_role("button", name="Sync now").click()
    await expect(section.get_by_role("status")).to_contain_text("acme: added 2, changed 0, withdrawn 0, restored 0.")
    runs = section.get_by_role("table", name="Sync runs")
    await runs.get_by_role("button", name="Details").click()
    await expect(section.get_by_role("list", name="Added")).to_contain_text("demo-dice Demo Dice")

    lists.lists["acme"].games = [g for g in lists.lists["acme"].games if g["game_code"] == "demo-slot"]
    await form.get_by_label("Provider").fill("acme")
    await form.get_by_role("button", name="Sync now").click()
    await expect(section.get_by_role("status")).to_contain_text("acme: added 0, changed 0, withdrawn 1, restored 0.")
    await runs.get_by_role("button", name="Details").first.click()
    await expect(section.get_by_role("list", name="Withdrawn (switched off, kept)")).to_contain_text("demo-dice")

    lists.lists["acme"].failing = True
    await form.get_by_label("Provider").fill("acme")
    await form.get_by_role("button", name="Sync now").click()
    await expect(section.get_by_role("alert")).to_contain_text("acme: the sync failed: the list answered HTTP 503")
    await expect(runs.locator("tbody tr").first).to_contain_text("failed")
