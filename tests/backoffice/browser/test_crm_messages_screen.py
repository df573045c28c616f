"""The Messages screen: marketing saves a template (a broken one refused with its part), sends it to a segment,
and the log shows who got it and who was suppressed and why; support reads the log and nothing else."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from core.clock import clock
from tests.backoffice.browser.conftest import cell, sign_in
from tests.crm_channels.conftest import (  # noqa: F401  (fixtures)
    Channels,
    channels,
    consenting,
    make_segment,
    provider,
    smtp,
)

SELF_EXCLUDE = """mutation { selfExclude(input: {length: SIX_MONTHS, confirm: true}) { errors { code } } }"""


async def test_marketing_sends_a_template_to_a_segment_and_the_log_says_who_was_suppressed(
    page: Any,
    browser: Any,
    live_server: str,
    rt: Any,
    gql: Any,
    brand: Any,
    channels: Channels,  # noqa: F811
    consenting: Any,  # noqa: F811
    make_staff: Any,
) -> None:
    marketing = await make_staff("marketing", login=False)
    support = await make_staff("support", login=False)
    fine, excluded = await consenting(), await consenting()
    assert (await gql(SELF_EXCLUDE, token=excluded.token))["data"]["selfExclude"]["errors"] == []
    segment = await make_segment(rt, brand.id, [fine.uuid, excluded.uuid])

    await sign_in(page, marketing)
    await page.get_by_role("link", name="Messages").click()
    await expect(page.get_by_text("No template yet.")).to_be_visible()
    await expect(page.get_by_text("No message yet.")).to_be_visible()
    form = page.get_by_role("form", name="Template")
    await form.get_by_label("Key").fill("spring")
    await form.get_by_label("Subject").fill("Spring at {{ brand.name }}")
    await form.get_by_label("HTML body").fill("<p>{% if %}</p>")
    await form.get_by_label("Text body").fill("Hello {{ player.first_name }}")
    await form.get_by_role("button", name="Save template").click()
    await expect(page.get_by_role("alert")).to_contain_text("does not compile")
    await form.get_by_label("HTML body").fill("<p>Hello {{ player.first_name }}, {{ brand.name }}</p>")
    await form.get_by_role("button", name="Save template").click()
    await expect(page.get_by_role("status")).to_contain_text("Template spring (en) saved, version 1.")
    await expect(cell(page, "Spring at {{ brand.name }}")).to_contain_text("spring")

    send = page.get_by_role("form", name="Send to a segment")
    await send.get_by_label("Segment id").fill(str(segment))
    await send.get_by_label("Template").fill("spring")
    await send.get_by_label("Channel").select_option("EMAIL")
    await send.get_by_label("Batch key").fill("2026-spring")
    await send.get_by_role("button", name="Send").click()
    await expect(page.get_by_role("status")).to_contain_text("Queued 2 of 2 members (0 already queued).")
    await expect(page.get_by_role("table", name="Message log").locator("tbody > tr")).to_have_count(2)

    await channels.settle()
    clock.reset()  # settling may move this process's clock; the server's (and TOTP's) never moved
    assert [m.recipients for m in channels.smtp.mails] == [[fine.email]]
    await page.get_by_label("Status").select_option("SUPPRESSED")
    rows = page.get_by_role("table", name="Message log").locator("tbody > tr")
    await expect(rows).to_have_count(1)
    await expect(rows).to_contain_text("SELF_EXCLUDED")

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    other = await context.new_page()
    try:
        await sign_in(other, support)
        await other.get_by_role("link", name="Messages").click()
        await other.get_by_label("Status").select_option("SENT")
        await expect(cell(other, "Spring at Royal Casino")).to_contain_text("sent")
        await expect(other.get_by_role("table", name="Templates")).to_have_count(0)
        await expect(other.get_by_role("form", name="Send to a segment")).to_have_count(0)
    finally:
        await context.close()
