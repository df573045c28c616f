"""`postbacks:read`: a token reads its own partner's postback delivery log — the event, the status, the tries, the
times and the last HTTP status; never a player, a URL or another partner's deliveries — in a fixed number of
statements."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from authz.subjects import SYSTEM
from core.clock import clock
from models.affiliate_postbacks import PostbackTrigger
from services.affiliates.postbacks import configs
from tests.conftest import error_codes, recorded_statements

LOG = """
query($status: AffiliatePostbackStatus, $first: Int, $after: String) {
  affiliatePortal { postbacks(status: $status, first: $first, after: $after) {
    edges { node { id event eventId status attempts maxAttempts eventAt nextAttemptAt deliveredAt lastAttemptAt
                   lastHttpStatus } }
    pageInfo { hasNextPage endCursor }
  } }
}"""
event_ids = iter(range(9_000_001, 10_000_000))


async def deliveries(rt: Any, partner_id: uuid.UUID, player_id: uuid.UUID, tries: list[int | None]) -> uuid.UUID:
    """A registration postback of the partner's, its tries answered with these HTTP statuses (None: no answer)."""
    saved = await configs.create_config(
        rt, SYSTEM, affiliate_id=partner_id, trigger=PostbackTrigger.REGISTRATION,
        url_template=f"https://partner.example/pb?ref={{player_ref}}&n={uuid.uuid4().hex}",
    )  # fmt: skip
    delivery_id, now = uuid.uuid4(), clock.now()
    delivered = bool(tries) and tries[-1] == 200
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO affiliate_postback_deliveries (id, config_id, affiliate_id, player_id, event_id, trigger, "
                "method, url, status, attempts, max_attempts, event_at, next_attempt_at, delivered_at) VALUES (:id, "
                ":config, :a, :p, :event, 'registration', 'GET', 'https://partner.example/pb?ref=secret-ref', "
                ":status, :n, 8, :at, :next, :delivered)"
            ),
            {"id": delivery_id, "config": saved.config.id, "a": partner_id, "p": player_id, "event": next(event_ids),
             "status": "delivered" if delivered else "pending", "n": len(tries), "at": now,
             "next": now + timedelta(minutes=5), "delivered": now if delivered else None},
        )  # fmt: skip
        for n, status in enumerate(tries, start=1):
            await db.execute(
                text(
                    "INSERT INTO affiliate_postback_attempts (delivery_id, attempt, started_at, latency_ms, "
                    "http_status, succeeded, error) VALUES (:d, :n, :at, 12, :status, :ok, :error)"
                ),
                {"d": delivery_id, "n": n, "at": now + timedelta(seconds=n), "status": status, "ok": status == 200,
                 "error": None if status == 200 else "secret error text"},
            )  # fmt: skip
    return delivery_id


async def test_a_token_reads_its_own_partners_postback_log_and_never_another_partners(
    rt: Any, gql: Any, make_partner: Any, make_player: Any
) -> None:
    acme, other = await make_partner("acme"), await make_partner("other")
    player = await make_player()
    await deliveries(rt, acme.id, player.uuid, [500, None, 200])
    await deliveries(rt, acme.id, player.uuid, [503])
    await deliveries(rt, other.id, player.uuid, [200])
    reader = await acme.api_token(gql, ["POSTBACKS_READ"])
    stats_only = await acme.api_token(gql, ["STATS_READ"], name="stats")

    body = await gql(LOG, {"first": 10}, token=reader)
    assert not body.get("errors"), body
    nodes = [edge["node"] for edge in body["data"]["affiliatePortal"]["postbacks"]["edges"]]
    assert sorted((n["status"], n["attempts"], n["lastHttpStatus"]) for n in nodes) == [
        ("DELIVERED", 3, 200),
        ("PENDING", 1, 503),
    ]
    assert all(n["event"] == "REGISTRATION" for n in nodes)
    delivered = next(n for n in nodes if n["status"] == "DELIVERED")
    assert delivered["nextAttemptAt"] is None
    assert delivered["deliveredAt"] is not None
    text_of_body = str(body)
    for secret in (str(player.uuid), "secret-ref", "secret error text", "partner.example"):
        assert secret not in text_of_body  # no player, no URL, no error text
    pending = await gql(LOG, {"status": "PENDING"}, token=reader)
    assert [e["node"]["lastHttpStatus"] for e in pending["data"]["affiliatePortal"]["postbacks"]["edges"]] == [503]

    theirs = await other.api_token(gql, ["POSTBACKS_READ"])
    body = await gql(LOG, {"first": 10}, token=theirs)
    assert [e["node"]["attempts"] for e in body["data"]["affiliatePortal"]["postbacks"]["edges"]] == [1]

    refused = await gql(LOG, {"first": 10}, token=stats_only)
    assert error_codes(refused) == ["FORBIDDEN"]
    assert refused["data"]["affiliatePortal"]["postbacks"] is None


async def test_the_postback_log_takes_a_fixed_number_of_statements(
    rt: Any, gql: Any, make_partner: Any, make_player: Any
) -> None:
    acme = await make_partner("acme")
    player = await make_player()
    reader = await acme.api_token(gql, ["POSTBACKS_READ"])

    async def count() -> tuple[int, int]:
        with recorded_statements(rt) as statements:
            body = await gql(LOG, {"first": 50}, token=reader)
        assert not body.get("errors"), body
        mine = [s for s in statements if "affiliate_postback" in s]
        return len(mine), len(body["data"]["affiliatePortal"]["postbacks"]["edges"])

    await deliveries(rt, acme.id, player.uuid, [500])
    one = await count()
    for _ in range(4):
        await deliveries(rt, acme.id, player.uuid, [500, 200])
    five = await count()
    assert (one, five) == ((2, 1), (2, 5))  # the page, then its last tries
