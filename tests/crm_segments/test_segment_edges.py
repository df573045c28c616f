"""Segments under races and at their edges: staff changes while the loop or the consumer writes memberships,
names taken at the same moment, money in another currency, a list file holding text PostgreSQL refuses."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
from strawberry import relay

from models.crm import CrmSegment
from services.crm.segments import membership
from tests.conftest import DATABASE_URL, error_codes, fund
from tests.crm_segments.conftest import CREATE, PREVIEW, UPDATE, UPLOAD, Pipeline, member_ids

ARCHIVE = """
mutation($input: ArchiveSegmentInput!) {
  archiveSegment(input: $input) { segment { archived size } errors { code } }
}"""


def _rules(*conditions: dict[str, Any], match: str = "ALL") -> dict[str, Any]:
    return {"match": match, "conditions": list(conditions)}


def _uuid(global_id: str) -> uuid.UUID:
    return uuid.UUID(relay.GlobalID.from_id(global_id).node_id)


async def _create(gql: Any, staff: Any, name: str, kind: str = "DYNAMIC", rules: Any = None) -> dict[str, Any]:
    body = await gql(CREATE, {"input": {"name": name, "kind": kind, "rules": rules}}, token=staff.token)
    payload = body["data"]["createSegment"]
    assert payload["errors"] == [], payload
    segment: dict[str, Any] = payload["segment"]
    return segment


async def _advisory_waiters(conn: asyncpg.Connection) -> int:
    found: int = await conn.fetchval(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = "
        "(SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    return found


async def _waits_or_ends(conn: asyncpg.Connection, task: asyncio.Task[Any]) -> None:
    """Until the task waits for an advisory lock, or has ended without waiting."""
    for _ in range(250):
        if task.done() or await _advisory_waiters(conn):
            return
        await asyncio.sleep(0.02)


@asynccontextmanager
async def _loop_writing() -> AsyncIterator[asyncpg.Connection]:
    """A transaction that writes memberships as the segments' loop and the consumer do: under their lock."""
    conn = await asyncpg.connect(DATABASE_URL)
    try:
        async with conn.transaction():
            await conn.execute(membership.LOCK.native)
            yield conn
    finally:
        await conn.close()


async def test_staff_changes_wait_for_the_loop_writing_memberships(
    gql: Any, rt: Any, make_player: Any, make_staff: Any
) -> None:
    marketing = await make_staff("marketing")
    player = await make_player(country="MT")
    nobody = _rules({"field": "COUNTRY", "op": "IN", "values": ["ZZ"]})

    # A rules change while the loop writes the same segment's members: no deadlock (the change takes the
    # memberships' lock before it locks the segment), the loop's write and the change both land.
    segment = await _create(gql, marketing, "Changing", rules=nobody)
    async with _loop_writing() as loop:
        change = asyncio.create_task(
            gql(UPDATE, {"input": {"segmentId": segment["id"], "rules": _rules()}}, token=marketing.token)
        )
        await _waits_or_ends(loop, change)
        await asyncio.wait_for(
            loop.execute(
                "INSERT INTO crm_segment_members (segment_id, player_id, joined_at) VALUES ($1, $2, now())",
                _uuid(segment["id"]),
                player.uuid,
            ),
            timeout=5,
        )
    body = await asyncio.wait_for(change, timeout=10)
    assert body["data"]["updateSegment"]["errors"] == [], body
    assert await member_ids(rt, segment["id"]) == {player.uuid}

    # An archive while the loop is between reading the active segments and writing one of them: the archived
    # segment keeps no member the loop wrote.
    segment = await _create(gql, marketing, "Archived", rules=_rules())
    async with _loop_writing() as loop:
        archive = asyncio.create_task(gql(ARCHIVE, {"input": {"segmentId": segment["id"]}}, token=marketing.token))
        await _waits_or_ends(loop, archive)
        await loop.execute(
            "INSERT INTO crm_segment_members (segment_id, player_id, joined_at) VALUES ($1, $2, now()) "
            "ON CONFLICT DO NOTHING",
            _uuid(segment["id"]),
            player.uuid,
        )
    body = await asyncio.wait_for(archive, timeout=10)
    assert body["data"]["archiveSegment"] == {"segment": {"archived": True, "size": 0}, "errors": []}
    assert await member_ids(rt, segment["id"]) == set()

    # An upload while the consumer takes a player who just excluded themselves out of every segment: the
    # upload sees the exclusion (it waits for the lock), so the player is not added behind the consumer.
    static = await _create(gql, marketing, "Uploaded", kind="STATIC")
    async with _loop_writing() as loop:
        upload = asyncio.create_task(
            gql(UPLOAD, {"input": {"segmentId": static["id"], "members": str(player.uuid)}}, token=marketing.token)
        )
        await _waits_or_ends(loop, upload)
        await loop.execute(
            "INSERT INTO rg_exclusions (id, player_id, kind, starts_at, source, created_at) "
            "VALUES ($1, $2, 'time_out', now(), 'player', now())",
            uuid.uuid4(),
            player.uuid,
        )
    body = await asyncio.wait_for(upload, timeout=10)
    uploaded = body["data"]["uploadSegmentMembers"]
    assert (uploaded["added"], uploaded["notFound"]) == (0, 1), uploaded
    assert await member_ids(rt, static["id"]) == set()


async def test_a_name_taken_at_the_same_moment_is_refused_in_the_payload(gql: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    bodies = await asyncio.gather(
        *(
            gql(CREATE, {"input": {"name": "Twins", "kind": "DYNAMIC", "rules": _rules()}}, token=marketing.token)
            for _ in range(4)
        )
    )
    assert all(error_codes(body) == [] for body in bodies), bodies
    payloads = [body["data"]["createSegment"] for body in bodies]
    assert sum(1 for p in payloads if p["segment"]) == 1, payloads
    assert all(p["errors"][0]["code"] == "ALREADY_EXISTS" for p in payloads if not p["segment"]), payloads

    # A rename onto a name another rename takes at the same moment.
    first = await _create(gql, marketing, "One", rules=_rules())
    second = await _create(gql, marketing, "Two", rules=_rules())
    bodies = await asyncio.gather(
        *(
            gql(UPDATE, {"input": {"segmentId": s["id"], "name": "Same"}}, token=marketing.token)
            for s in (first, second)
        )
    )
    assert all(error_codes(body) == [] for body in bodies), bodies
    assert sorted(bool(body["data"]["updateSegment"]["errors"]) for body in bodies) == [False, True], bodies


async def test_money_rules_hold_only_for_players_of_that_currency(
    gql: Any, rt: Any, make_player: Any, make_staff: Any, pipeline: Pipeline
) -> None:
    marketing = await make_staff("marketing")
    euro = await make_player(country="MT")
    krona = await make_player(country="SE", currency="SEK")
    await fund(rt, euro, "5.00 EUR", deposit=True)
    await fund(rt, krona, "50000.00 SEK", deposit=True)  # a big depositor, in kronor
    await pipeline.settle()
    for condition, expected in (
        ({"field": "DEPOSIT_AMOUNT", "op": "LT", "amount": "10", "currency": "EUR", "days": 30}, {euro.id}),
        ({"field": "DEPOSIT_AMOUNT", "op": "EQ", "amount": "0", "currency": "EUR"}, set()),
        ({"field": "NGR", "op": "LTE", "amount": "0", "currency": "EUR"}, {euro.id}),
        ({"field": "DEPOSIT_AMOUNT", "op": "GTE", "amount": "1000", "currency": "SEK"}, {krona.id}),
    ):
        body = await gql(PREVIEW, {"rules": _rules(condition), "limit": 10}, token=marketing.token)
        assert {p["id"] for p in body["data"]["segmentPreview"]["players"]} == expected, condition


async def test_an_archived_segment_holds_nobody_for_the_other_parts(
    gql: Any, rt: Any, make_player: Any, make_staff: Any
) -> None:
    marketing = await make_staff("marketing")
    player = await make_player()
    segment = await _create(gql, marketing, "Soon archived", rules=_rules())
    body = await gql(ARCHIVE, {"input": {"segmentId": segment["id"]}}, token=marketing.token)
    assert body["data"]["archiveSegment"]["errors"] == []
    async with rt.database.session() as db:
        row = await db.get(CrmSegment, _uuid(segment["id"]))
        assert row is not None
        assert await membership.evaluate(db, row, player.uuid) is False


async def test_a_list_file_with_text_postgresql_refuses_is_refused_in_the_payload(
    client: Any, make_player: Any, make_staff: Any, gql: Any
) -> None:
    marketing = await make_staff("marketing")
    segment = await _create(gql, marketing, "From a bad file", kind="STATIC")
    operations = {"query": UPLOAD, "variables": {"input": {"segmentId": segment["id"], "file": None}}}
    for content in (b"nul\x00@example.com\n", "caf\u00e9@example.com\n".encode("latin-1")):
        response = await client.post(
            "/graphql",
            data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.input.file"]})},
            files={"0": ("players.csv", content, "text/csv")},
            headers={"Apollo-Require-Preflight": "true", "Authorization": f"Bearer {marketing.token}"},
        )
        client.cookies.clear()
        body = response.json()
        assert error_codes(body) == [], body
        errors = body["data"]["uploadSegmentMembers"]["errors"]
        assert [(e["code"], e["field"]) for e in errors] == [("INVALID_INPUT", "file")], body


async def test_language_values_are_read_as_registration_reads_them(gql: Any, make_player: Any, make_staff: Any) -> None:
    marketing = await make_staff("marketing")
    brazilian = await make_player(language="pt-BR")
    body = await gql(
        PREVIEW,
        {"rules": _rules({"field": "LANGUAGE", "op": "IN", "values": ["pt_br"]}), "limit": 5},
        token=marketing.token,
    )
    assert [p["id"] for p in body["data"]["segmentPreview"]["players"]] == [brazilian.id], body
    body = await gql(
        CREATE,
        {"input": {"name": "Klingons", "kind": "DYNAMIC",
                   "rules": _rules({"field": "LANGUAGE", "op": "IN", "values": ["tlh-XX"]})}},
        token=marketing.token,
    )  # fmt: skip
    errors = body["data"]["createSegment"]["errors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_INPUT", "rules.conditions.0.values")], body


async def test_a_time_zone_is_a_place_not_the_host_clock(gql: Any, make_player: Any) -> None:
    player = await make_player()
    for name in ("localtime", "Factory"):
        body = await gql(
            "mutation($input: UpdateProfileInput!) { updateProfile(input: $input) { errors { code field } } }",
            {"input": {"timeZone": name}},
            token=player.token,
        )
        assert body["data"]["updateProfile"]["errors"] == [{"code": "INVALID_INPUT", "field": "timeZone"}], name
