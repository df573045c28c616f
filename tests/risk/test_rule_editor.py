"""The rules as staff edit them (GraphQL `riskRules`, `createRiskRule`, `updateRiskRule`): validated as the
defaults are, versioned, audited with what changed, announced; brand-scoped as the lists are; the engine
runs the edited rule from its next evaluation."""

from __future__ import annotations

import uuid
from typing import Any

from services.risk import rules
from services.risk.store import OnSession
from tests.conftest import recorded_statements
from tests.risk.desk import CREATE_RULE, RULES, UPDATE_RULE, audit_trail, events


async def _enabled(rt: Any, brand_id: uuid.UUID) -> dict[str, rules.Rule]:
    async with rt.database.session() as db:
        return {r.code: r for r in await rules.enabled(OnSession(db), brand_id, set(rules.RuleKind))}


async def test_the_desk_reads_the_default_rules(gql: Any, make_staff: Any) -> None:
    analyst = await make_staff("risk_analyst")
    body = await gql(RULES, token=analyst.token)
    found = {r["code"]: r for r in body["data"]["riskRules"]}
    assert set(found) == {r["code"] for r in rules.defaults()}
    burst = found["deposits-per-player"]
    assert burst["kind"] == "VELOCITY"
    assert burst["params"] == {"occasion": "deposit", "by": "player", "count": 5, "minutes": 10}
    assert (burst["points"], burst["version"], burst["enabled"], burst["allBrands"]) == (15, 1, True, True)
    assert [a["kind"] for a in burst["actions"]] == ["HOLD_DEPOSIT", "FLAG_REVIEW"]
    assert burst["inline"] is True
    assert found["chargeback-history"]["inline"] is False


async def test_an_edit_is_versioned_audited_announced_and_run_next(
    rt: Any, gql: Any, make_staff: Any, brand: Any
) -> None:
    admin = await make_staff(("superadmin", None))
    change = {
        "code": "deposits-per-player",
        "points": 25,
        "params": {"occasion": "deposit", "by": "player", "count": 3, "minutes": 15},
        "actions": [{"kind": "HOLD_DEPOSIT"}, {"kind": "REQUIRE_KYC_LEVEL", "level": "identity_verified"}],
        "reason": "bursts of three are enough",
    }
    body = await gql(UPDATE_RULE, {"input": change}, token=admin.token)
    payload = body["data"]["updateRiskRule"]
    assert payload["errors"] == [], payload
    assert (payload["rule"]["points"], payload["rule"]["version"]) == (25, 2)
    assert payload["rule"]["actions"] == [
        {"kind": "HOLD_DEPOSIT", "level": None, "psps": None},
        {"kind": "REQUIRE_KYC_LEVEL", "level": "identity_verified", "psps": None},
    ]
    running = (await _enabled(rt, brand.id))["deposits-per-player"]
    assert (running.points, running.params.count, running.params.minutes, running.version) == (25, 3, 15, 2)
    assert [a.kind for a in running.actions] == [rules.ActionKind.HOLD_DEPOSIT, rules.ActionKind.REQUIRE_KYC_LEVEL]

    [record] = await audit_trail(rt, "risk.rule_")
    assert (record.action, record.actor_type, record.reason) == ("risk.rule_changed", "staff", change["reason"])
    assert record.before == {
        "code": "deposits-per-player",
        "points": 15,
        "params": {"occasion": "deposit", "by": "player", "count": 5, "minutes": 10},
        "actions": [{"kind": "hold_deposit"}, {"kind": "flag_review"}],
        "version": 1,
    }
    assert record.after["points"] == 25
    assert record.after["version"] == 2
    assert record.after["actions"][1] == {"kind": "require_kyc_level", "level": "identity_verified"}
    [announced] = await events(rt, "risk.rule_changed")
    assert announced["rule_code"] == "deposits-per-player"
    assert announced["changed"] == ["actions", "params", "points"]
    assert announced["version"] == 2

    # The same values again change nothing: no version, no record, no event.
    again = await gql(UPDATE_RULE, {"input": change}, token=admin.token)
    assert again["data"]["updateRiskRule"]["rule"]["version"] == 2
    assert len(await audit_trail(rt, "risk.rule_")) == 1
    assert len(await events(rt, "risk.rule_changed")) == 1

    # Disabled, the engine no longer runs it; enabled again, it does.
    off = {"code": "deposits-per-player", "enabled": False, "reason": "noisy this week"}
    assert (await gql(UPDATE_RULE, {"input": off}, token=admin.token))["data"]["updateRiskRule"]["errors"] == []
    assert "deposits-per-player" not in await _enabled(rt, brand.id)
    on = {**off, "enabled": True, "reason": "back"}
    body = await gql(UPDATE_RULE, {"input": on}, token=admin.token)
    assert body["data"]["updateRiskRule"]["rule"]["version"] == 4
    assert "deposits-per-player" in await _enabled(rt, brand.id)


async def test_bad_edits_are_refused_with_the_field(rt: Any, gql: Any, make_staff: Any) -> None:
    admin = await make_staff(("superadmin", None))
    cases = [
        ({"code": "covering-bets", "params": {"rounds": 5, "low_percent": 120, "high_percent": 90}}, "params"),
        (
            {"code": "registrations-per-ip", "params": {"occasion": "login", "by": "ip", "count": 5, "minutes": 60}},
            "params",
        ),
        ({"code": "linked-accounts", "params": {"min_cluster_size": 3, "extra": 1}}, "params"),
        ({"code": "chargeback-history", "actions": [{"kind": "HOLD_DEPOSIT"}]}, "actions"),
        ({"code": "chargeback-history", "actions": [{"kind": "REQUIRE_KYC_LEVEL"}]}, "actions"),
        ({"code": "chargeback-history", "actions": [{"kind": "REQUIRE_KYC_LEVEL", "level": "L99"}]}, "actions"),
        ({"code": "chargeback-history", "actions": [{"kind": "ROUTE_PSPS", "psps": []}]}, "actions"),
        ({"code": "chargeback-history", "points": 101}, "points"),
        ({"code": "chargeback-history", "name": "  "}, "name"),
        ({"code": "no-such-rule", "points": 1}, "code"),
    ]
    for change, field in cases:
        body = await gql(UPDATE_RULE, {"input": {"reason": "tuning", **change}}, token=admin.token)
        payload = body["data"]["updateRiskRule"]
        assert payload["rule"] is None, (change, payload)
        assert [e["field"] for e in payload["errors"]] == [field], (change, payload)
    missing_reason = await gql(
        UPDATE_RULE, {"input": {"code": "chargeback-history", "points": 5, "reason": " "}}, token=admin.token
    )
    assert [e["field"] for e in missing_reason["data"]["updateRiskRule"]["errors"]] == ["reason"]
    assert await audit_trail(rt, "risk.rule_") == []
    assert {r["code"]: r["version"] for r in (await gql(RULES, token=admin.token))["data"]["riskRules"]}[
        "chargeback-history"
    ] == 1


async def test_brand_staff_create_their_brands_rules_and_leave_every_brands_alone(
    rt: Any, gql: Any, make_staff: Any, brand: Any, other_brand: Any
) -> None:
    analyst = await make_staff("risk_analyst")  # royal's
    refused = await gql(
        UPDATE_RULE, {"input": {"code": "chargeback-history", "points": 5, "reason": "ours"}}, token=analyst.token
    )
    assert [e["code"] for e in refused["data"]["updateRiskRule"]["errors"]] == ["NOT_ALLOWED"]

    new = {
        "code": "royal-deposit-burst",
        "name": "Royal: three deposits in five minutes",
        "kind": "VELOCITY",
        "params": {"occasion": "deposit", "by": "player", "count": 3, "minutes": 5},
        "points": 10,
        "actions": [{"kind": "FLAG_REVIEW"}, {"kind": "ROUTE_PSPS", "psps": ["cardpay"]}],
        "reason": "royal's own threshold",
    }
    created = (await gql(CREATE_RULE, {"input": new}, token=analyst.token))["data"]["createRiskRule"]
    assert created["errors"] == [], created
    assert (created["rule"]["allBrands"], created["rule"]["version"]) == (False, 1)
    assert created["rule"]["actions"][1] == {"kind": "ROUTE_PSPS", "level": None, "psps": ["cardpay"]}
    assert "royal-deposit-burst" in await _enabled(rt, brand.id)
    assert "royal-deposit-burst" not in await _enabled(rt, other_brand.id)

    duplicate = (await gql(CREATE_RULE, {"input": new}, token=analyst.token))["data"]["createRiskRule"]
    assert [(e["code"], e["field"]) for e in duplicate["errors"]] == [("ALREADY_EXISTS", "code")]
    for bad, field in (({"code": "Not A Code"}, "code"), ({"kind": "LIST_WATCH"}, "params")):
        body = await gql(CREATE_RULE, {"input": {**new, "code": "royal-other", **bad}}, token=analyst.token)
        assert [e["field"] for e in body["data"]["createRiskRule"]["errors"]] == [field], bad

    # Its own rule it changes; northstar's staff neither see nor change it.
    changed = await gql(
        UPDATE_RULE, {"input": {"code": "royal-deposit-burst", "points": 12, "reason": "r"}}, token=analyst.token
    )
    assert changed["data"]["updateRiskRule"]["rule"]["version"] == 2
    northstar = await make_staff(("risk_analyst", "northstar"))
    seen = {r["code"] for r in (await gql(RULES, token=northstar.token))["data"]["riskRules"]}
    assert "royal-deposit-burst" not in seen
    assert "chargeback-history" in seen
    theirs = await gql(
        UPDATE_RULE, {"input": {"code": "royal-deposit-burst", "points": 1, "reason": "r"}}, token=northstar.token
    )
    assert [e["code"] for e in theirs["data"]["updateRiskRule"]["errors"]] == ["NOT_FOUND"]

    trail = await audit_trail(rt, "risk.rule_")
    assert [(r.action, r.brand_id) for r in trail] == [("risk.rule_created", brand.id), ("risk.rule_changed", brand.id)]
    assert [e["changed"] for e in await events(rt, "risk.rule_changed")] == [["created"], ["points"]]


async def test_the_rules_read_in_constant_statements(rt: Any, gql: Any, make_staff: Any) -> None:
    admin = await make_staff(("superadmin", None))
    counts = []
    for extra in (0, 5):
        for n in range(extra):
            new = {
                "code": f"extra-rule-{n}",
                "name": f"Extra {n}",
                "kind": "LINKED_ACCOUNTS",
                "params": {"min_cluster_size": 2 + n},
                "points": n,
                "actions": [{"kind": "FLAG_REVIEW"}],
                "reason": "more",
            }
            assert (await gql(CREATE_RULE, {"input": new}, token=admin.token))["data"]["createRiskRule"]["errors"] == []
        with recorded_statements(rt) as statements:
            body = await gql(RULES, token=admin.token)
        assert len(body["data"]["riskRules"]) == len(rules.defaults()) + extra
        counts.append(len(statements))
    assert counts[0] == counts[1], counts


def test_the_documented_defaults_are_the_installed_ones() -> None:
    """docs/risk.md's table of default rules says what services/risk/defaults.toml installs."""
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "risk.md").read_text()
    documented = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("`") and cells[2].startswith("`"):
            documented[cells[0].strip("`")] = cells[1:]
    expected = {
        r["code"]: [
            r["name"],
            f"`{r['kind']}`",
            ", ".join(f"{k} {v}" for k, v in r["params"].items()) or "—",
            str(r["points"]),
            ", ".join(a["kind"] for a in r["actions"]) or "—",
        ]
        for r in rules.defaults()
    }
    assert documented == expected
