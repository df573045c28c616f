"""The audit log: a gapless hash chain, append-only in the database, verifiable, queryable by admins."""

from __future__ import annotations

import asyncio
import itertools
import os
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError
from strawberry import relay

from tests import cli_process
from tests.conftest import PASSWORD, TEST_ENV, error_codes

LOGIN = """
mutation($input: LoginInput!) {
  login(input: $input) { player { id } errors { code } }
}"""

AUDIT_LOG = """
query($filter: AuditFilter, $first: Int, $after: String) {
  auditLog(filter: $filter, first: $first, after: $after) {
    edges { cursor node { id seq at action actorType actorId targetType targetId reason prevHash hash } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def all_records(rt: Any) -> list[Any]:
    from models.audit import AuditRecord

    async with rt.database.session() as db:
        return list((await db.scalars(select(AuditRecord).order_by(AuditRecord.seq))).all())


async def verify(rt: Any) -> Any:
    from services import audit

    async with rt.database.session() as db:
        return await audit.verify(db)


async def some_activity(gql: Any, make_player: Any, make_staff: Any) -> None:
    """Registrations, logins (good and bad), staff creation and logins, a status change."""
    alice = await make_player(email="alice@example.com")
    await make_player(email="bob@example.com")
    await gql(LOGIN, {"input": {"brand": "royal", "email": "alice@example.com", "password": PASSWORD}})
    await gql(LOGIN, {"input": {"brand": "royal", "email": "alice@example.com", "password": "wrong-password-1"}})
    support = await make_staff("support")
    body = await gql(
        "mutation($input: SetPlayerStatusInput!) { setPlayerStatus(input: $input) { errors { code } } }",
        {"input": {"playerId": alice.id, "status": "BLOCKED", "reason": "fraud check"}},
        token=support.token,
    )
    assert body["data"]["setPlayerStatus"]["errors"] == []


async def run_cli(*args: str) -> tuple[int, str]:
    """`croupier ARGS` as a child process (forked from a warm one: tests/cli_process.py); stdout and stderr."""
    done = await cli_process.run_async(*args, env={**os.environ, **TEST_ENV}, merge_stderr=True, timeout=120)
    return done.returncode, done.stdout


async def tamper(rt: Any, statement: str, **params: Any) -> None:
    """Change the log behind the trigger's back (what an attacker with table access could do)."""
    async with rt.database.transaction() as db:
        await db.execute(text("SET LOCAL session_replication_role = replica"))
        result = await db.execute(text(statement), params)
        assert result.rowcount == 1


# ---- 1. the chain ------------------------------------------------------------------------------


async def test_records_form_a_gapless_hash_chain(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    from services.audit import GENESIS_HASH, record_hash

    await some_activity(gql, make_player, make_staff)
    records = await all_records(rt)
    actions = [r.action for r in records]
    for expected in (
        "player.registered",
        "player.login",
        "player.login_failed",
        "staff.created",
        "staff.login",
        "player.status_changed",
    ):
        assert expected in actions
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    assert records[0].prev_hash == GENESIS_HASH
    for previous, record in itertools.pairwise(records):
        assert record.prev_hash == previous.hash
    for record in records:
        assert record.hash == record_hash(record)
    assert len({r.hash for r in records}) == len(records)
    result = await verify(rt)
    assert result.ok
    assert result.checked == len(records)


# ---- 2. append-only ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'nothing happened' WHERE seq = 1",
        "DELETE FROM audit_log WHERE seq = 1",
        "TRUNCATE audit_log",
        "UPDATE audit_log SET reason = NULL",
        "DELETE FROM audit_log",
    ],
)
async def test_the_database_refuses_to_change_records(rt: Any, make_player: Any, statement: str) -> None:
    await make_player()
    before = [(r.seq, r.reason, r.hash) for r in await all_records(rt)]
    assert before
    with pytest.raises(DBAPIError, match="append-only"):
        async with rt.database.transaction() as db:
            await db.execute(text(statement))
    assert [(r.seq, r.reason, r.hash) for r in await all_records(rt)] == before


# ---- 3. croupier audit verify ------------------------------------------------------------------


async def test_cli_verify_passes_on_a_clean_chain(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    await some_activity(gql, make_player, make_staff)
    count = len(await all_records(rt))
    code, output = await run_cli("audit", "verify")
    assert code == 0, output
    assert f"checked {count} records: OK" in output


@pytest.mark.tampers
async def test_cli_verify_names_an_edited_record(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    await some_activity(gql, make_player, make_staff)
    await tamper(rt, "UPDATE audit_log SET reason = 'nothing to see' WHERE seq = 3")
    code, output = await run_cli("audit", "verify")
    assert code == 1, output
    assert "record 3: content does not match its hash (edited)" in output
    assert "1 problem(s)" in output
    assert [p.seq for p in (await verify(rt)).problems] == [3]


@pytest.mark.tampers
async def test_cli_verify_names_a_deleted_record(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    await some_activity(gql, make_player, make_staff)
    count = len(await all_records(rt))
    assert count >= 5
    await tamper(rt, "DELETE FROM audit_log WHERE seq = 3")
    code, output = await run_cli("audit", "verify")
    assert code == 1, output
    assert "record 4: records 3..3 are missing" in output
    assert "record 4: prev_hash does not match the previous record" in output
    assert f"checked {count - 1} records" in output


@pytest.mark.tampers
async def test_cli_verify_notices_a_rehashed_edit(rt: Any, make_player: Any) -> None:
    """A record whose hash was recomputed after an edit still breaks the link to the next one."""
    from services.audit import record_hash

    for _ in range(3):
        await make_player()
    records = await all_records(rt)
    victim = records[1]
    victim.reason = "rewritten"
    forged = record_hash(victim)
    await tamper(
        rt, "UPDATE audit_log SET reason = 'rewritten', hash = :hash WHERE seq = :seq", hash=forged, seq=victim.seq
    )
    code, output = await run_cli("audit", "verify")
    assert code == 1, output
    assert f"record {victim.seq + 1}: prev_hash does not match the previous record" in output


# ---- 4. querying the log -----------------------------------------------------------------------


async def fetch_all(
    gql: Any, token: str, filter: dict[str, Any] | None = None, *, page: int = 100, brand: str | None = None
) -> list[dict[str, Any]]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(100):
        body = await gql(AUDIT_LOG, {"filter": filter, "first": page, "after": after}, token=token, brand=brand)
        assert "errors" not in body, body
        connection = body["data"]["auditLog"]
        nodes.extend(edge["node"] for edge in connection["edges"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
    raise AssertionError("pagination did not end")


async def test_admin_filters_and_pages_the_audit_log(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    await some_activity(gql, make_player, make_staff)
    admin = await make_staff(("superadmin", None))
    records = await all_records(rt)
    everything = await fetch_all(gql, admin.token)
    assert [n["seq"] for n in everything] == [r.seq for r in reversed(records)]  # newest first
    assert everything[0]["id"] == str(relay.GlobalID("AuditRecord", str(records[-1].seq)))
    assert all(
        n["hash"] == r.hash and n["prevHash"] == r.prev_hash for n, r in zip(everything, reversed(records), strict=True)
    )

    # Pages of two walk the same records, with no repeats or gaps.
    paged = await fetch_all(gql, admin.token, page=2)
    assert [n["seq"] for n in paged] == [n["seq"] for n in everything]

    def expect(keep: Any) -> list[int]:
        return [r.seq for r in reversed(records) if keep(r)]

    def seqs(nodes: list[dict[str, Any]]) -> list[int]:
        return [n["seq"] for n in nodes]

    assert seqs(await fetch_all(gql, admin.token, {"action": "player.registered"}, page=1)) == expect(
        lambda r: r.action == "player.registered"
    )
    assert len(expect(lambda r: r.action == "player.registered")) == 2

    support_id = next(r.actor_id for r in records if r.action == "player.status_changed")
    assert seqs(await fetch_all(gql, admin.token, {"actorId": str(support_id)})) == expect(
        lambda r: r.actor_id == support_id
    )
    assert (
        seqs(await fetch_all(gql, admin.token, {"actorId": str(admin.id)}))
        == expect(lambda r: r.actor_id == admin.id)
        != []
    )

    alice = next(r.target_id for r in records if r.action == "player.status_changed")
    by_target = await fetch_all(gql, admin.token, {"targetType": "player", "targetId": alice})
    assert seqs(by_target) == expect(lambda r: r.target_type == "player" and r.target_id == alice)
    assert {n["action"] for n in by_target} >= {"player.registered", "player.status_changed"}
    assert seqs(await fetch_all(gql, admin.token, {"targetType": "staff"})) == expect(
        lambda r: r.target_type == "staff"
    )

    middle = records[len(records) // 2]
    late = records[-2]
    since, until = middle.at.isoformat(), late.at.isoformat()
    assert seqs(await fetch_all(gql, admin.token, {"since": since})) == expect(lambda r: r.at >= middle.at)
    assert seqs(await fetch_all(gql, admin.token, {"until": until})) == expect(lambda r: r.at < late.at)
    window = await fetch_all(gql, admin.token, {"since": since, "until": until}, page=1)
    assert seqs(window) == expect(lambda r: middle.at <= r.at < late.at) != []
    combined = await fetch_all(gql, admin.token, {"action": "staff.login", "since": since})
    assert seqs(combined) == expect(lambda r: r.action == "staff.login" and r.at >= middle.at)

    body = await gql(AUDIT_LOG, {"filter": {"actorId": "not-a-uuid"}}, token=admin.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]
    body = await gql(AUDIT_LOG, {"after": "garbage!"}, token=admin.token)
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_brand_admin_reads_only_their_brand_and_support_none(
    rt: Any, gql: Any, make_player: Any, make_staff: Any, brand: Any, other_brand: Any
) -> None:
    await make_player()
    await make_player(brand_code="northstar", country="SE", currency="SEK", born=date(1980, 1, 1))
    admin = await make_staff("brand_admin")
    risk = await make_staff("risk_analyst")
    support = await make_staff("support")
    records = await all_records(rt)
    assert {r.brand_id for r in records} >= {brand.id, other_brand.id, None}

    royal = [r.seq for r in reversed(records) if r.brand_id == brand.id]
    for viewer in (admin, risk):
        seen = await fetch_all(gql, viewer.token)
        assert [n["seq"] for n in seen] == royal
    north = next(r for r in records if r.brand_id == other_brand.id)
    body = await gql(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": str(relay.GlobalID("AuditRecord", str(north.seq)))},
        token=admin.token,
    )
    assert body["data"] == {"node": None}

    body = await gql(AUDIT_LOG, {}, token=support.token)
    assert body["data"] == {"auditLog": None}
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [(["auditLog"], "FORBIDDEN")]
    player = await make_player()
    body = await gql(AUDIT_LOG, {}, token=player.token)
    assert error_codes(body) == ["FORBIDDEN"]
    body = await gql(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": str(relay.GlobalID("AuditRecord", str(records[0].seq)))},
        token=support.token,
    )
    assert body["data"] == {"node": None}


# ---- 5. concurrent appends ---------------------------------------------------------------------


async def test_crafted_audit_ids_are_bad_input_not_internal(gql: Any, make_staff: Any) -> None:
    risk = await make_staff("risk_analyst")
    for node_id in ("²", "9" * 30):
        body = await gql(
            "query($id: ID!) { node(id: $id) { id } }",
            {"id": str(relay.GlobalID("AuditRecord", node_id))},
            token=risk.token,
        )
        assert "INTERNAL" not in error_codes(body), body
        assert body["data"] == {"node": None}


async def test_concurrent_appends_keep_the_chain(rt: Any, gql: Any, make_player: Any) -> None:
    players = [await make_player() for _ in range(4)]
    start = len(await all_records(rt))

    def attempt(i: int) -> Any:
        # Each failure on its own (unknown) account, so no account lockout gets in the way.
        email = f"nobody{i}@example.com" if i % 2 else players[i % len(players)].email
        return gql(LOGIN, {"input": {"brand": "royal", "email": email, "password": PASSWORD}})

    results = await asyncio.gather(*(attempt(i) for i in range(20)))
    codes = [[e["code"] for e in r["data"]["login"]["errors"]] for r in results]
    assert codes == [["INVALID_CREDENTIALS"] if i % 2 else [] for i in range(20)]

    records = await all_records(rt)
    assert len(records) == start + 20
    added = [r.action for r in records[start:]]
    assert sorted(added) == sorted(["player.login"] * 10 + ["player.login_failed"] * 10)
    assert [r.seq for r in records] == list(range(1, len(records) + 1))
    result = await verify(rt)
    assert result.ok, result.problems
    assert result.checked == len(records)
