"""The tournaments screens: a brand admin schedules a tournament from the form; a running tournament's page
shows the live leaderboard and follows a new score without a reload; verifying names scores without
rounds behind them; a finished
tournament is settled (its results hash shown), another cancelled; support reads the board without the steps."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from playwright.async_api import expect
from sqlalchemy import text

from tests.backoffice.browser.conftest import cell, sign_in
from tests.tournaments_live.conftest import Tournaments, gid


async def test_a_brand_admin_schedules_a_tournament_from_the_form(page: Any, make_staff: Any, brand: Any) -> None:
    admin = await make_staff("brand_admin", login=False)
    await sign_in(page, admin)
    await page.get_by_role("link", name="Tournaments").click()
    await expect(page.get_by_text("No tournament matches.")).to_be_visible()
    await page.get_by_role("button", name="New tournament").click()
    form = page.get_by_role("form", name="New tournament")
    await form.get_by_label("Name").fill("Friday drop")
    await form.get_by_label("Starts").fill("2030-05-03T18:00")
    await form.get_by_label("Ends").fill("2030-05-03T22:00")
    await form.get_by_label("Entry").select_option("AUTOMATIC")
    await form.get_by_role("button", name="Schedule").click()
    await expect(page.get_by_role("status")).to_have_text("Tournament Friday drop scheduled.")
    row = cell(page, "Friday drop")
    await expect(row).to_contain_text("scheduled")
    await expect(row).to_contain_text("automatic")

    await page.get_by_role("button", name="New tournament").click()  # a refusal is said, not swallowed
    form = page.get_by_role("form", name="New tournament")
    await form.get_by_label("Name").fill("Backwards")
    await form.get_by_label("Starts").fill("2030-05-03T22:00")
    await form.get_by_label("Ends").fill("2030-05-03T18:00")
    await form.get_by_role("button", name="Schedule").click()
    await expect(form.get_by_role("alert")).not_to_be_empty()


async def test_the_live_leaderboard_follows_a_new_score_and_the_standings_verify(
    page: Any, rt: Any, make_player: Any, make_staff: Any, brand: Any
) -> None:
    ada, bob = await make_player(), await make_player()
    tournaments = Tournaments(rt)
    tournament = await tournaments.create(brand.id, name="Live drop")
    await tournaments.scored(tournament, [(ada.uuid, 120, 1), (bob.uuid, 80, 2)])
    admin = await make_staff("brand_admin", login=False)
    await sign_in(page, admin)
    await page.get_by_role("link", name="Tournaments").click()
    await cell(page, "Live drop").get_by_role("link", name="Live drop").click()

    board = page.get_by_role("region", name="Live leaderboard")
    await expect(board.locator("[data-live]")).to_contain_text("live")
    await expect(board.locator("tr[data-rank='1']")).to_contain_text("120")
    await expect(board.locator("tr[data-rank='2']")).to_contain_text("80")

    await tournaments.scored(tournament, [(bob.uuid, 150, 3)])  # committed by the scoring consumer elsewhere
    await expect(board.locator("tr[data-rank='1']")).to_contain_text("150")  # pushed over graphql-ws: no reload
    await expect(board.locator("tr[data-rank='2']")).to_contain_text("120")
    await board.locator("tr[data-rank='1']").get_by_role("link").click()  # the entrant's 360
    await expect(page).to_have_url(f"{page.url.split('#')[0]}#/players/{quote(bob.id, safe='')}")

    await page.go_back()
    results = page.get_by_role("region", name="Results")
    await results.get_by_role("button", name="Verify standings").click()
    # These scores were written without rounds behind them (tests/tournaments_live/test_verification.py
    # verifies real play): the verification says so, entrant by entrant.
    await expect(results.locator("[data-verification]")).to_contain_text("differs")
    await expect(results.locator("ul.error li")).to_have_count(2)
    await expect(results.locator("ul.error")).to_contain_text(str(bob.uuid))
    await live_cleanup(rt)


async def test_a_finished_tournament_is_settled_and_another_cancelled(
    page: Any, rt: Any, make_player: Any, make_staff: Any, brand: Any
) -> None:
    ada = await make_player()
    tournaments = Tournaments(rt)
    finished = await tournaments.create(brand.id, name="Done drop")
    running = await tournaments.create(brand.id, name="Doomed drop")
    await tournaments.scored(finished, [(ada.uuid, 10, 1)])
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE tournaments SET state = 'finished' WHERE id = :t"), {"t": finished})
    admin = await make_staff("brand_admin", login=False)
    await sign_in(page, admin)
    await page.goto(f"/admin/#/tournaments/{gid('Tournament', finished)}")
    steps = page.get_by_role("region", name="Steps")
    await steps.get_by_role("button", name="Settle").click()
    await expect(page.get_by_role("status")).to_have_text("Tournament settled.")
    await expect(page.get_by_role("heading", name="Done drop")).to_contain_text("settled")
    await expect(page.get_by_role("region", name="Results").locator("code").first).to_have_text(
        re.compile(r"^[0-9a-f]{64}$")
    )

    await page.goto(f"/admin/#/tournaments/{gid('Tournament', running)}")
    steps = page.get_by_role("region", name="Steps")
    await steps.get_by_role("button", name="Cancel tournament").click()
    await expect(page.get_by_role("alert")).to_have_text("Give a reason to cancel.")
    await steps.get_by_label("Reason to cancel").fill("Provider outage")
    await steps.get_by_role("button", name="Cancel tournament").click()
    await expect(page.get_by_role("status")).to_have_text("Tournament cancelled: buy-ins refunded.")
    await expect(page.get_by_role("heading", name="Doomed drop")).to_contain_text("cancelled")
    await live_cleanup(rt)


async def test_support_watches_the_board_without_the_steps(
    page: Any, rt: Any, make_player: Any, make_staff: Any, brand: Any
) -> None:
    ada = await make_player()
    tournaments = Tournaments(rt)
    tournament = await tournaments.create(brand.id, name="Watched drop")
    await tournaments.scored(tournament, [(ada.uuid, 33, 1)])
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await page.get_by_role("link", name="Tournaments").click()
    await expect(page.get_by_role("button", name="New tournament")).to_have_count(0)
    await cell(page, "Watched drop").get_by_role("link", name="Watched drop").click()
    await expect(page.get_by_role("region", name="Live leaderboard").locator("tr[data-rank='1']")).to_contain_text("33")
    await expect(page.get_by_role("region", name="Steps")).to_have_count(0)
    await live_cleanup(rt)


async def live_cleanup(rt: Any) -> None:
    from services.tournaments import live

    await live.publisher_of(rt.redis).close()  # no trailing publication left for the next test
