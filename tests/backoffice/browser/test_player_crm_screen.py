"""A player's marketing consents and suppression log on the player 360, in a real browser: support reads
which product may reach the player on which channel and why a message was refused (who else may read them:
tests/crm_suppression/test_consents.py)."""

from __future__ import annotations

from typing import Any

from playwright.async_api import expect

from tests.backoffice.browser.conftest import sign_in
from tests.crm_suppression.conftest import SET_CONSENTS, check


async def test_support_reads_the_consents_and_why_a_message_was_refused(
    page: Any, rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    ida = await make_player(email="ida@example.com", firstName="Ida", lastName="Ilves", marketingConsent=True)
    change = [
        {"product": "sports", "channel": "sms", "granted": True},
        {"product": "poker", "channel": "email", "granted": False},
    ]
    assert (await gql(SET_CONSENTS, {"input": {"consents": change}}, token=ida.token))["data"]["setConsents"][
        "errors"
    ] == []
    assert await check(rt, ida, channel="push", source_kind="journey") == "NO_CONSENT"
    support = await make_staff("support", login=False)

    await sign_in(page, support)
    await page.goto(f"/admin/#/players/{ida.id}")
    consents = page.locator("cr-player-consents").get_by_role("table", name="Marketing consents")
    await expect(consents.locator('[data-consent="sports:sms"]')).to_have_text("granted")
    await expect(consents.locator('[data-consent="casino:email"]')).to_have_text("granted")
    await expect(consents.locator('[data-consent="poker:email"]')).to_have_text("—")
    await expect(consents.locator('[data-consent="casino:push"]')).to_have_text("—")
    log = page.locator("cr-player-suppressions").get_by_role("table", name="Suppression log")
    await expect(log).to_contain_text("no consent")
    await expect(log).to_contain_text("push")
    await expect(log).to_contain_text("journey")
