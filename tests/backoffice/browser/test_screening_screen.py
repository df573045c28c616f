"""The screening match review screen in a real browser: a KYC officer finds the Latin registration that
matched a Cyrillic list entry, reads why, and records a false positive with a reason; support is not
offered the screen."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.async_api import expect

from tests.aml.conftest import screening  # noqa: F401  (fixture: the screening consumer, drained on demand)
from tests.backoffice.browser.conftest import sign_in


async def test_a_kyc_officer_reviews_a_match_and_records_a_false_positive(
    page: Any,
    make_player: Any,
    make_staff: Any,
    screening: Any,  # noqa: F811
) -> None:
    player = await make_player(firstName="Dmitriy", lastName="Sarychev", born=date(1968, 4, 12))
    await screening.drain()
    officer = await make_staff("kyc_officer", login=False)
    await sign_in(page, officer)
    await page.get_by_role("link", name="Screening").click()
    match = page.get_by_role("region", name="Match of Dmitriy Sarychev")
    await expect(match).to_contain_text("Дмитрий Олегович Сарычев")
    await expect(match).to_contain_text("sanction")
    await expect(match).to_contain_text("birth date same_day")

    await match.get_by_role("button", name="False positive").click()  # no reason: refused in words
    await expect(page.get_by_role("alert")).to_contain_text("reason")
    await match.get_by_label("Reason").fill("Different person: passport 1971, Tallinn")
    await match.get_by_role("button", name="False positive").click()
    await expect(page.get_by_role("status")).to_have_text("Дмитрий Олегович Сарычев: false positive recorded.")
    await expect(page.get_by_text("No open screening alert.")).to_be_visible()
    [alert] = await screening.alerts(player.uuid)
    assert (alert["state"], alert["decision_reason"]) == ("false_positive", "Different person: passport 1971, Tallinn")


async def test_support_is_not_offered_the_screening_screen(page: Any, make_staff: Any) -> None:
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await expect(page.get_by_role("link", name="Players")).to_be_visible()
    await expect(page.get_by_role("link", name="Screening")).to_have_count(0)
