"""`croupier risk rules|queue|review|impose|lift`: the rules, the queue and restrictions from the command
line, as the system (audited as such), with the service's refusals printed with their code."""

from __future__ import annotations

import json
from typing import Any

from services.risk import actions
from services.risk.store import OnSession
from tests.risk.desk import audit_trail, hit, rule
from tests.test_audit import run_cli


async def test_rules_listed_shown_and_changed(rt: Any) -> None:
    code, output = await run_cli("risk", "rules", "list")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[-1] == "11 rules"
    burst = next(line for line in lines if line.startswith("deposits-per-player\t"))
    assert burst.split("\t")[:6] == ["deposits-per-player", "velocity", "enabled", "15 points", "v1", "every brand"]

    code, output = await run_cli("risk", "rules", "show", "covering-bets")
    shown = json.loads(output)
    assert (shown["params"], shown["points"], shown["version"]) == (
        {"rounds": 5, "low_percent": 85, "high_percent": 115, "share_percent": 70},
        25,
        1,
    )

    code, output = await run_cli(
        "risk", "rules", "set", "covering-bets",
        "--points", "30",
        "--params", '{"rounds": 3, "low_percent": 95, "high_percent": 105}',
        "--actions", '[{"kind": "flag_review"}]',
        "--disable",
        "--reason", "tighter, and off until the bonus team agrees",
    )  # fmt: skip
    assert code == 0, output
    assert output.strip().splitlines()[-1].split("\t")[:5] == [
        "covering-bets",
        "covering_bets",
        "disabled",
        "30 points",
        "v2",
    ]
    changed = await rule_row(rt, "covering-bets")
    assert (changed["params"]["rounds"], changed["enabled"], changed["actions"]) == (
        3,
        False,
        [{"kind": "flag_review"}],
    )
    [record] = await audit_trail(rt, "risk.rule_changed")
    assert (record.actor_type, record.reason) == ("system", "tighter, and off until the bonus team agrees")
    assert set(record.after) == {"code", "params", "points", "actions", "enabled", "version"}

    # Refusals name the field; nothing changes.
    for args, expected in (
        (("--params", '{"rounds": 3, "low_percent": 120, "high_percent": 90}'), "refused (INVALID_INPUT): params:"),
        (("--actions", '[{"kind": "hold_deposit"}]'), "refused (INVALID_INPUT): actions:"),
        (("--actions", '{"kind": "flag_review"}'), "refused (INVALID_INPUT): actions:"),
        (("--points", "101"), "refused (INVALID_INPUT): points:"),
    ):
        code, output = await run_cli("risk", "rules", "set", "covering-bets", *args, "--reason", "x")
        assert code == 1, (args, output)
        assert expected in output, (args, output)
    code, output = await run_cli("risk", "rules", "set", "covering-bets", "--params", "{nope", "--reason", "x")
    assert code != 0
    assert "not JSON" in output
    code, output = await run_cli("risk", "rules", "show", "no-such-rule")
    assert code == 1
    assert "NOT_FOUND" in output
    assert len(await audit_trail(rt, "risk.rule_changed")) == 1


async def rule_row(rt: Any, code: str) -> dict[str, Any]:
    from sqlalchemy import text

    async with rt.database.session() as db:
        row = (
            await db.execute(text("SELECT params, enabled, actions FROM risk_rules WHERE code = :c"), {"c": code})
        ).one()
    return {"params": row.params, "enabled": row.enabled, "actions": row.actions}


async def test_the_queue_a_review_and_restrictions_imposed_and_lifted(rt: Any, make_player: Any) -> None:
    player = await make_player()
    await hit(rt, player.uuid, "chargeback-history", "1 chargeback")
    other = await make_player()
    await hit(rt, other.uuid, "linked-accounts", "cluster of 3")
    assert (await rule(rt, "linked-accounts")).points == 15

    code, output = await run_cli("risk", "queue")
    assert code == 0, output
    lines = output.strip().splitlines()
    assert lines[-1] == "2 flags"
    rows = [line.split("\t") for line in lines[:-1]]
    assert [(r[1], r[2], r[4]) for r in rows] == [
        ("40", str(player.uuid), "chargeback-history"),
        ("15", str(other.uuid), "linked-accounts"),
    ]
    code, output = await run_cli("risk", "queue", "--brand", "royal")
    assert output.strip().splitlines()[-1] == "2 flags"

    code, output = await run_cli("risk", "review", rows[1][0], "dismissed", "--note", "siblings")
    assert (code, output.strip().splitlines()[-1]) == (0, f"{rows[1][0]} dismissed"), output
    code, output = await run_cli("risk", "review", rows[1][0], "confirmed", "--note", "again")
    assert code == 1
    assert "INVALID_STATE" in output
    code, output = await run_cli("risk", "queue")
    assert output.strip().splitlines()[-1] == "1 flags"

    code, output = await run_cli(
        "risk", "impose", str(player.uuid), "route_psps", "--psps", "cardpay,bankwire", "--reason", "card fraud"
    )
    assert code == 0, output
    action_id, kind = output.strip().splitlines()[-1].split()
    assert kind == "route_psps"
    async with rt.database.session() as db:
        assert (await actions.in_force(OnSession(db), player.uuid)).psps == ("cardpay", "bankwire")
    code, output = await run_cli("risk", "impose", str(player.uuid), "flag_review", "--reason", "x")
    assert code != 0
    assert "use one of" in output
    code, output = await run_cli("risk", "impose", str(player.uuid), "route_psps", "--reason", "x")
    assert code == 1
    assert "refused (INVALID_INPUT): psps:" in output

    code, output = await run_cli("risk", "lift", action_id, "--reason", "resolved with the PSP")
    assert (code, output.strip().splitlines()[-1]) == (0, f"lifted {action_id} route_psps"), output
    async with rt.database.session() as db:
        assert (await actions.in_force(OnSession(db), player.uuid)).psps is None
    code, output = await run_cli("risk", "lift", action_id, "--reason", "again")
    assert code == 1
    assert "INVALID_STATE" in output
    trail = [(r.action, r.actor_type, r.reason) for r in await audit_trail(rt, "risk.")]
    assert trail[-3:] == [
        ("risk.flag_reviewed", "system", "siblings"),
        ("risk.action_imposed", "system", "card fraud"),
        ("risk.action_lifted", "system", "resolved with the PSP"),
    ]
