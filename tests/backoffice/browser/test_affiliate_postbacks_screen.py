"""The Postbacks screen: a brand admin adds a partner's postback (the secret shown once), sees a failed
delivery's tries and retries it, switches the config off; support reads the log without URLs and changes nothing."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from core.clock import clock
from tests.affiliate_postbacks.conftest import (  # noqa: F401  (fixtures)
    Postbacks,
    attribute,
    partner,
    postbacks,
    receiver,
    wired,
)
from tests.affiliate_postbacks.receiver import FAIL, Receiver
from tests.backoffice.browser.conftest import cell, sign_in


async def test_a_brand_admin_configures_a_postback_and_retries_a_failed_delivery_support_only_reads(
    page: Any,
    browser: Any,
    live_server: str,
    wired: Postbacks,  # noqa: F811
    receiver: Receiver,  # noqa: F811
    partner: Any,  # noqa: F811
    attribute: Any,  # noqa: F811
    make_player: Any,
    make_staff: Any,
) -> None:
    admin = await make_staff("brand_admin", login=False)
    support = await make_staff("support", login=False)

    await sign_in(page, admin)
    await page.get_by_role("link", name="Postbacks").click()
    await expect(page.get_by_text("No postback configured.")).to_be_visible()
    form = page.get_by_role("form", name="New postback")
    await form.get_by_label("Partner").fill("acme")
    await form.get_by_label("Trigger").select_option("REGISTRATION")
    await form.get_by_label("Brand").fill("royal")
    await form.get_by_label("URL template").fill(receiver.base + "/pb?id={event_id}&ref={player_ref}")
    await form.get_by_role("button", name="Add postback").click()
    await expect(page.get_by_role("status").first).to_contain_text("Postback added for acme.")
    await expect(page.get_by_label("New secret")).to_contain_text("whsec_")
    config = cell(page, "/pb?id={event_id}&ref={player_ref}")
    await expect(config).to_contain_text("registration")
    await expect(config).to_contain_text("active")

    failing, answered = await make_player(), await make_player()
    failing_event, _ = await attribute(failing.uuid, partner)
    await attribute(answered.uuid, partner)
    receiver.will(failing_event, *[FAIL] * 6)
    await wired.enqueue()
    await wired.settle()
    clock.reset()  # settling moved this process's clock past the backoffs; the server's (and TOTP's) never moved

    await page.get_by_role("button", name="Refresh").click()
    await page.get_by_label("Status").select_option("FAILED")
    row = cell(page, f"#{failing_event}")
    await expect(row).to_contain_text("failed")
    await expect(row).to_contain_text("6 / 6")
    await expect(row).to_contain_text("HTTP 500")
    await row.get_by_role("button", name="Tries").click()
    await expect(row.get_by_label("Tries").locator("tbody tr")).to_have_count(6)
    await row.get_by_role("button", name="Retry now").click()
    await expect(page.get_by_text("No postback sent yet.")).to_be_visible()  # no longer failed
    await page.get_by_label("Status").select_option("PENDING")
    await expect(cell(page, f"#{failing_event}")).to_contain_text("6 / 11")

    await config.get_by_role("button", name="Switch off").click()
    await expect(page.get_by_role("status").first).to_contain_text("Postback switched off.")
    await expect(cell(page, "/pb?id={event_id}&ref={player_ref}")).to_contain_text("off")

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    other = await context.new_page()
    try:
        await sign_in(other, support)
        await other.get_by_role("link", name="Postbacks").click()
        mine = cell(other, f"#{failing_event}")
        await expect(mine).to_contain_text("not shown to your role")
        await expect(other.get_by_role("table", name="Postback deliveries").locator("tbody > tr")).to_have_count(2)
        await expect(other.get_by_role("button", name="Retry now")).to_have_count(0)
        await expect(other.get_by_role("form", name="New postback")).to_have_count(0)
        await expect(other.get_by_role("table", name="Postback configs")).to_have_count(0)
    finally:
        await context.close()
