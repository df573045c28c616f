"""Partner portal fixtures: the back office's browser (Debian's Chromium driven by Playwright against the
`live_server` process, a fresh context per test), and the portal user's sign-in as a partner does it."""

from __future__ import annotations

from typing import Any

from tests.backoffice.browser.conftest import FIRST_SIGN_IN_MS, browser, page  # noqa: F401  (fixtures)
from tests.conftest import PASSWORD


async def portal_sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """The sign-in screen, as a partner's user does it: email and password, then the dashboard."""
    await page.goto("/portal/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Screens").wait_for(timeout=FIRST_SIGN_IN_MS)
