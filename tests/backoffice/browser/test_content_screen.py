"""The Content screen (admin/app/content.js): a brand admin creates a banner, previews the draft as a player of a
segment and as an anonymous visitor, publishes it (the public field serves it), saves a second version with a
German text (the public keeps the live one), is told what is wrong with a bad link, and unpublishes."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in
from tests.crm_content.conftest import BANNERS


async def public_titles(gql: Any) -> list[str]:
    body = await gql(BANNERS, {"placement": "home-top", "brand": "royal"})
    return [entry["title"] for entry in body["data"]["banners"]]


async def test_a_brand_admin_edits_previews_publishes_and_unpublishes(
    page: Any, gql: Any, make_staff: Any, make_player: Any
) -> None:
    player = await make_player()
    admin = await make_staff("brand_admin", login=False)
    await sign_in(page, admin)
    await page.get_by_role("link", name="Content", exact=True).click()
    items = page.get_by_role("region", name="Content items")
    await expect(items.get_by_text("No content yet.")).to_be_visible()

    await items.get_by_role("button", name="New item").click()
    form = items.get_by_role("form", name="Content item")
    await form.get_by_label("Brand").fill("royal")
    await form.get_by_label("Kind").select_option("BANNER")
    await form.get_by_label("Key").fill("home-top")
    await form.get_by_label("Name").fill("Welcome banner")
    await form.get_by_label("Title").fill("Welcome")
    await form.get_by_label("Body").fill("Spin the wheel")
    await form.get_by_label("Call to action").fill("Play")
    await form.get_by_role("button", name="Create item").click()
    await expect(items.get_by_role("status")).to_have_text("Saved home-top, version 1.")
    await expect(cell(items, "home-top")).to_contain_text("draft")

    # The draft previewed: as an anonymous visitor of the brand, then as the player.
    await cell(items, "home-top").get_by_role("button", name="Preview").click()
    preview = page.get_by_role("region", name="Preview")
    await expect(preview.locator("article", has_text="Welcome")).to_contain_text("Spin the wheel")
    await preview.get_by_label("Player id").fill(player.id)
    await preview.get_by_role("button", name="Preview again").click()
    await expect(preview.get_by_label("Preview result")).to_contain_text("in 0 segment(s)")
    assert await public_titles(gql) == []  # nothing public yet

    await cell(items, "home-top").get_by_role("button", name="Publish").click()
    await items.get_by_role("form", name="Publish").get_by_role("button", name="Publish version").click()
    await expect(items.get_by_role("status")).to_have_text("Published home-top version 1.")
    await expect(cell(items, "home-top")).to_contain_text("published")
    assert await public_titles(gql) == ["Welcome"]

    # A second version with German texts; a bad link is refused in words, nothing saved.
    await cell(items, "home-top").get_by_role("button", name="Edit").click()
    form = items.get_by_role("form", name="Content item")
    await form.get_by_label("Title").fill("Welcome back")
    await form.get_by_label("Link URL").fill("javascript:alert(1)")
    await form.get_by_role("button", name="Save version").click()
    await expect(form.get_by_role("alert")).to_contain_text("linkUrl")
    await form.get_by_label("Link URL").fill("/promotions/welcome")
    await form.get_by_role("button", name="Add language").click()
    german = form.get_by_role("group", name="Texts 2")
    await german.get_by_label("Language").fill("de")
    await german.get_by_label("Title").fill("Willkommen zurück")
    await form.get_by_role("button", name="Save version").click()
    await expect(items.get_by_role("status")).to_have_text("Saved home-top, version 2.")
    await expect(cell(items, "home-top")).to_contain_text("newest 2, live 1")
    assert await public_titles(gql) == ["Welcome"]

    await cell(items, "home-top").get_by_role("button", name="Unpublish").click()
    await expect(items.get_by_role("status")).to_have_text("Unpublished home-top.")
    await expect(cell(items, "home-top")).to_contain_text("unpublished")
    assert await public_titles(gql) == []
