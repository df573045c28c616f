"""Plans through GraphQL: made from typed terms (money as decimal strings), refused with the code of the part, read
back as they were stored, listed in a bounded number of statements, audited, announced, and reserved to the roles
the policy names."""

from __future__ import annotations

from typing import Any

import pytest

from tests.affiliate_plans.conftest import CPA_TERMS, create_plan, gid_uuid
from tests.conftest import error_codes, recorded_statements

LIST = """query($first: Int, $kind: AffiliatePlanKind) { affiliatePlans(first: $first, kind: $kind) {
  edges { node { id code kind cpa { amount { amount } } revshare { kind tiers { fromNgr { amount } ratePpm } } } }
  pageInfo { hasNextPage } } }"""
ONE = "query($id: ID!) { affiliatePlan(id: $id) { code name kind secondTierPpm cpa { withinDays } } }"
LADDER = {
    "kind": "LADDER",
    "tiers": [{"fromNgr": "0", "ratePpm": 250_000}, {"fromNgr": "10000.00", "ratePpm": 350_000}],
}


async def test_a_hybrid_plan_reads_back_as_it_was_made(rt: Any, gql: Any, manager: Any) -> None:
    made = await create_plan(
        gql, manager.token, code="Hybrid-Q1", name="Hybrid Q1", kind="HYBRID", revshare=LADDER, secondTierPpm=50_000
    )
    assert made["errors"] == [], made
    plan = made["plan"]
    assert plan["code"] == "hybrid-q1"  # codes are lowercase
    assert (plan["kind"], plan["currency"], plan["secondTierPpm"]) == ("HYBRID", "EUR", 50_000)
    assert plan["cpa"] == {
        "amount": {"amount": "50.00", "currency": "EUR"},
        "minFirstDeposit": {"amount": "20.00"},
        "minWagering": {"amount": "100.00"},
        "withinDays": 30,
    }
    assert plan["revshare"] == {
        "kind": "LADDER",
        "tiers": [
            {"fromNgr": {"amount": "0.00"}, "ratePpm": 250_000},
            {"fromNgr": {"amount": "10000.00"}, "ratePpm": 350_000},
        ],
    }
    body = await gql(ONE, {"id": plan["id"]}, token=manager.token)
    assert body["data"]["affiliatePlan"] == {
        "code": "hybrid-q1", "name": "Hybrid Q1", "kind": "HYBRID", "secondTierPpm": 50_000, "cpa": {"withinDays": 30},
    }  # fmt: skip
    async with rt.database.session() as db:
        from sqlalchemy import text

        stored = (await db.execute(text("SELECT terms FROM affiliate_plans"))).scalar_one()
        audited = (await db.execute(text("SELECT action FROM audit_log WHERE target_type = 'affiliate_plan'"))).all()
        events = (
            (await db.execute(text("SELECT payload FROM outbox_events WHERE topic = 'affiliate.plan_created'")))
            .scalars()
            .all()
        )
    assert stored == {
        "amount": 5000,
        "qualification": {"min_first_deposit": 2000, "min_wagering": 10000, "within_days": 30},
        "revshare": {"kind": "ladder", "tiers": [{"from_ngr": 0, "rate_ppm": 250_000},
                                                 {"from_ngr": 1_000_000, "rate_ppm": 350_000}]},
        "second_tier_ppm": 50_000,
    }  # fmt: skip
    assert [a[0] for a in audited] == ["affiliate.plan.create"]
    assert len(events) == 1
    assert events[0]["terms"] == stored
    assert events[0]["plan_id"] == str(gid_uuid(plan["id"]))


REFUSED: list[tuple[dict[str, Any], str, str]] = [
    ({"code": "x"}, "AFFILIATE_PLAN_INVALID", "code"),
    ({"currency": "XXX"}, "AFFILIATE_PLAN_INVALID", "currency"),
    ({"cpa": None}, "AFFILIATE_CPA_INVALID", "cpa"),
    ({"cpa": {**CPA_TERMS, "amount": "0"}}, "AFFILIATE_CPA_INVALID", "cpa.amount"),
    ({"cpa": {**CPA_TERMS, "amount": "1.001"}}, "AFFILIATE_CPA_INVALID", "cpa.amount"),
    ({"cpa": {**CPA_TERMS, "minWagering": "lots"}}, "AFFILIATE_CPA_INVALID", "cpa.qualification.minWagering"),
    ({"cpa": {**CPA_TERMS, "withinDays": 400}}, "AFFILIATE_CPA_INVALID", "cpa.qualification.withinDays"),
    ({"revshare": {"kind": "FLAT", "ratePpm": 1}}, "AFFILIATE_REVSHARE_INVALID", "revshare"),
    ({"kind": "REVSHARE", "cpa": None, "revshare": {"kind": "FLAT"}}, "AFFILIATE_REVSHARE_INVALID", "revshare.ratePpm"),
    (
        {
            "kind": "REVSHARE",
            "cpa": None,
            "revshare": {"kind": "TIERED", "tiers": [{"fromNgr": "5", "ratePpm": 1}] * 2},
        },
        "AFFILIATE_REVSHARE_INVALID",
        "revshare.tiers[0].fromNgr",
    ),
    ({"secondTierPpm": 2_000_000}, "AFFILIATE_SECOND_TIER_INVALID", "secondTierPpm"),
]


@pytest.mark.parametrize(("overrides", "code", "field"), REFUSED)
async def test_refusals_name_the_part(gql: Any, manager: Any, overrides: dict[str, Any], code: str, field: str) -> None:
    refused = await create_plan(gql, manager.token, **overrides)
    assert refused["plan"] is None
    assert [(e["code"], e["field"]) for e in refused["errors"]] == [(code, field)]


async def test_a_code_is_taken_once(gql: Any, manager: Any) -> None:
    assert (await create_plan(gql, manager.token))["errors"] == []
    again = await create_plan(gql, manager.token, name="Another")
    assert [(e["code"], e["field"]) for e in again["errors"]] == [("ALREADY_EXISTS", "code")]


async def test_the_list_filters_by_kind_and_costs_the_same_for_one_plan_or_many(
    rt: Any, gql: Any, manager: Any
) -> None:
    async def count() -> int:
        with recorded_statements(rt) as statements:
            body = await gql(LIST, {"first": 50}, token=manager.token)
        assert "errors" not in body, body
        return len(statements)

    assert (await create_plan(gql, manager.token, code="cpa-0"))["errors"] == []
    one = await count()
    for n in range(1, 6):
        kind = "REVSHARE" if n % 2 else "CPA"
        extra = {"cpa": None, "revshare": LADDER} if kind == "REVSHARE" else {}
        assert (await create_plan(gql, manager.token, code=f"plan-{n}", kind=kind, **extra))["errors"] == []
    assert await count() == one
    body = await gql(LIST, {"first": 50, "kind": "REVSHARE"}, token=manager.token)
    codes = [e["node"]["code"] for e in body["data"]["affiliatePlans"]["edges"]]
    assert codes == ["plan-5", "plan-3", "plan-1"]  # newest first
    page = await gql(LIST, {"first": 2}, token=manager.token)
    assert page["data"]["affiliatePlans"]["pageInfo"]["hasNextPage"] is True


@pytest.mark.parametrize(("role", "reads", "writes"), [
    ("brand_admin", True, True), ("finance", True, False), ("support", False, False), ("marketing", False, False),
])  # fmt: skip
async def test_who_reads_and_makes_plans(
    gql: Any, make_staff: Any, manager: Any, role: str, reads: bool, writes: bool
) -> None:
    assert (await create_plan(gql, manager.token, code="base"))["errors"] == []
    staff = await make_staff(role)
    body = await gql(LIST, {"first": 5}, token=staff.token)
    if reads:
        assert [e["node"]["code"] for e in body["data"]["affiliatePlans"]["edges"]] == ["base"]
    else:
        assert body["data"] == {"affiliatePlans": None}
        assert error_codes(body) == ["FORBIDDEN"]
    from tests.affiliate_plans.conftest import PLAN

    spec = {"code": "mine", "name": "Mine", "currency": "EUR", "kind": "CPA", "cpa": CPA_TERMS}
    made = await gql(PLAN, {"input": spec}, token=staff.token)
    if writes:
        assert made["data"]["createAffiliatePlan"]["errors"] == []
    else:
        assert made["data"] is None or made["data"].get("createAffiliatePlan") is None
        assert error_codes(made) == ["FORBIDDEN"]
    player_body = await gql(LIST, {"first": 5})
    assert error_codes(player_body) == ["UNAUTHENTICATED"]
