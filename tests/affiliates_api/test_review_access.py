"""Holes found by the access review of the affiliates module: each test failed before its fix."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from sqlalchemy import text
from strawberry import relay
from websockets.asyncio.client import connect

from tests.affiliates_api.conftest import REVOKE_TOKEN, insert_link, insert_partner
from tests.conftest import error_codes
from tests.test_subscriptions import receive, ws_url

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


PORTAL = "{ affiliatePortal { partner { code } scopes } }"


async def _ask_over(socket: Any, operation_id: str) -> dict[str, Any]:
    await socket.send(json.dumps({"id": operation_id, "type": "subscribe", "payload": {"query": PORTAL}}))
    return await receive(socket)


async def test_an_open_websocket_stops_serving_a_revoked_token_or_a_closed_partner(
    live_server: str, gql: Any, rt: Any, make_partner: Any
) -> None:
    acme = await make_partner("acme")
    beta = await make_partner("beta")
    revoked = await acme.api_token(gql, ["STATS_READ"])
    closed = await beta.api_token(gql, ["STATS_READ"])
    async with contextlib.AsyncExitStack() as stack:
        sockets = []
        for secret in (revoked, closed, acme.token):
            socket = await stack.enter_async_context(
                connect(ws_url(live_server), subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
            )
            await socket.send(json.dumps({"type": "connection_init", "payload": {"authorization": f"Bearer {secret}"}}))
            assert (await receive(socket))["type"] == "connection_ack"
            first = await _ask_over(socket, "1")
            assert first["payload"]["data"]["affiliatePortal"]["partner"] is not None, first
            assert (await receive(socket))["type"] == "complete"
            sockets.append(socket)
        listed = (await gql("{ affiliatePortal { tokens { id } } }", token=acme.token))["data"]["affiliatePortal"]
        await gql(REVOKE_TOKEN, {"input": {"id": listed["tokens"][0]["id"]}}, token=acme.token)
        async with rt.database.transaction() as db:
            await db.execute(text("UPDATE affiliates SET status = 'closed' WHERE id = :id"), {"id": beta.id})
        for socket in sockets[:2]:
            refused = await _ask_over(socket, "2")
            assert refused["type"] == "error", refused
            assert [e["extensions"]["code"] for e in refused["payload"]] == ["UNAUTHENTICATED"]
        # The portal user of the partner still open goes on; disabled, it stops too.
        still = await _ask_over(sockets[2], "2")
        assert still["payload"]["data"]["affiliatePortal"]["partner"] == {"code": "acme"}, still
        assert (await receive(sockets[2]))["type"] == "complete"
        async with rt.database.transaction() as db:
            await db.execute(
                text("UPDATE affiliate_users SET disabled_at = now() WHERE id = :id"), {"id": acme.user_id}
            )
        refused = await _ask_over(sockets[2], "3")
        assert refused["type"] == "error", refused


async def test_brand_staff_do_not_archive_a_link_on_another_brand(
    gql: Any, rt: Any, brand: Any, other_brand: Any, make_staff: Any
) -> None:
    partner = await insert_partner(rt, "both", [brand.id, other_brand.id])
    theirs = await insert_link(rt, partner, other_brand.id, "otherbrandlk1", "spring")
    ours = await insert_link(rt, partner, brand.id, "royalbrandlk1", "spring")
    staff = await make_staff(("affiliate_manager", "royal"))
    archive = "mutation($input: ArchiveAffiliateLinkInput!) { archiveAffiliateLink(input: $input) { errors { code } } }"
    for link_id, expected in [(theirs, ["NOT_FOUND"]), (ours, [])]:
        given = {"input": {"linkId": str(relay.GlobalID("AffiliateLink", str(link_id)))}}
        body = await gql(archive, given, token=staff.token, brand="royal")
        assert [e["code"] for e in body["data"]["archiveAffiliateLink"]["errors"]] == expected, body
    async with rt.database.session() as db:
        archived = await db.scalar(text("SELECT archived_at FROM affiliate_links WHERE id = :id"), {"id": theirs})
    assert archived is None
