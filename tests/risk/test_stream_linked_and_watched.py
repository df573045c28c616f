"""`linked_accounts` and `list_watch` on the event stream: registrations through GraphQL (with the frontend's
device header) link accounts (`risk-signals` announces it) or match a watch list entry the risk desk added;
the `risk-rules` consumer scores every member of a big enough cluster, and the watched player."""

from __future__ import annotations

from typing import Any

from strawberry import relay

from core.consumers import replay
from tests.risk.conftest import add_entry, register, registered
from tests.risk.desk import REGISTRATION_RULES, quiet
from tests.risk.stream_support import Stream

DEVICE = "dev-4d1c8e2a-linked"


async def test_every_member_of_a_cluster_at_the_rule_size_is_scored_and_flagged(
    rt: Any, gql: Any, stream: Stream
) -> None:
    await quiet(rt, *REGISTRATION_RULES)  # the inline registration rules would flag the third from one device
    first = await registered(gql, "l1@example.com", device=DEVICE)
    second = await registered(gql, "l2@example.org", device=DEVICE)
    await stream.drain()
    assert await stream.rule_hits(first.uuid) == []  # a cluster of 2: the default rule wants 3

    third = await registered(gql, "l3@example.net", device=DEVICE)
    alone = await registered(gql, "l4@example.com", device="dev-somebody-else")
    await stream.drain()

    for member in (first, second, third):
        reason = (await stream.reasons(member.uuid))["linked-accounts"]
        assert reason.points == 15
        assert reason.reason == "One of 3 linked accounts (at least 3 count), linked by a shared device"
        assert reason.details["cluster_size"] == 3
        assert reason.details["linked_by"] == ["device"]
        assert await stream.flags(member.uuid) == [("linked-accounts", "linked_accounts", "open")]
        assert await stream.rule_hits(member.uuid) == ["linked-accounts"]
        assert not (await stream.restrictions(member.uuid)).actions  # the default rule only flags
    assert (await stream.score(alone.uuid)).value == 0

    # A fourth member: the cluster grew, so every member's contribution is refreshed with the new size.
    fourth = await registered(gql, "l5@example.com", device=DEVICE)
    await stream.drain()
    for member in (first, second, third, fourth):
        reason = (await stream.reasons(member.uuid))["linked-accounts"]
        assert reason.details["cluster_size"] == 4
    assert (await stream.reasons(first.uuid))["linked-accounts"].hits == 2
    assert (await stream.reasons(fourth.uuid))["linked-accounts"].hits == 1


async def test_a_link_announcement_for_a_cluster_already_scored_hits_nobody_again(
    rt: Any, gql: Any, stream: Stream
) -> None:
    await quiet(rt, *REGISTRATION_RULES)  # the inline registration rules would flag the third from one device
    for n in range(3):
        await registered(gql, f"same{n}@example.com", device=DEVICE)
    await stream.drain()
    members = [row["player_id"] for row in await stream.conn.fetch("SELECT player_id FROM risk_clusters")]
    assert len(members) == 3
    for player_id in members:
        assert (await stream.reasons(player_id))["linked-accounts"].hits == 1
    # `risk-signals` rebuilt (a replay announces every merge again): the same clusters, nothing new to score.
    assert await replay(stream.signals, stream.conn) > 0
    announced = await stream.conn.fetchval("SELECT count(*) FROM outbox_events WHERE topic = 'risk.accounts_linked'")
    assert announced == 2  # the first run's, and the replay's
    await stream.drain()
    for player_id in members:
        assert (await stream.reasons(player_id))["linked-accounts"].hits == 1
        assert await stream.rule_hits(player_id) == ["linked-accounts"]


async def test_a_watch_list_match_adds_the_rule_points_with_what_matched(
    gql: Any, make_staff: Any, stream: Stream
) -> None:
    analyst = await make_staff("risk_analyst")
    entry = await add_entry(gql, analyst.token, list="WATCH", kind="DEVICE", value="dev-under-watch-01")
    assert entry["errors"] == [], entry
    watched = await registered(gql, "w1@example.com", device="dev-under-watch-01")
    other = await registered(gql, "w2@example.com", device="dev-not-watched-02")
    blocked = await add_entry(gql, analyst.token, list="BLOCK", kind="EMAIL_DOMAIN", value="blocked.example")
    assert blocked["errors"] == [], blocked
    refused = await register(gql, "b@blocked.example")
    assert [e["code"] for e in refused["errors"]] == ["RISK_BLOCKED"]

    await stream.drain()

    found = await stream.score(watched.uuid)
    assert found.value == 10
    [reason] = found.reasons
    assert reason.rule_code == "watch-list"
    assert reason.reason == "On the watch list: device at registration (fraud ring)"
    assert reason.details["matches"] == [
        {"kind": "device", "occasion": "registration", "entry_id": relay.GlobalID.from_id(entry["entry"]["id"]).node_id}
    ]
    assert await stream.flags(watched.uuid) == []  # the default rule has no actions (the list hit's own flag stays)
    assert (await stream.score(other.uuid)).value == 0
    # The block hit (no player) is not the watch rule's.
    assert await stream.conn.fetchval("SELECT count(*) FROM risk_score_items") == 1
