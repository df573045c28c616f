"""The partner portal in a real browser (Debian's Chromium, headless) against a live server: a partner's user
signs in, reads its figures by period and by day, sub-id, link and brand, makes and copies links and manages
its API tokens — and sees nothing of another partner."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import httpx
from playwright.async_api import expect

from tests.affiliate_portal.conftest import Figures
from tests.affiliate_portal.steps import choose_period, portal_sign_in
from tests.backoffice.browser.conftest import FIRST_SIGN_IN_MS
from tests.conftest import PASSWORD

LOOPBACK = "127.0.0.1"
STATS = '{ affiliatePortal { stats(from: "2020-01-01", to: "2020-01-02") { key } } }'
LINKS = "{ affiliatePortal { links { edges { node { code } } } } }"
PORTAL = "{ affiliatePortal { partner { code } } }"


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


async def test_a_partner_signs_in_stays_signed_in_and_signs_out(page: Any, live_server: str, make_partner: Any) -> None:
    partner = await make_partner("alpha")
    await page.goto("/portal/")
    await page.get_by_label("Email").fill(partner.email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")

    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    nav = page.get_by_role("navigation", name="Screens")
    await expect(nav).to_be_visible(timeout=FIRST_SIGN_IN_MS)
    await expect(page.get_by_text("Alpha Media Ltd")).to_be_visible()
    await expect(nav.get_by_role("link", name="Dashboard")).to_have_attribute("aria-current", "page")
    for screen in ("Dashboard", "Stats", "Links", "Commissions", "API tokens"):  # a portal user holds every scope
        await nav.get_by_role("link", name=screen).click()
        await expect(page.get_by_role("heading", name=screen, exact=True)).to_be_visible()
        await expect(nav.get_by_role("link", name=screen)).to_have_attribute("aria-current", "page")

    # The token lives under the portal's own key: a back-office session in the same tab is left alone.
    stored = await page.evaluate("Object.keys(sessionStorage)")
    assert "croupier.portal.croupier.tokens" in stored
    assert "croupier.tokens" not in stored
    await page.reload()
    await expect(nav).to_be_visible()

    # A token the server no longer takes (a portal sign-in expires after 15 minutes, with no refresh token):
    # the next request returns the page to the sign-in, saying why.
    await page.evaluate("import('/portal/portal.js').then(({ client }) => client.setTokens({ accessToken: 'x' }))")
    await nav.get_by_role("link", name="Links").click()
    await expect(page.get_by_role("alert")).to_have_text("Your session has ended. Please sign in again.")
    await page.get_by_label("Email").fill(partner.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(nav.get_by_role("link", name="Links")).to_have_attribute("aria-current", "page")

    token = await page.evaluate("JSON.parse(sessionStorage.getItem('croupier.portal.croupier.tokens')).accessToken")
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in to the partner portal")).to_be_visible()
    await expect(page.get_by_role("alert")).to_have_count(0)  # signed out on purpose: nothing to explain
    assert "croupier.portal.croupier.tokens" not in await page.evaluate("Object.keys(sessionStorage)")
    async with httpx.AsyncClient(base_url=live_server) as http:  # the sign-in ended on the server too
        answer = await http.post("/graphql", json={"query": PORTAL}, headers={"Authorization": f"Bearer {token}"})
    assert [e["extensions"]["code"] for e in answer.json()["errors"]] == ["UNAUTHENTICATED"], answer.text


async def test_a_session_that_is_not_a_partners_is_ended(page: Any, make_player: Any) -> None:
    """A player's token where the portal keeps its own (affiliatePortal answers null for it): signed out."""
    player = await make_player()
    await page.goto("/portal/")
    await page.evaluate(
        "token => sessionStorage.setItem('croupier.portal.croupier.tokens', JSON.stringify({accessToken: token}))",
        player.token,
    )
    await page.reload()
    await expect(page.get_by_role("alert")).to_have_text("This account has no access to the partner portal.")
    await expect(page.get_by_role("navigation", name="Screens")).to_have_count(0)


async def test_the_dashboard_adds_up_the_partners_own_figures_for_the_period(page: Any, figures: Figures) -> None:
    await portal_sign_in(page, figures.alpha.email)
    await choose_period(page, figures.yesterday, figures.today)
    tiles = page.locator("cp-dashboard .tiles[data-currency=EUR]")
    expected = {
        "Clicks": "6", "Registrations": "3", "FTDs": "2", "Click to FTD": "33.3 %",
        "FTD amount": "125.50 EUR", "Deposits": "125.50 EUR", "NGR": "25.00 EUR",
    }  # fmt: skip
    for label, value in expected.items():
        await expect(tiles.get_by_role("group", name=label, exact=True).locator(".value")).to_have_text(value)

    await choose_period(page, figures.yesterday, figures.yesterday)  # the day before: one click, nobody else
    await expect(tiles.get_by_role("group", name="Clicks", exact=True).locator(".value")).to_have_text("1")
    await expect(tiles.get_by_role("group", name="Registrations", exact=True).locator(".value")).to_have_text("0")
    await expect(tiles.get_by_role("group", name="Click to FTD", exact=True).locator(".value")).to_have_text("0.0 %")
    assert "999.99" not in await page.content()  # beta's first deposit


async def test_stats_by_day_sub_id_link_and_brand(page: Any, figures: Figures) -> None:
    await portal_sign_in(page, figures.alpha.email)
    await page.get_by_role("navigation", name="Screens").get_by_role("link", name="Stats").click()
    await choose_period(page, figures.yesterday, figures.today)
    table = page.get_by_role("table", name="Stats by day")
    columns = ["Clicks", "Registrations", "FTDs", "FTD amount", "Deposits", "NGR"]

    async def row_is(key: str, *values: str) -> None:
        await expect(table.locator(f"tbody tr[data-key='{key}'] td.num")).to_have_text(list(values))

    await row_is(figures.yesterday.isoformat(), "1", "0", "0", "0.00 EUR", "0.00 EUR", "0.00 EUR")
    await row_is(figures.today.isoformat(), "5", "3", "2", "125.50 EUR", "125.50 EUR", "25.00 EUR")
    await expect(table.locator("tfoot tr[data-currency=EUR] td.num")).to_have_text(
        ["6", "3", "2", "125.50 EUR", "125.50 EUR", "25.00 EUR"]
    )
    await expect(table.locator("thead th.num")).to_have_text(columns)

    group = page.get_by_label("Group by")
    await group.select_option("SUB_ID")
    table = page.get_by_role("table", name="Stats by sub-id")
    await row_is("s1", "3", "2", "1", "100.00 EUR", "100.00 EUR", "30.00 EUR")
    await row_is("s2", "2", "1", "1", "25.50 EUR", "25.50 EUR", "-5.00 EUR")
    await row_is("", "1", "0", "0", "0.00 EUR", "0.00 EUR", "0.00 EUR")  # the click without a sub-id
    await expect(table.locator("tbody tr[data-key=''] td").first).to_have_text("none")
    await expect(table.locator("tbody tr")).to_have_count(3)  # no beta-sub

    await group.select_option("LINK")
    table = page.get_by_role("table", name="Stats by link")
    await row_is("alpha-spring", "4", "2", "1", "100.00 EUR", "100.00 EUR", "30.00 EUR")
    await row_is("alpha-summer", "2", "1", "1", "25.50 EUR", "25.50 EUR", "-5.00 EUR")
    await expect(table.locator("tbody tr[data-key=alpha-spring] td").first).to_have_text("alpha-spring spring")
    await expect(table.locator("tbody tr")).to_have_count(2)

    await group.select_option("BRAND")
    table = page.get_by_role("table", name="Stats by brand")
    await row_is("royal", "6", "3", "2", "125.50 EUR", "125.50 EUR", "25.00 EUR")
    await expect(table.locator("tbody tr")).to_have_count(1)

    await page.reload()  # the period and the grouping are kept
    await expect(page.get_by_role("table", name="Stats by brand")).to_be_visible()
    await choose_period(page, figures.today, figures.yesterday)
    await expect(page.get_by_role("alert")).to_have_text("The period must start on or before its last day.")
    assert "beta" not in (await page.content()).lower()


async def test_the_other_partner_sees_only_its_own(page: Any, figures: Figures) -> None:
    await portal_sign_in(page, figures.beta.email)
    await choose_period(page, figures.yesterday, figures.today)
    tiles = page.locator("cp-dashboard .tiles[data-currency=EUR]")
    await expect(tiles.get_by_role("group", name="Clicks", exact=True).locator(".value")).to_have_text("9")
    await expect(tiles.get_by_role("group", name="FTD amount", exact=True).locator(".value")).to_have_text("999.99 EUR")
    await page.get_by_role("navigation", name="Screens").get_by_role("link", name="Links").click()
    await expect(page.locator("cp-links tbody tr")).to_have_count(1)
    await expect(page.locator("cp-links tbody tr[data-code=beta-link]")).to_be_visible()
    assert "alpha" not in (await page.content()).lower()


async def test_a_partner_makes_a_link_and_copies_its_url(page: Any, figures: Figures) -> None:
    await page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    await portal_sign_in(page, figures.alpha.email)
    await page.get_by_role("navigation", name="Screens").get_by_role("link", name="Links").click()
    await expect(page.locator("cp-links tbody tr")).to_have_count(2)

    form = page.get_by_role("form", name="New link")
    await form.get_by_label("Brand").select_option("royal")
    await form.get_by_label("Tag").fill("autumn")
    await form.get_by_label("Landing page").fill("/promo/autumn")
    await form.get_by_role("button", name="Make link").click()
    await expect(page.get_by_role("status")).to_contain_text("Link autumn made: ")
    row = page.locator("cp-links tbody tr", has_text="autumn")
    await expect(row).to_contain_text("/promo/autumn")
    url = await row.get_by_label("URL of autumn", exact=True).input_value()
    code = await row.get_attribute("data-code")
    assert code
    assert url.endswith(f"/a/{code}"), url

    await row.get_by_role("button", name="Copy the URL of autumn").click()
    await expect(page.get_by_role("status")).to_have_text(f"Copied {url}")
    assert await page.evaluate("navigator.clipboard.readText()") == url

    await form.get_by_label("Tag").fill("autumn")  # the same tag on the same brand again: refused in words
    await form.get_by_role("button", name="Make link").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.locator("cp-links tbody tr")).to_have_count(3)


async def test_a_token_is_shown_once_works_with_its_scopes_and_is_revoked(
    page: Any, live_server: str, make_partner: Any
) -> None:
    partner = await make_partner("alpha")
    await portal_sign_in(page, partner.email)
    await page.get_by_role("navigation", name="Screens").get_by_role("link", name="API tokens").click()
    await expect(page.get_by_text("No API token yet.")).to_be_visible()

    form = page.get_by_role("form", name="New token")
    await form.get_by_label("Name").fill("reporting")
    await form.get_by_role("button", name="Create token").click()
    await expect(page.get_by_role("alert")).to_have_text("Pick at least one scope.")
    await form.get_by_label("Read stats").check()
    await form.get_by_role("button", name="Create token").click()
    box = page.get_by_role("region", name="New token secret")
    secret = await box.get_by_label("Token secret").input_value()
    assert len(secret) > 30
    row = page.locator("cp-tokens tbody tr[data-token=reporting]")
    await expect(row).to_contain_text("stats:read")
    await expect(row).to_contain_text("active")
    prefix = (await row.locator("code").inner_text()).rstrip("…")
    assert secret.startswith(prefix)
    assert len(prefix) < len(secret)

    async with httpx.AsyncClient(base_url=live_server) as http:

        async def ask(query: str) -> dict[str, Any]:
            answer = await http.post("/graphql", json={"query": query}, headers={"Authorization": f"Bearer {secret}"})
            body: dict[str, Any] = answer.json()
            return body

        assert "errors" not in await ask(STATS)  # its scope
        refused = await ask(LINKS)  # not its scope
        assert [e["extensions"]["code"] for e in refused["errors"]] == ["FORBIDDEN"], refused

        await box.get_by_role("button", name="I have stored it").click()
        await expect(box).to_have_count(0)
        await page.reload()
        assert secret not in await page.content()  # shown once: nowhere in the page any more

        await row.get_by_role("button", name="Revoke").click()
        await row.get_by_role("button", name="Revoke reporting now").click()
        await expect(page.get_by_role("status")).to_have_text("Token reporting revoked: it no longer works.")
        await expect(row).to_contain_text("revoked")
        await expect(row.get_by_role("button")).to_have_count(0)
        refused = await ask(STATS)
        assert refused["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED", refused
