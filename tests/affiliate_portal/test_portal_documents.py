"""The portal's own GraphQL documents (read from admin/portal/*.js, as tests/backoffice reads the back office's),
run as a partner's portal user: each list costs the same number of SQL statements for one row as for twenty
(no N+1 behind a screen). tests/backoffice/test_admin_documents.py validates them against the schema and
lists them as measured here."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from core.clock import clock
from tests.affiliates_api.conftest import Partner, attribute, insert_click, insert_link, player_day
from tests.backoffice.documents import admin_documents
from tests.conftest import recorded_statements

DOCUMENTS = admin_documents()
SMALL, LARGE = 1, 20
MEASURED = ("PortalLinks", "PortalTokens", "PortalStats", "PortalCommissions")  # the portal's lists, below


async def statements(rt: Any, gql: Any, partner: Partner, name: str, variables: dict[str, Any]) -> tuple[int, Any]:
    """The statements of one request of the document (after a first run: nothing cached counts), and its data."""
    document = DOCUMENTS.named(name)
    await gql(document.text, variables, token=partner.token)
    with recorded_statements(rt) as seen:
        body = await gql(document.text, variables, token=partner.token)
    assert "errors" not in body, body
    return len(seen), body["data"]["affiliatePortal"]


async def same_cost(
    rt: Any, gql: Any, partner: Partner, name: str, variables: dict[str, Any],
    grow: Callable[[int, int], Awaitable[None]], rows: Callable[[Any], int],
) -> None:  # fmt: skip
    await grow(0, SMALL)
    small, data = await statements(rt, gql, partner, name, variables)
    assert rows(data) == SMALL, data
    await grow(SMALL, LARGE)
    large, data = await statements(rt, gql, partner, name, variables)
    assert rows(data) == LARGE, data
    assert large == small, f"{name}: {small} statements for {SMALL} row(s), {large} for {LARGE}"


async def test_the_links_screen(rt: Any, gql: Any, brand: Any, make_partner: Any) -> None:
    partner = await make_partner("alpha")

    async def grow(start: int, stop: int) -> None:
        for n in range(start, stop):
            await insert_link(rt, partner.id, brand.id, f"alpha-{n:02d}", f"tag-{n:02d}")

    def rows(data: Any) -> int:
        return len(data["links"]["edges"])

    await same_cost(rt, gql, partner, "PortalLinks", {"first": 50, "after": None}, grow, rows)


async def test_the_tokens_screen(rt: Any, gql: Any, make_partner: Any) -> None:
    partner = await make_partner("alpha")

    async def grow(start: int, stop: int) -> None:
        for n in range(start, stop):
            await partner.api_token(gql, ["STATS_READ"], name=f"token-{n:02d}")

    await same_cost(rt, gql, partner, "PortalTokens", {}, grow, lambda data: len(data["tokens"]))


@pytest.mark.parametrize("group", ["DAY", "SUB_ID", "LINK", "BRAND"])
async def test_the_stats_screen_by_each_group(
    rt: Any, gql: Any, brand: Any, make_partner: Any, make_player: Any, group: str
) -> None:
    """One key, then twenty: by day, clicks on twenty days; by sub-id and by link, players from twenty sub-ids
    and links, each with a deposit; by brand (the partner has one), twenty players on it."""
    partner = await make_partner("alpha")
    today = clock.now().date()
    first = today - timedelta(days=LARGE - 1)
    spring = await insert_link(rt, partner.id, brand.id, "alpha-spring", "spring")

    async def grow(start: int, stop: int) -> None:
        for n in range(start, stop):
            day = today - timedelta(days=n) if group == "DAY" else today
            link = spring if group != "LINK" else await insert_link(rt, partner.id, brand.id, f"a-{n:02d}", f"t-{n}")
            at = datetime.combine(day, time(0, 10), UTC)
            await insert_click(rt, link, partner.id, brand.id, at, f"sub-{n:02d}")
            player = await make_player()
            await attribute(rt, player.uuid, partner.id, brand.id, link, at, f"sub-{n:02d}")
            await player_day(rt, player.uuid, brand.id, day, stakes=5_00, deposits=10_00, first_deposit=10_00)

    def rows(data: Any) -> int:
        return len(data["stats"]) if group != "BRAND" else sum(row["registrations"] for row in data["stats"])

    variables = {"from": first.isoformat(), "to": today.isoformat(), "groupBy": group}
    await same_cost(rt, gql, partner, "PortalStats", variables, grow, rows)


async def test_the_commissions_screen(rt: Any, gql: Any, brand: Any, make_partner: Any) -> None:
    """One approved run, then twenty (a day each, a week apart): each a row of the partner's commissions
    (second-tier lines here: the statement is the same for player lines; tests/affiliate_runs checks figures)."""
    from sqlalchemy import text

    from core.ids import new_id

    partner = await make_partner("alpha")
    first_month = date(2024, 1, 1)

    async def grow(start: int, stop: int) -> None:
        async with rt.database.transaction() as db:
            for n in range(start, stop):
                run, day = new_id(), first_month + timedelta(days=7 * n)
                await db.execute(
                    text(
                        "INSERT INTO affiliate_runs (id, brand_id, period_start, period_end, state) "
                        "VALUES (:id, :b, :d, :d, 'approved')"
                    ),
                    {"id": run, "b": brand.id, "d": day},
                )
                await db.execute(
                    text(
                        "INSERT INTO affiliate_run_lines (run_id, affiliate_id, kind, currency, second_tier) "
                        "VALUES (:run, :a, 'second_tier', 'EUR', 100)"
                    ),
                    {"run": run, "a": partner.id},
                )

    variables = {"from": first_month.isoformat(), "to": (first_month + timedelta(days=7 * LARGE)).isoformat()}
    await same_cost(rt, gql, partner, "PortalCommissions", variables, grow, lambda data: len(data["commissions"]))


def test_the_portals_lists_are_the_ones_the_back_office_test_leaves_to_this_file() -> None:
    from tests.backoffice.test_admin_documents import UNMEASURED

    for name in MEASURED:
        assert DOCUMENTS.named(name).file.startswith("portal/"), name
        assert "tests/affiliate_portal/test_portal_documents.py" in UNMEASURED[name], name
