"""Browser fixtures: one headless Debian Chromium per test session (Playwright, never a downloaded
browser) driving the back office of the `live_server` process; a fresh browser context per test."""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.bonuses.conftest import campaign  # noqa: F401  (fixture: campaigns built by marketing)
from tests.cashier.conftest import card_deposit, psp  # noqa: F401  (fixtures: real card deposits, for reports)
from tests.conftest import PASSWORD, next_totp
from tests.kyc.conftest import idv  # noqa: F401  (fixture: the demo IDV provider, for the KYC section)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ADMIN_MODULES = Path(__file__).resolve().parents[3] / "admin" / "node_modules" / "lit"
MISSING = (
    "Debian's chromium (apt-get install chromium)"
    if not CHROMIUM.exists()
    else "admin/node_modules (npm install in admin/)"
    if not ADMIN_MODULES.exists()
    else None
)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    if MISSING:
        if os.environ.get("CI"):
            pytest.fail(f"the browser tests need {MISSING}: scripts/test.sh installs it")
        pytest.skip(f"the browser tests need {MISSING}: run scripts/test.sh")
    from playwright.async_api import async_playwright, expect

    expect.set_options(timeout=30_000)  # waiting limits, not speed checks: CI machines are shared

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[FAILED] = report.failed
    return report


FAILED = pytest.StashKey[bool]()


@pytest.fixture
async def page(browser: Any, live_server: str, request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)  # a waiting limit, not a speed check: CI machines are shared
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda error: problems.append(str(error)))
    yield tab
    if request.node.stash.get(FAILED, False):  # what the browser showed, for whoever reads the failure
        shot = Path(tempfile.gettempdir()) / f"croupier-{request.node.name}.png"
        await tab.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failure: {shot}")
    await context.close()
    assert problems == [], problems  # no uncaught script error on any screen


async def sign_in(page: Any, staff: Any, *, step_offset: int = 0) -> None:
    """The login screen, as a staff member does it: email, password and the authenticator's code."""
    await page.goto("/admin/")
    await page.get_by_label("Email").fill(staff.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Authenticator code").fill(next_totp(staff.totp_secret, step_offset))
    await page.get_by_role("button", name="Sign in").click()
    await page.get_by_role("navigation", name="Screens").wait_for(timeout=FIRST_SIGN_IN_MS)


# The first request of each role set makes the server evaluate the whole policy for it (seconds on a
# busy machine, until the decision cache is warmed at start-up): signing in may wait that long.
FIRST_SIGN_IN_MS = 60_000


def cell(page: Any, row_text: str) -> Any:
    """The table row holding `row_text`."""
    return page.locator("tr", has_text=row_text)


def new_key() -> str:
    return str(uuid.uuid4())
