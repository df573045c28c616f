"""What a partner's user does in the portal, as steps of the browser tests."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.backoffice.browser.conftest import FIRST_SIGN_IN_MS
from tests.conftest import PASSWORD


async def portal_sign_in(page: Any, email: str, password: str = PASSWORD) -> None:
    """The sign-in screen, as a partner's user does it: email and password, then the dashboard."""
    await page.goto("/portal/")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Screens").wait_for(timeout=FIRST_SIGN_IN_MS)


async def choose_period(page: Any, start: date, end: date) -> None:
    period = page.get_by_role("group", name="Period")
    await period.get_by_label("From").fill(start.isoformat())
    await period.get_by_label("To").fill(end.isoformat())
