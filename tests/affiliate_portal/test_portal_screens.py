"""The partner portal in a real browser (Debian's Chromium, headless) against a live server: a partner's user
signs in, reads its figures by period, makes links, reads its commissions and manages its API tokens — and
sees nothing of another partner."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from playwright.async_api import expect

LOOPBACK = "127.0.0.1"


async def test_the_sign_in_page_loads_everything_from_this_server(page: Any) -> None:
    outside: list[str] = []

    async def loopback_only(route: Any) -> None:
        if urlsplit(route.request.url).hostname == LOOPBACK:
            await route.continue_()
        else:  # what a locked-down network does: nothing leaves the machine
            outside.append(route.request.url)
            await route.abort()

    await page.context.route("**/*", loopback_only)
    await page.goto("/portal/")
    await expect(page.get_by_role("heading", name="Sign in to the partner portal")).to_be_visible()
    await expect(page.get_by_label("Authenticator code")).to_have_count(0)  # partners sign in without one
    assert outside == [], f"the portal asked for {outside}"
