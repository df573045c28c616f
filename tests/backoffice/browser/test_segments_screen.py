"""The Segments screen: marketing builds a dynamic segment watching its live size follow the conditions before
saving it, then makes a static segment and uploads its members; support has no Segments screen."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import cell, sign_in


async def test_marketing_builds_a_segment_with_its_live_size_and_uploads_a_static_list(
    page: Any, browser: Any, live_server: str, make_player: Any, make_staff: Any
) -> None:
    marketing = await make_staff("marketing", login=False)
    support = await make_staff("support", login=False)
    consenting = [await make_player(country="MT", marketingConsent=True) for _ in range(2)]
    await make_player(country="SE", currency="SEK", marketingConsent=True)
    await make_player(country="MT")

    await sign_in(page, marketing)
    await page.get_by_role("link", name="Segments").click()
    await expect(page.get_by_text("No segment yet.")).to_be_visible()
    builder = page.get_by_role("form", name="Segment builder")
    await builder.get_by_label("Name").fill("Maltese with consent")
    first = builder.get_by_label("Condition 1")
    await first.get_by_label("Values").fill("MT")
    size = builder.get_by_label("Live size")
    await expect(size).to_contain_text("3 players match now")  # MT: two with consent, one without
    await builder.get_by_role("button", name="Add condition").click()
    second = builder.get_by_label("Condition 2")
    await second.get_by_label("Field").select_option("MARKETING_CONSENT")
    await expect(size).to_contain_text("2 players match now")
    await builder.get_by_label("Match").select_option("ANY")
    await expect(size).to_contain_text("4 players match now")  # the Swede joins
    await builder.get_by_label("Match").select_option("ALL")
    await second.get_by_label("Field").select_option("DEPOSIT_AMOUNT")
    await second.get_by_label("Amount").fill("10.001")
    await second.get_by_label("Currency").fill("EUR")
    await expect(size).to_contain_text("decimal places")  # a refusal, before anything is saved
    await second.get_by_role("button", name="Remove condition").click()
    await expect(size).to_contain_text("3 players match now")
    await builder.get_by_role("button", name="Create segment").click()
    await expect(page.get_by_role("status").first).to_contain_text("Segment Maltese with consent saved.")
    row = cell(page, "Maltese with consent")
    await expect(row).to_contain_text("country in MT")
    await expect(row.locator("td.num")).to_have_text("3")

    await builder.get_by_label("Name").fill("Hand-picked")
    await builder.get_by_label("Kind").select_option("STATIC")
    await builder.get_by_role("button", name="Create segment").click()
    upload = page.get_by_role("form", name="Upload members of Hand-picked")
    await upload.get_by_label("Player ids or e-mail addresses").fill(
        f"{consenting[0].uuid}\n{consenting[1].uuid}\n{uuid.uuid4()}"  # ids: marketing reads no e-mail addresses
    )
    await upload.get_by_role("button", name="Upload members").click()
    await expect(page.get_by_role("status").first).to_contain_text(
        "2 added to Hand-picked, 0 already there, 1 not found (lines 3)."
    )
    await expect(cell(page, "Hand-picked").locator("td.num")).to_have_text("2")

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    other = await context.new_page()
    try:
        await sign_in(other, support)
        await expect(other.get_by_role("link", name="Players")).to_be_visible()
        await expect(other.get_by_role("link", name="Segments")).to_have_count(0)
    finally:
        await context.close()
