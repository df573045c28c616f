"""An adversarial review of the risk desk's surface (services/risk/review.py, queue.py, rule_admin.py, the
GraphQL risk fields and mutations): each test is a finding, failing before its fix."""

from __future__ import annotations

import asyncio
import base64
import json
import uuid
from typing import Any

import asyncpg
import pytest

from services.risk import actions, score
from services.risk.store import OnConnection
from tests.conftest import DATABASE_URL
from tests.risk.desk import (
    CREATE_RULE,
    IMPOSE,
    PLAYER_RISK,
    QUEUE,
    REVIEW,
    UPDATE_RULE,
    hit,
    rule,
)
from tests.test_authz import staff_holding

TRAIL = """query($id: ID!) { player(id: $id) { auditTrail(first: 100) { edges { node { action reason after } } } } }"""


async def _flags(gql: Any, token: str, player_id: str) -> dict[str, Any]:
    body = await gql(PLAYER_RISK, {"id": player_id}, token=token)
    assert "errors" not in body, body
    return {f["ruleCode"]: f for f in body["data"]["player"]["risk"]["flags"]}


# ---- the audit trail: risk's records are the risk desk's -----------------------------------------------


@pytest.mark.parametrize("role", ["support", "kyc_officer", "mlro", "dpo", "risk_analyst"])
async def test_the_players_audit_trail_shows_risk_records_to_the_risk_desk_only(
    role: str, rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """Support (and KYC, the MLRO, the DPO) are denied `Player.risk`, yet read the player's audit trail: the
    risk desk's records about the player (a rule's restriction with its reason, a staff imposition, a
    reviewed flag with its note) must not reach them there either (docs/risk.md: support sees none of it)."""
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback in 365 days")
    imposed = await gql(
        IMPOSE,
        {"input": {"playerId": player.id, "kind": "BLOCK_ACCOUNT", "reason": "multi-accounting ring"}},
        token=analyst.token,
    )
    assert imposed["data"]["imposeRiskAction"]["errors"] == [], imposed
    flag = (await _flags(gql, analyst.token, player.id))["chargeback-history"]
    reviewed = await gql(
        REVIEW, {"input": {"flagId": flag["id"], "verdict": "CONFIRMED", "note": "stolen card"}}, token=analyst.token
    )
    assert reviewed["data"]["reviewRiskFlag"]["errors"] == [], reviewed

    reader = analyst if role == "risk_analyst" else await staff_holding(make_staff, role)
    body = await gql(TRAIL, {"id": player.id}, token=reader.token)
    trail = ((body.get("data") or {}).get("player") or {}).get("auditTrail")
    assert trail is not None, body
    found = [edge["node"]["action"] for edge in trail["edges"]]
    risky = [a for a in found if a.startswith("risk.")]
    if role == "risk_analyst":
        assert {"risk.action_imposed", "risk.flag_reviewed"} <= set(risky), found
    else:
        assert risky == [], (role, found)
        assert "multi-accounting ring" not in json.dumps(trail)
        assert "stolen card" not in json.dumps(trail)


# ---- a dismissal racing the rule's next hit ------------------------------------------------------------


async def _someone_waits_on_a_lock(conn: asyncpg.Connection) -> None:
    for _ in range(500):
        waiting = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        if waiting:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("nobody waits")


async def test_dismissing_a_flag_while_its_rule_hits_again_does_not_deadlock(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """A rule's hit writes its score contribution, then its flag (services/risk/hits.py). The dismissal
    locked the flag, then withdrew the contribution: the hit between the two (contribution written, its
    flag insert waiting for the dismissal's update of the open flag) made a cycle, and PostgreSQL killed
    one side (the analyst's dismissal failed INTERNAL, or the deposit or stream batch carrying the hit)."""
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    await hit(rt, player.uuid, "linked-accounts", "cluster of 3")
    flag = (await _flags(gql, analyst.token, player.id))["linked-accounts"]
    linked = await rule(rt, "linked-accounts")
    brand_id = await _brand_of(rt, player.uuid)

    conn = await asyncpg.connect(DATABASE_URL)
    watcher = await asyncpg.connect(DATABASE_URL)
    try:
        transaction = conn.transaction()
        await transaction.start()
        sql = OnConnection(conn)
        # The rule hits again: its contribution is written (row locked until the commit)...
        await score.contribute(sql, linked, player_id=player.uuid, brand_id=brand_id, reason="cluster of 4", details={})
        review = asyncio.create_task(
            gql(
                REVIEW,
                {"input": {"flagId": flag["id"], "verdict": "DISMISSED", "note": "family"}},
                token=analyst.token,
            )
        )
        await _someone_waits_on_a_lock(watcher)  # the dismissal waits for the contribution
        # ...then its flag (one open per player and rule).
        await asyncio.wait_for(
            actions.flag(
                sql,
                player_id=player.uuid,
                brand_id=brand_id,
                rule_code=linked.code,
                occasion="stream",
                detail="cluster of 4",
            ),
            10,
        )
        await transaction.commit()
        body = await asyncio.wait_for(review, 10)
    finally:
        await conn.close()
        await watcher.close()
    assert "errors" not in body, body
    assert body["data"]["reviewRiskFlag"]["errors"] == [], body
    assert body["data"]["reviewRiskFlag"]["flag"]["status"] == "dismissed"


async def _brand_of(rt: Any, player_id: uuid.UUID) -> uuid.UUID:
    from models.players import Player

    async with rt.database.session() as db:
        found = await db.get(Player, player_id)
    assert found is not None
    return found.brand_id


# ---- route_psps names PSPs the cashier knows ----------------------------------------------------------


async def test_route_psps_names_known_psps(rt: Any, gql: Any, make_player: Any, make_staff: Any) -> None:
    """A restriction routing deposits to PSPs that do not exist (a typo, an empty name) leaves the player
    no way to deposit: staff's imposition and a rule's actions are refused with the field, as an unknown KYC
    level is."""
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    for psps in (["cardpya"], [" "], ["cardpay", "nosuchpsp"]):
        body = await gql(
            IMPOSE,
            {"input": {"playerId": player.id, "kind": "ROUTE_PSPS", "psps": psps, "reason": "route"}},
            token=analyst.token,
        )
        payload = body["data"]["imposeRiskAction"]
        assert payload["restriction"] is None, (psps, payload)
        assert [e["field"] for e in payload["errors"]] == ["psps"], (psps, payload)
    good = await gql(
        IMPOSE,
        {"input": {"playerId": player.id, "kind": "ROUTE_PSPS", "psps": ["cardpay", "cardpay"], "reason": "r"}},
        token=analyst.token,
    )
    assert good["data"]["imposeRiskAction"]["errors"] == [], good
    assert good["data"]["imposeRiskAction"]["restriction"]["psps"] == ["cardpay"]

    new_rule = {
        "code": "route-after-burst",
        "name": "Route after a burst",
        "kind": "VELOCITY",
        "params": {"occasion": "deposit", "by": "player", "count": 3, "minutes": 10},
        "points": 5,
        "reason": "test",
    }
    for psps in ([""], ["nosuchpsp"]):
        body = await gql(
            CREATE_RULE, {"input": {**new_rule, "actions": [{"kind": "ROUTE_PSPS", "psps": psps}]}}, token=analyst.token
        )
        payload = body["data"]["createRiskRule"]
        assert payload["rule"] is None, (psps, payload)
        assert [e["field"] for e in payload["errors"]] == ["actions"], (psps, payload)
    admin = await make_staff(("superadmin", None))
    body = await gql(
        UPDATE_RULE,
        {"input": {"code": "deposits-per-player", "reason": "r", "actions": [{"kind": "ROUTE_PSPS", "psps": ["x"]}]}},
        token=admin.token,
    )
    assert [e["field"] for e in body["data"]["updateRiskRule"]["errors"]] == ["actions"], body


# ---- the queue's cursor ------------------------------------------------------------------------------


def _cursor(raw: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(raw).encode()).decode().rstrip("=")


async def test_a_forged_queue_cursor_is_bad_input_not_a_server_error(gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    for raw in (
        [10, "2026-01-01T00:00:00+00:00", 5],  # an id that is not a string
        [10, "2026-01-01T00:00:00+00:00", None],
        [10**12, "2026-01-01T00:00:00+00:00", str(uuid.uuid4())],  # a score beyond an integer
        [10, "2026-01-01T00:00:00+00:00", str(uuid.uuid4()), "extra"],
        [10, "2026-01-01T00:00:00", str(uuid.uuid4())],  # no time zone
        [101, "2026-01-01T00:00:00+00:00", str(uuid.uuid4())],
        {"a": 1, "b": 2, "c": 3},
    ):
        body = await gql(QUEUE, {"after": _cursor(raw)}, token=analyst.token)
        assert [e["extensions"]["code"] for e in body.get("errors") or []] == ["BAD_USER_INPUT"], (raw, body)


# ---- an expiry without a time zone ---------------------------------------------------------------------


async def test_an_expiry_without_a_time_zone_is_read_as_utc(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    """GraphQL's DateTime takes `2030-01-01T00:00:00` (no offset) as a naive datetime: compared with the
    clock's aware now it raised TypeError (INTERNAL) instead of imposing, or refusing a past expiry."""
    player = await make_player()
    analyst = await make_staff("risk_analyst")
    given = {"playerId": player.id, "kind": "BLOCK_BONUSES", "reason": "abuse"}
    past = await gql(IMPOSE, {"input": {**given, "expiresAt": "2001-01-01T00:00:00"}}, token=analyst.token)
    assert "errors" not in past, past
    assert [e["field"] for e in past["data"]["imposeRiskAction"]["errors"]] == ["expiresAt"], past
    body = await gql(IMPOSE, {"input": {**given, "expiresAt": "2099-01-01T00:00:00"}}, token=analyst.token)
    assert "errors" not in body, body
    payload = body["data"]["imposeRiskAction"]
    assert payload["errors"] == [], payload
    assert payload["restriction"]["expiresAt"].startswith("2099-01-01T00:00:00")
    assert payload["restriction"]["expiresAt"].endswith("+00:00")
    # The block and watch lists' expiry, the same.
    from tests.risk.conftest import add_entry

    entry = await add_entry(
        gql, analyst.token, list="WATCH", kind="COUNTRY", value="SE", expiresAt="2099-01-01T00:00:00"
    )
    assert entry["errors"] == [], entry
    assert entry["entry"]["expiresAt"].endswith("+00:00")


# ---- the rule editor ---------------------------------------------------------------------------------


async def test_hold_deposit_only_on_a_rule_that_decides_deposits(gql: Any, make_staff: Any) -> None:
    """`hold_deposit` holds the deposit being decided: a velocity rule counting registrations, or a score rule
    at a withdrawal, decides no deposit, and its hold would do nothing (the editor said it was taken)."""
    admin = await make_staff(("superadmin", None))
    for kind, params in (
        ("VELOCITY", {"occasion": "registration", "by": "device", "count": 3, "minutes": 60}),
        ("VELOCITY", {"occasion": "withdrawal", "by": "player", "count": 3, "minutes": 60}),
        ("SCORE_AT_LEAST", {"occasion": "withdrawal", "score": 50}),
        ("SCORE_AT_LEAST", {"occasion": "bonus_claim", "score": 50}),
    ):
        given = {
            "code": "holds-nothing",
            "name": "Holds nothing",
            "kind": kind,
            "params": params,
            "points": 5,
            "actions": [{"kind": "HOLD_DEPOSIT"}],
            "reason": "test",
        }
        body = await gql(CREATE_RULE, {"input": given}, token=admin.token)
        payload = body["data"]["createRiskRule"]
        assert payload["rule"] is None, (params, payload)
        assert [e["field"] for e in payload["errors"]] == ["actions"], (params, payload)
    deposits = {"occasion": "deposit", "score": 50}
    body = await gql(
        CREATE_RULE,
        {
            "input": {
                "code": "holds-deposits",
                "name": "Holds deposits",
                "kind": "SCORE_AT_LEAST",
                "params": deposits,
                "points": 0,
                "actions": [{"kind": "HOLD_DEPOSIT"}],
                "reason": "test",
            }
        },
        token=admin.token,
    )
    assert body["data"]["createRiskRule"]["errors"] == [], body


async def test_an_edit_made_on_an_older_version_is_refused(gql: Any, make_staff: Any) -> None:
    """The editor sends the whole rule (name, points, parameters, actions, state). Two analysts editing the
    same rule: the second save silently undid the first one's change. A change says the version it was made
    on; a rule changed since is refused INVALID_STATE (reload, then edit)."""
    admin = await make_staff(("superadmin", None))
    first = await gql(
        UPDATE_RULE,
        {"input": {"code": "deposits-per-player", "version": 1, "points": 25, "reason": "tighter"}},
        token=admin.token,
    )
    assert first["data"]["updateRiskRule"]["errors"] == [], first
    assert first["data"]["updateRiskRule"]["rule"]["version"] == 2
    stale = await gql(
        UPDATE_RULE,
        {"input": {"code": "deposits-per-player", "version": 1, "points": 15, "enabled": False, "reason": "off"}},
        token=admin.token,
    )
    payload = stale["data"]["updateRiskRule"]
    assert payload["rule"] is None, payload
    assert [(e["code"], e["field"]) for e in payload["errors"]] == [("INVALID_STATE", "version")], payload
    current = await gql(
        UPDATE_RULE,
        {"input": {"code": "deposits-per-player", "version": 2, "enabled": False, "reason": "off"}},
        token=admin.token,
    )
    rule = current["data"]["updateRiskRule"]["rule"]
    assert (rule["points"], rule["enabled"], rule["version"]) == (25, False, 3), current


# ---- the command line: a refusal is its code and field, exit 1 ----------------------------------------


async def test_list_commands_refuse_as_the_desks_commands_do(rt: Any) -> None:
    """`risk list add|remove` let a refusal escape as a Python traceback (the desk's commands print the code
    and field and exit 1); a malformed id was a ValueError traceback too."""
    from tests.test_audit import run_cli

    code, output = await run_cli("risk", "list", "add", "block", "ip", "not-an-ip", "--reason", "x")
    assert code == 1, output
    assert "Traceback" not in output, output
    assert output.strip().splitlines()[-1].startswith("refused (INVALID_INPUT): value: "), output
    code, output = await run_cli("risk", "list", "remove", "not-a-uuid", "--reason", "x")
    assert code == 2, output
    assert "Traceback" not in output, output
    assert "not an id" in output, output
    code, output = await run_cli("risk", "list", "remove", str(uuid.uuid4()), "--reason", "x")
    assert code == 1, output
    assert output.strip().splitlines()[-1].startswith("refused (NOT_FOUND)"), output


# ---- two analysts at once ---------------------------------------------------------------------------


async def test_two_analysts_lifting_or_reviewing_the_same_item_at_once_act_once(
    rt: Any, gql: Any, make_player: Any, make_staff: Any
) -> None:
    from tests.risk.desk import LIFT, audit_trail

    player = await make_player()
    first, second = await make_staff("risk_analyst"), await make_staff("risk_analyst")
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
    body = await gql(PLAYER_RISK, {"id": player.id}, token=first.token)
    restriction = body["data"]["player"]["risk"]["restrictions"][0]
    flag = (await _flags(gql, first.token, player.id))["chargeback-history"]

    lifts = await asyncio.gather(
        *(
            gql(LIFT, {"input": {"actionId": restriction["id"], "reason": f"by {n}"}}, token=who.token)
            for n, who in enumerate((first, second))
        )
    )
    assert sorted(str([e["code"] for e in b["data"]["liftRiskAction"]["errors"]]) for b in lifts) == [
        "['INVALID_STATE']",
        "[]",
    ], lifts
    reviews = await asyncio.gather(
        gql(REVIEW, {"input": {"flagId": flag["id"], "verdict": "DISMISSED", "note": "a"}}, token=first.token),
        gql(REVIEW, {"input": {"flagId": flag["id"], "verdict": "CONFIRMED", "note": "b"}}, token=second.token),
    )
    assert sorted(str([e["code"] for e in b["data"]["reviewRiskFlag"]["errors"]]) for b in reviews) == [
        "['INVALID_STATE']",
        "[]",
    ], reviews
    assert len(await audit_trail(rt, "risk.action_lifted")) == 1
    assert len(await audit_trail(rt, "risk.flag_reviewed")) == 1
