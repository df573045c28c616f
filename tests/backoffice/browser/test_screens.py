"""The back office in a real browser (Debian's Chromium, headless) against a live server: every
screen, as the staff who use it, and what a role may not read or do is neither shown nor offered."""

from __future__ import annotations

import re
from typing import Any

import httpx
from playwright.async_api import expect

from integrations.demo.provider import fair
from tests.backoffice.browser.conftest import FIRST_SIGN_IN_MS, cell, new_key, sign_in
from tests.conftest import PASSWORD, fund, next_totp
from tests.live.test_demo_round import launch

WITHDRAW = """
mutation($input: RequestWithdrawalInput!) {
  requestWithdrawal(input: $input) { payment { id status } errors { code message } }
}"""


async def funded_withdrawal(rt: Any, gql: Any, player: Any, *, funds: str, amount: str) -> None:
    """The player has `funds` ("500.00 EUR") and asks to withdraw `amount`: it waits in finance's queue."""
    await fund(rt, player, funds)
    body = await gql(
        WITHDRAW,
        {"input": {"amount": amount, "currency": "EUR", "method": "BANK_TRANSFER", "idempotencyKey": new_key()}},
        token=player.token,
    )
    assert body["data"]["requestWithdrawal"]["payment"]["status"] == "REQUESTED", body


async def test_staff_sign_in_with_their_authenticator_code(page: Any, make_staff: Any) -> None:
    staff = await make_staff("support", login=False)
    await page.goto("/admin/")
    await page.get_by_label("Email").fill(staff.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_label("Authenticator code").fill(
        "000000" if next_totp(staff.totp_secret) != "000000" else "111111"
    )
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("The two-factor code is wrong or was already used.")

    await page.get_by_label("Authenticator code").fill(next_totp(staff.totp_secret))
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("navigation", name="Screens")).to_be_visible(timeout=FIRST_SIGN_IN_MS)
    await expect(page.get_by_text(staff.email.split("@")[0], exact=True)).to_be_visible()
    await expect(page.get_by_role("combobox", name="Find a player")).to_be_focused()

    # The GraphQL client module refreshes the tokens (refresh tokens work once: a new pair comes back),
    # and the session survives a reload with them.
    before = await page.evaluate("JSON.parse(sessionStorage.getItem('croupier.tokens')).refreshToken")
    await page.evaluate("import('/admin/app/ui.js').then(({ client }) => client.refresh())")
    after = await page.evaluate("JSON.parse(sessionStorage.getItem('croupier.tokens')).refreshToken")
    assert after != before
    await page.reload()
    await expect(page.get_by_role("combobox", name="Find a player")).to_be_visible()

    # A token the server no longer accepts ends the session in the page: back to the sign-in screen.
    await page.evaluate("""() => {
        const tokens = JSON.parse(sessionStorage.getItem('croupier.tokens'));
        sessionStorage.setItem('croupier.tokens', JSON.stringify({...tokens, accessToken: 'not-a-token'}));
    }""")
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in to the back office")).to_be_visible()

    await sign_in(page, staff, step_offset=1)  # each code works once: the next one
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to the back office")).to_be_visible()


async def test_search_as_you_type_and_the_player_360(page: Any, rt: Any, make_player: Any, make_staff: Any) -> None:
    alice = await make_player(
        email="alice.andersson@example.com", firstName="Alice", lastName="Andersson", phone="+356 9912 3456"
    )
    await make_player(email="albert@example.com", firstName="Albert", lastName="Zed")
    await fund(rt, alice, "250.00 EUR", deposit=True)  # the 360 lists it as a deposit
    support = await make_staff("support", login=False)
    await sign_in(page, support)

    box = page.get_by_role("combobox", name="Find a player")
    await box.fill("al")
    await expect(page.get_by_role("option")).to_have_count(2)
    await box.fill("alice")
    await expect(page.get_by_role("option")).to_have_count(1)
    await box.fill("9912 3456")
    await expect(page.get_by_role("option")).to_have_text(re.compile("alice.andersson@example.com"))
    await box.fill("nobody-here")
    await expect(page.get_by_text("No player matches “nobody-here”.")).to_be_visible()
    await box.fill("alice")
    await expect(page.get_by_role("option")).to_have_count(1)
    await box.press("ArrowDown")
    await expect(page.get_by_role("option")).to_have_attribute("aria-selected", "true")
    await box.press("Enter")  # the keyboard opens the 360

    await expect(page.get_by_role("heading", name="Alice Andersson")).to_be_visible()
    profile = page.locator("cr-player-profile")
    await expect(profile.get_by_text("alice.andersson@example.com")).to_be_visible()
    await expect(page.locator("cr-player-balances")).to_contain_text("250.00 EUR")
    transactions = page.locator("cr-player-transactions")
    await expect(transactions).to_contain_text("deposit")
    await transactions.get_by_role("button", name="Show postings").click()
    await expect(transactions.get_by_role("table", name="Postings")).to_contain_text("psp · psp clearing")
    await expect(page.locator("cr-player-sessions")).to_contain_text("Sessions and devices")
    await expect(page.locator("cr-player-rounds")).to_contain_text("No game rounds yet.")
    await expect(page.locator("cr-player-rg")).to_contain_text("Responsible gambling")
    await expect(page.locator("cr-player-audit-trail")).to_contain_text("player.registered")

    notes = page.locator("cr-player-notes")
    await notes.get_by_label("New note").fill("Asked about the bonus terms; sent the link.")
    await notes.get_by_role("button", name="Add note").click()
    await expect(notes.locator("article")).to_contain_text("Asked about the bonus terms; sent the link.")
    await page.reload()  # the trail is its own section: it shows the note's audit record once reloaded
    await expect(page.locator("cr-player-audit-trail")).to_contain_text("player.note_added")


async def test_finance_approve_a_large_withdrawal_with_four_eyes(
    page: Any, browser: Any, live_server: str, rt: Any, gql: Any, demo_psp: str, make_player: Any, make_staff: Any
) -> None:
    carla = await make_player(email="carla@example.com", firstName="Carla", lastName="Camilleri")
    await funded_withdrawal(rt, gql, carla, funds="3000.00 EUR", amount="2500.00")  # above four eyes (2000 EUR)
    first = await make_staff("finance", login=False)
    second = await make_staff("finance", login=False)

    await sign_in(page, first)
    await page.get_by_role("link", name="Withdrawals").click()
    row = cell(page, "Carla Camilleri")
    await expect(row).to_contain_text("2500.00 EUR")
    await row.get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_contain_text("a second finance colleague must approve it")
    await expect(row).to_contain_text("waiting for a second approver")
    await row.get_by_role("button", name="Second approval").click()  # the same person cannot be the second
    await expect(page.get_by_role("alert")).to_have_text(
        "Four eyes: a second, different finance approver must approve this withdrawal."
    )

    context = await browser.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    colleague = await context.new_page()
    try:
        await sign_in(colleague, second)
        await colleague.get_by_role("link", name="Withdrawals").click()
        await cell(colleague, "Carla Camilleri").get_by_role("button", name="Second approval").click()
        await expect(colleague.get_by_role("status")).to_contain_text("Approved 2500.00 EUR for Carla Camilleri")
        await expect(colleague.get_by_text("No withdrawal is waiting. The queue is empty.")).to_be_visible()
    finally:
        await context.close()


async def test_the_dashboard_moves_when_a_demo_bet_is_played(
    page: Any, rt: Any, demo_provider: Any, make_player: Any, make_staff: Any, brand: Any
) -> None:
    player = await make_player()
    await fund(rt, player, "20.00 EUR", deposit=True)  # counted in deposits today
    token = await launch(rt, demo_provider, player, brand, fair.DICE)
    staff = await make_staff("finance", login=False)
    await sign_in(page, staff)
    await page.get_by_role("link", name="Dashboard").click()
    bets = page.locator("[data-figure=bets-per-minute] .value")
    await expect(bets).to_have_text("0")
    await expect(page.locator("[data-figure=deposits-today] .value")).to_have_text("20.00 EUR")
    await expect(page.locator(".chart canvas").first).to_be_visible()

    async with httpx.AsyncClient(base_url=demo_provider.base, timeout=30) as http:
        await http.get("/play", params={"token": token, "game": fair.DICE, "currency": "EUR", "user": str(player.uuid)})
        played = (
            await http.post("/api/spin", json={"token": token, "game": fair.DICE, "bet": "2.00", "target": 5000})
        ).json()
    assert played["status"] == "RS_OK", played
    await expect(bets).to_have_text("1")  # pushed over graphql-ws: no reload
    await expect(page.locator("[data-figure=ggr-today] .value")).not_to_have_text("0")


async def test_support_sees_and_is_offered_only_what_its_role_allows(
    page: Any, rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(email="dora@example.com", firstName="Dora", lastName="Vella")
    await funded_withdrawal(rt, gql, player, funds="500.00 EUR", amount="150.00")
    support = await make_staff("support", login=False)
    await sign_in(page, support)

    nav = page.get_by_role("navigation", name="Screens")
    # Tournaments and jackpots are readable by support (players ask about them); their commands are not.
    screens = ["Players", "Withdrawals", "Crypto", "Dashboard", "Tournaments", "Jackpots", "Postbacks", "Messages"]
    await expect(nav.get_by_role("link")).to_have_text(screens)
    await page.goto("/admin/#/audit")  # a screen it may not use is not there even by address
    await expect(page.get_by_role("heading", name="Audit log")).to_have_count(0)

    await page.goto(f"/admin/#/players/{player.id}")
    profile = page.locator("cr-player-profile")
    await expect(profile).to_contain_text("dora@example.com")
    await expect(profile.get_by_text("Date of birth")).to_have_count(0)  # FORBIDDEN for support: not shown
    await expect(profile.get_by_role("button", name="Change status")).to_be_visible()
    await expect(page.locator("cr-player-notes")).to_contain_text("Notes")
    await expect(page.get_by_role("heading", name="Manual adjustment")).to_have_count(0)

    await page.get_by_role("link", name="Withdrawals").click()
    row = cell(page, "Dora Vella")
    await expect(row).to_contain_text("150.00 EUR")
    await expect(row.get_by_role("button")).to_have_count(0)  # reads the queue, may not decide

    marketing = await make_staff("marketing", login=False)
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, marketing)
    await page.get_by_role("combobox", name="Find a player").fill("dora")
    await expect(page.get_by_role("alert")).to_have_text("Your role may not search players by name or email.")
    await page.goto(f"/admin/#/players/{player.id}")
    await expect(page.locator("cr-player-profile")).to_contain_text("MT")
    await expect(page.locator("cr-player-profile").get_by_text("dora@example.com")).to_have_count(0)
    for hidden in (
        "cr-player-transactions",
        "cr-player-sessions",
        "cr-player-notes",
        "cr-player-audit-trail",
        "cr-player-bonuses",
    ):
        await expect(page.locator(hidden).locator("section")).to_have_count(0)


async def test_staff_of_two_brands_pick_the_brand_they_work_in(
    page: Any, make_player: Any, make_staff: Any, other_brand: Any
) -> None:
    await make_player(email="alva@example.com", firstName="Alva")
    await make_player(brand_code="northstar", email="alvar@example.se", firstName="Alvar", country="SE", currency="SEK")
    both = await make_staff("support", ("support", "northstar"), login=False)
    await sign_in(page, both)
    brand = page.get_by_label("Brand")
    await expect(brand).to_have_value("royal")  # the first of their brands
    box = page.get_by_role("combobox", name="Find a player")
    await box.fill("alva")
    await expect(page.get_by_role("listbox", name="Players found").get_by_role("option")).to_have_text(
        [re.compile("alva@example.com")]
    )
    await brand.select_option("northstar")
    await expect(box).to_have_value("")  # the screen starts over in the other brand
    await box.fill("alva")
    await expect(page.get_by_role("listbox", name="Players found").get_by_role("option")).to_have_text(
        [re.compile("alvar@example.se")]
    )


async def test_finance_makes_a_manual_adjustment_with_a_reason(
    page: Any, rt: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(email="emil@example.com", firstName="Emil", lastName="Borg")
    await fund(rt, player, "40.00 EUR", deposit=True)  # not an adjustment: the one made here is the only one
    finance = await make_staff("finance", login=False)
    await sign_in(page, finance)
    await page.goto(f"/admin/#/players/{player.id}")
    form = page.locator("cr-adjust-form")
    await form.get_by_label("Amount").fill("12.50")
    await form.get_by_label("Reason").fill("Goodwill: game froze mid-round (ticket 4711)")
    await form.get_by_role("button", name="Adjust").click()
    await expect(form.get_by_role("status")).to_have_text("Adjustment applied: 12.50 EUR.")
    await expect(page.locator("cr-player-balances")).to_contain_text("52.50 EUR")
    await expect(page.locator("cr-player-transactions")).to_contain_text("adjustment")

    await form.get_by_label("Amount").fill("12.505")  # more decimals than EUR has: refused in words
    await form.get_by_label("Reason").fill("typo")
    await form.get_by_role("button", name="Adjust").click()
    await expect(form.get_by_role("alert")).to_be_visible()
    # Above the threshold (500 EUR) a second staff member decides, on the Adjustments screen.
    await form.get_by_label("Amount").fill("600.00")
    await form.get_by_label("Reason").fill("Jackpot paid by hand (provider ticket 99)")
    await form.get_by_role("button", name="Adjust").click()
    await expect(form.get_by_role("status")).to_have_text("Sent for a second approval (600.00 EUR).")
    await page.get_by_role("link", name="Adjustments").click()
    await expect(cell(page, "Goodwill: game froze")).to_contain_text("applied")
    await cell(page, "Jackpot paid by hand").get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("alert")).to_contain_text("second")  # not the one who asked

    colleague = await make_staff("finance", login=False)
    await page.get_by_role("button", name="Sign out").click()
    await sign_in(page, colleague)
    await page.get_by_role("link", name="Adjustments").click()
    await cell(page, "Jackpot paid by hand").get_by_role("button", name="Approve").click()
    await expect(page.get_by_role("status")).to_have_text("Adjustment of 600.00 EUR approved.")
    await expect(page.get_by_text("Nothing is waiting.")).to_be_visible()


async def test_brand_admin_switches_a_game_off_and_finds_it_in_the_audit_log(
    page: Any, rt: Any, make_staff: Any
) -> None:
    from integrations.demo import seed

    await seed.seed_games(rt)
    admin = await make_staff("brand_admin", login=False)
    await sign_in(page, admin)
    await page.get_by_role("link", name="Games").click()
    row = cell(page, "Rocket Crash")
    await expect(row).to_contain_text("on")
    await row.get_by_role("button", name="Disable Rocket Crash").click()
    await expect(page.get_by_role("alert")).to_contain_text("Give a reason for the change first")
    await page.get_by_label("Reason for a change").fill("Provider incident INC-88")
    await row.get_by_role("button", name="Disable Rocket Crash").click()
    await expect(page.get_by_role("status")).to_have_text("Rocket Crash is now off at Royal Casino.")
    await expect(row.locator(".badge")).to_have_text("off")

    await page.get_by_role("link", name="Audit log").click()
    await page.get_by_label("Action").fill("game.availability_changed")
    await page.get_by_role("button", name="Filter").click()
    record = cell(page, "game.availability_changed")
    await expect(record).to_contain_text("Provider incident INC-88")
    await record.get_by_role("button", name="Changes").click()
    await expect(page.locator("pre").last).to_contain_text('"enabled": false')


async def test_support_grants_a_bonus_follows_its_wagering_and_cancels_it(
    page: Any, make_player: Any, make_staff: Any, campaign: Any
) -> None:
    await campaign("NO_DEPOSIT", {"fixed_amount": {"EUR": "10.00"}, "wagering_multiplier": 5})
    player = await make_player(email="erik@example.com", firstName="Erik", lastName="Borg")
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await page.goto(f"/admin/#/players/{player.id}")

    bonuses = page.locator("cr-player-bonuses")
    await expect(bonuses).to_contain_text("No bonuses.")
    await bonuses.get_by_label("Reason").fill("Apology for the outage on Monday")
    await bonuses.get_by_role("button", name="Grant bonus").click()
    row = bonuses.get_by_role("row").filter(has_text="no deposit")
    await expect(row).to_contain_text("10.00 EUR")
    await expect(row).to_contain_text("0.00 EUR of 50.00 EUR")  # wagering 5x the bonus
    await expect(page.locator("cr-player-balances")).to_contain_text("10.00 EUR")
    await row.get_by_role("button", name="Show history").click()
    await expect(bonuses).to_contain_text("activated")

    page.once("dialog", lambda dialog: dialog.accept("Granted to the wrong player"))
    await row.get_by_role("button", name="Cancel").click()
    await expect(bonuses.get_by_role("row").filter(has_text="no deposit")).to_contain_text("cancelled")
    await expect(bonuses.get_by_role("button", name="Cancel")).to_have_count(0)


async def test_support_excludes_a_player_with_a_reason_and_the_exclusion_shows(
    page: Any, make_player: Any, make_staff: Any
) -> None:
    player = await make_player(email="nils@example.com", firstName="Nils", lastName="Berg")
    support = await make_staff("support", login=False)
    await sign_in(page, support)
    await page.goto(f"/admin/#/players/{player.id}")

    rg = page.locator("cr-player-rg")
    await expect(rg).to_contain_text("No exclusion in force.")
    await rg.get_by_label("Exclusion").select_option(label="Self-exclusion, 1 year")
    await rg.get_by_label("Reason").fill("Asked by phone to be excluded")
    page.once("dialog", lambda dialog: dialog.accept())
    await rg.get_by_role("button", name="Exclude").click()
    await expect(rg).to_contain_text("self exclusion until")
    history = rg.get_by_role("row").filter(has_text="self exclusion started")
    await expect(history).to_contain_text("staff")
    await expect(history).to_contain_text("Asked by phone to be excluded")
