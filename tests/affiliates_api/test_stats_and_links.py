"""What a partner reads: its own links and its own players' figures, aggregated, and nothing of anyone else's.
Ownership is in the SQL (services/affiliates/portal_*.py); every list reads in a fixed number of statements."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import text

from core.clock import clock
from tests.affiliates_api.conftest import (
    CREATE_LINK,
    REVOKE_TOKEN,
    attribute,
    insert_click,
    insert_link,
    player_day,
)
from tests.conftest import error_codes, recorded_statements
from tests.test_authz import built_schema

STATS = """query($from: Date!, $to: Date!, $group: AffiliateStatsGroup!) {
  affiliatePortal { stats(from: $from, to: $to, groupBy: $group) {
    key label currency clicks registrations ftds ftdAmount deposits ngr } } }"""
LINKS = "{ affiliatePortal { links(first: 50) { edges { node { code tag brandCode landingPath url } } } } }"
TOKENS = "{ affiliatePortal { tokens { id name } } }"


def noon(day: Any) -> datetime:
    return datetime.combine(day, time(12), tzinfo=UTC)


async def two_partners(rt: Any, gql: Any, make_partner: Any, make_player: Any, brand: Any) -> Any:
    """acme: two links, four clicks, two players (one per day); rival: one link, five clicks, one big player."""
    acme = await make_partner("acme")
    rival = await make_partner("rival")
    today = clock.now().date()
    yesterday = today - timedelta(days=1)
    spring = await insert_link(rt, acme.id, brand.id, "acme-spring", "spring")
    summer = await insert_link(rt, acme.id, brand.id, "acme-summer", "summer")
    theirs = await insert_link(rt, rival.id, brand.id, "rival-main", "main")
    for _ in range(3):
        await insert_click(rt, spring, acme.id, brand.id, noon(yesterday), "s1")
    await insert_click(rt, summer, acme.id, brand.id, noon(today), None)
    for _ in range(5):
        await insert_click(rt, theirs, rival.id, brand.id, noon(today), "s1")
    first, second, big = await make_player(), await make_player(), await make_player()
    await attribute(rt, first.uuid, acme.id, brand.id, spring, noon(yesterday), "s1")
    await attribute(rt, second.uuid, acme.id, brand.id, summer, noon(today), None)
    await attribute(rt, big.uuid, rival.id, brand.id, theirs, noon(today), "s1")
    await player_day(
        rt, first.uuid, brand.id, yesterday, stakes=1000, wins=400, bonus_cost=100, deposits=2000, first_deposit=2000
    )
    await player_day(rt, second.uuid, brand.id, today, stakes=500, wins=700, deposits=1000, first_deposit=1000)
    await player_day(rt, big.uuid, brand.id, today, stakes=10**8, deposits=10**8, first_deposit=10**8)
    return acme, rival, yesterday, today


def row(key: str, clicks: int, regs: int, ftds: int, ftd: str, deposits: str, ngr: str, label: Any = None) -> Any:
    return {
        "key": key,
        "label": label,
        "currency": "EUR",
        "clicks": clicks,
        "registrations": regs,
        "ftds": ftds,
        "ftdAmount": ftd,
        "deposits": deposits,
        "ngr": ngr,
    }


async def test_stats_aggregate_the_partners_own_players_by_each_group(
    rt: Any, gql: Any, make_partner: Any, make_player: Any, brand: Any
) -> None:
    acme, _rival, yesterday, today = await two_partners(rt, gql, make_partner, make_player, brand)
    token = await acme.api_token(gql, ["STATS_READ"])
    window = {"from": yesterday.isoformat(), "to": today.isoformat()}

    async def stats(group: str) -> Any:
        body = await gql(STATS, {**window, "group": group}, token=token)
        assert "errors" not in body, body
        return body["data"]["affiliatePortal"]["stats"]

    assert await stats("DAY") == [
        row(yesterday.isoformat(), 3, 1, 1, "20.00", "20.00", "5.00"),
        row(today.isoformat(), 1, 1, 1, "10.00", "10.00", "-2.00"),
    ]
    assert await stats("SUB_ID") == [
        row("", 1, 1, 1, "10.00", "10.00", "-2.00"),
        row("s1", 3, 1, 1, "20.00", "20.00", "5.00"),
    ]
    assert await stats("LINK") == [
        row("acme-spring", 3, 1, 1, "20.00", "20.00", "5.00", "spring"),
        row("acme-summer", 1, 1, 1, "10.00", "10.00", "-2.00", "summer"),
    ]
    assert await stats("BRAND") == [row("royal", 4, 2, 2, "30.00", "30.00", "3.00")]
    # One day only: the other day's figures are not in it.
    body = await gql(STATS, {"from": today.isoformat(), "to": today.isoformat(), "group": "BRAND"}, token=token)
    assert body["data"]["affiliatePortal"]["stats"] == [row("royal", 1, 1, 1, "10.00", "10.00", "-2.00")]


async def test_stats_carry_no_personal_data(settings: Any) -> None:
    from graphql import get_named_type

    fields = set(built_schema(settings)._schema.type_map["AffiliateStatsRow"].fields)
    assert fields == {"key", "label", "currency", "clicks", "registrations", "ftds", "ftdAmount", "deposits", "ngr"}
    portal = built_schema(settings)._schema.type_map["AffiliatePortal"]
    reachable = {get_named_type(f.type).name for f in portal.fields.values()}
    assert not reachable & {"Player", "PlayerConnection", "Payment", "LedgerTransaction"}


async def test_stats_ranges_are_checked(gql: Any, make_partner: Any) -> None:
    acme = await make_partner("acme")
    today = clock.now().date()
    for start, end in ((today, today - timedelta(days=1)), (today - timedelta(days=366), today)):
        body = await gql(STATS, {"from": start.isoformat(), "to": end.isoformat(), "group": "DAY"}, token=acme.token)
        assert error_codes(body) == ["BAD_USER_INPUT"], body


async def test_a_partner_reaches_nothing_of_another_partner(
    rt: Any, gql: Any, make_partner: Any, make_player: Any, brand: Any
) -> None:
    """IDOR: another partner's stats, links and token ids lead nowhere, whatever the credential."""
    acme, rival, yesterday, today = await two_partners(rt, gql, make_partner, make_player, brand)
    rival_secret = await rival.api_token(gql, ["STATS_READ", "LINKS_READ"], name="rival feed")
    rival_tokens = (await gql(TOKENS, token=rival.token))["data"]["affiliatePortal"]["tokens"]
    rival_token_id = rival_tokens[0]["id"]
    # acme revokes rival's token by its id: no such token for acme, and it still works for rival.
    body = await gql(REVOKE_TOKEN, {"input": {"id": rival_token_id}}, token=acme.token)
    assert [e["code"] for e in body["data"]["revokeAffiliateToken"]["errors"]] == ["NOT_FOUND"]
    assert body["data"]["revokeAffiliateToken"]["token"] is None
    assert "errors" not in await gql(LINKS, token=rival_secret)
    # Lists hold one's own only.
    links = (await gql(LINKS, token=acme.token))["data"]["affiliatePortal"]["links"]["edges"]
    assert sorted(e["node"]["code"] for e in links) == ["acme-spring", "acme-summer"]
    assert [t["name"] for t in (await gql(TOKENS, token=acme.token))["data"]["affiliatePortal"]["tokens"]] == []
    body = await gql(
        STATS, {"from": yesterday.isoformat(), "to": today.isoformat(), "group": "BRAND"}, token=rival_secret
    )
    assert body["data"]["affiliatePortal"]["stats"] == [row("royal", 5, 1, 1, "1000000.00", "1000000.00", "1000000.00")]
    # Global ids reach nothing through `node` (not an affiliate's field), nor the rows of other tables.
    body = await gql("query($id: ID!) { node(id: $id) { id } }", {"id": rival_token_id}, token=acme.token)
    assert error_codes(body) == ["FORBIDDEN"]
    # No field takes a partner id: the partner is the credential's.
    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT count(*) FROM affiliate_api_tokens WHERE revoked_at IS NULL")) == 1


async def test_a_partner_makes_links_on_its_own_brands(
    rt: Any, gql: Any, make_partner: Any, brand: Any, other_brand: Any
) -> None:
    acme = await make_partner("acme")
    writer = await acme.api_token(gql, ["LINKS_WRITE"])
    reader = await acme.api_token(gql, ["STATS_READ"], name="reader")

    async def make(token: str, **given: Any) -> Any:
        return await gql(CREATE_LINK, {"input": {"brandCode": "royal", "tag": "spring", **given}}, token=token)

    made = (await make(writer, landingPath="/promo?x=1"))["data"]["createAffiliateLink"]
    assert made["errors"] == []
    link = made["link"]
    assert (link["tag"], link["brandCode"], link["landingPath"]) == ("spring", "royal", "/promo?x=1")
    assert link["url"] == f"{rt.settings.public_base_url.rstrip('/')}/a/{link['code']}"
    assert len(link["code"]) == 12

    async def refused(token: str, **given: Any) -> list[tuple[str, str | None]]:
        payload = (await make(token, **given))["data"]["createAffiliateLink"]
        assert payload["link"] is None
        return [(e["code"], e["field"]) for e in payload["errors"]]

    assert await refused(writer) == [("ALREADY_EXISTS", "tag")]
    assert await refused(writer, tag="has space") == [("INVALID_INPUT", "tag")]
    assert await refused(writer, tag="ok", landingPath="//evil.example") == [("INVALID_INPUT", "landingPath")]
    assert await refused(writer, tag="ok", landingPath="https://evil.example") == [("INVALID_INPUT", "landingPath")]
    assert await refused(writer, tag="ok", brandCode=other_brand.code) == [("NOT_FOUND", "brandCode")]
    # Without links:write the mutation is refused before it runs.
    body = await make(reader, tag="other")
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["createAffiliateLink"], "FORBIDDEN")]
    # A suspended partner makes no new links: its portal user is refused, its tokens stop working altogether.
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE affiliates SET status = 'suspended' WHERE id = :id"), {"id": acme.id})
    assert await refused(acme.token, tag="later") == [("ACCOUNT_BLOCKED", None)]
    assert error_codes(await make(writer, tag="later")) == ["UNAUTHENTICATED"]
    async with rt.database.session() as db:
        assert await db.scalar(text("SELECT count(*) FROM affiliate_links")) == 1


async def test_lists_read_in_a_fixed_number_of_statements(
    rt: Any, gql: Any, make_partner: Any, make_player: Any, brand: Any, other_brand: Any
) -> None:
    acme, _rival, yesterday, today = await two_partners(rt, gql, make_partner, make_player, brand)
    await acme.api_token(gql, ["STATS_READ"], name="one")
    window = {"from": yesterday.isoformat(), "to": today.isoformat(), "group": "LINK"}

    async def counts() -> tuple[int, int, int]:
        found = []
        for query, variables in ((LINKS, None), (TOKENS, None), (STATS, window)):
            with recorded_statements(rt) as statements:
                body = await gql(query, variables, token=acme.token)
            assert "errors" not in body, body
            found.append(len(statements))
        return found[0], found[1], found[2]

    before = await counts()
    # More links (on two brands), tokens, clicks and players: the same number of statements.
    async with rt.database.transaction() as db:
        await db.execute(
            text("INSERT INTO affiliate_brands (affiliate_id, brand_id) VALUES (:a, :b)"),
            {"a": acme.id, "b": other_brand.id},
        )
    for n in range(5):
        link = await insert_link(rt, acme.id, other_brand.id if n % 2 else brand.id, f"acme-{n}", f"tag{n}")
        await insert_click(rt, link, acme.id, brand.id, noon(today), f"s{n}")
        player = await make_player()
        await attribute(rt, player.uuid, acme.id, brand.id, link, noon(today), f"s{n}")
        await acme.api_token(gql, ["LINKS_READ"], name=f"more {n}")
    assert await counts() == before
    # The portal sign-in check, the partner, then one statement per list (links: the page and its brands).
    assert before == (4, 3, 3)
