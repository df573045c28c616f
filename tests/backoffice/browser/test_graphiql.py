"""GraphiQL works on a network with no way out: its page, scripts and styles all come from the server."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from playwright.async_api import expect

LOOPBACK = "127.0.0.1"


async def test_graphiql_runs_a_query_with_nothing_fetched_beyond_loopback(page: Any, brand: Any) -> None:
    outside: list[str] = []
    inside: list[str] = []

    async def loopback_only(route: Any) -> None:
        url = route.request.url
        if urlsplit(url).hostname == LOOPBACK:
            inside.append(url)
            await route.continue_()
        else:  # what a locked-down network does: nothing leaves the machine
            outside.append(url)
            await route.abort()

    await page.context.route("**/*", loopback_only)
    await page.goto("/graphql?q=" + quote("{ brands { code name } }"))
    await page.get_by_role("button", name="Execute query").click()
    await expect(page.locator(".graphiql-response")).to_contain_text('"code": "royal"')
    await expect(page.locator(".graphiql-response")).to_contain_text('"name": "Royal Casino"')

    assert outside == [], f"GraphiQL asked for {outside}"
    assert any(url.endswith("/admin/node_modules/graphiql/graphiql.min.js") for url in inside), inside
    assert any(url.endswith("/admin/node_modules/react/umd/react.production.min.js") for url in inside), inside
