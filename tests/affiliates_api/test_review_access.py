"""Holes found by the access review of the affiliates module: each test failed before its fix."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from strawberry import relay

from tests.affiliates_api.conftest import insert_partner
from tests.conftest import error_codes

STATS = "query($f: Date!, $t: Date!) { affiliatePortal { stats(from: $f, to: $t) { key } } }"
COMMISSIONS = "query($f: Date!, $t: Date!) { affiliatePortal { commissions(from: $f, to: $t) { total } } }"


async def test_a_bad_range_of_stats_or_commissions_is_bad_input_not_an_internal_error(
    gql: Any, make_partner: Any
) -> None:
    partner = await make_partner("acme")
    for start, end in [("9999-12-31", "9999-12-31"), ("2026-02-01", "2026-01-01"), ("2020-01-01", "2026-01-01")]:
        for query, field in [(STATS, "stats"), (COMMISSIONS, "commissions")]:
            body = await gql(query, {"f": start, "t": end}, token=partner.token)
            assert body["data"]["affiliatePortal"][field] is None, (field, start, end)
            assert error_codes(body) == ["BAD_USER_INPUT"], (field, start, end, body)


async def test_brand_staff_do_not_read_a_parent_partner_outside_their_brand(
    gql: Any, rt: Any, brand: Any, other_brand: Any, make_staff: Any
) -> None:
    parent = await insert_partner(rt, "parentco", [other_brand.id])
    child = await insert_partner(rt, "childco", [brand.id])
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE affiliates SET parent_id = :p WHERE id = :c"), {"p": parent, "c": child})
    query = "{ affiliates { edges { node { code parent { code contactEmail payoutDetails { value } } } } } }"
    staff = await make_staff(("affiliate_manager", "royal"))
    body = await gql(query, token=staff.token, brand="royal")
    assert "errors" not in body, body
    assert body["data"]["affiliates"]["edges"] == [{"node": {"code": "childco", "parent": None}}]
    # As `affiliate(id:)` answers for the parent itself.
    asked = await gql(
        "query($id: ID!) { affiliate(id: $id) { code } }",
        {"id": str(relay.GlobalID("Affiliate", str(parent)))},
        token=staff.token,
        brand="royal",
    )
    assert asked["data"] == {"affiliate": None}
    # Staff of every brand still see it.
    everywhere = await make_staff(("affiliate_manager", None))
    body = await gql(query, token=everywhere.token)
    assert body["data"]["affiliates"]["edges"][0]["node"]["parent"]["code"] == "parentco"
