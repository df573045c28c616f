"""Partner portal fixtures: the back office's browser (Debian's Chromium driven by Playwright against the
`live_server` process, a fresh context per test) and two partners with figures to read (the rows built by
tests/affiliates_api's factories). What a partner does in the page is in steps.py."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from core.clock import clock
from tests.affiliates_api.conftest import Partner, attribute, insert_click, insert_link, make_partner, player_day
from tests.backoffice.browser.conftest import (  # noqa: F401  (fixtures, and the hook behind failure screenshots)
    browser,
    page,
    pytest_runtest_makereport,
)

__all__ = ["make_partner"]  # a fixture of tests/affiliates_api, used here too


@dataclass
class Figures:
    """Alpha's and beta's traffic and players over yesterday and today (UTC days)."""

    alpha: Partner
    beta: Partner
    yesterday: date
    today: date


@pytest.fixture
async def figures(rt: Any, brand: Any, make_partner: Any, make_player: Any) -> Figures:
    """Alpha: links `spring` (code alpha-spring) and `summer` (alpha-summer); six clicks (three today on spring
    with sub-id s1, one yesterday on spring without a sub-id, two today on summer with s2); three players
    registered today (two through s1, one through s2), two of whom deposited — 100.00 EUR (NGR 30.00) and
    25.50 EUR (NGR -5.00). Beta: one link, nine clicks, one player with a 999.99 EUR first deposit."""
    alpha = await make_partner("alpha")
    beta = await make_partner("beta")
    today = clock.now().date()
    yesterday = today - timedelta(days=1)
    clicked, registered = (datetime.combine(today, time(0, minute), UTC) for minute in (10, 20))
    spring = await insert_link(rt, alpha.id, brand.id, "alpha-spring", "spring")
    summer = await insert_link(rt, alpha.id, brand.id, "alpha-summer", "summer")
    for _ in range(3):
        await insert_click(rt, spring, alpha.id, brand.id, clicked, "s1")
    await insert_click(rt, spring, alpha.id, brand.id, datetime.combine(yesterday, time(12), UTC), None)
    for _ in range(2):
        await insert_click(rt, summer, alpha.id, brand.id, clicked, "s2")
    players = [await make_player() for _ in range(3)]
    for player, link, sub_id in zip(players, (spring, spring, summer), ("s1", "s1", "s2"), strict=True):
        await attribute(rt, player.uuid, alpha.id, brand.id, link, registered, sub_id)
    first, _, third = (player.uuid for player in players)
    await player_day(rt, first, brand.id, today, stakes=50_00, wins=20_00, deposits=100_00, first_deposit=100_00)
    await player_day(rt, third, brand.id, today, stakes=10_00, wins=15_00, deposits=25_50, first_deposit=25_50)

    beta_link = await insert_link(rt, beta.id, brand.id, "beta-link", "beta-tag")
    for _ in range(9):
        await insert_click(rt, beta_link, beta.id, brand.id, clicked, "beta-sub")
    stranger = await make_player()
    await attribute(rt, stranger.uuid, beta.id, brand.id, beta_link, registered, "beta-sub")
    await player_day(rt, stranger.uuid, brand.id, today, stakes=1_00, deposits=999_99, first_deposit=999_99)
    return Figures(alpha, beta, yesterday, today)
