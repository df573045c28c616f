"""Deals through GraphQL: from today at the earliest, from tomorrow when a deal is in force today, never in the
past; cancelled only before they begin; the deal in force on a day; brand scope in the SQL; a bounded list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from authz.subjects import Viewer
from core.clock import clock
from core.errors import DomainError, ErrorCode
from services.affiliates import deals
from tests.affiliate_plans.conftest import CANCEL, create_deal, create_plan, gid_uuid, insert_partner
from tests.conftest import error_codes, recorded_statements

LIST = """query($partner: String, $brand: String, $first: Int) {
  affiliateDeals(affiliateCode: $partner, brandCode: $brand, first: $first) {
    edges { node { affiliateCode brandCode effectiveFrom effectiveUntil inForce plan { code } } } } }"""
IN_FORCE = """query($on: Date) { affiliateDealInForce(affiliateCode: "acme", brandCode: "royal", on: $on) {
  effectiveFrom plan { code } } }"""


def codes(payload: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["code"], e["field"]) for e in payload["errors"]]


async def two_plans(gql: Any, token: str) -> tuple[str, str]:
    first = await create_plan(gql, token, code="cpa-50")
    second = await create_plan(gql, token, code="rev-30", kind="REVSHARE", cpa=None,
                               revshare={"kind": "FLAT", "ratePpm": 300_000})  # fmt: skip
    return first["plan"]["id"], second["plan"]["id"]


async def test_terms_change_forward_only(rt: Any, gql: Any, manager: Any, partner: Any) -> None:
    cpa, rev = await two_plans(gql, manager.token)
    today = clock.now().date()
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)

    assert codes(await create_deal(gql, manager.token, cpa, on=yesterday)) == [
        ("AFFILIATE_DEAL_RETROACTIVE", "effectiveFrom")
    ]
    first = await create_deal(gql, manager.token, cpa, on=today, negativeCarryOver=True)
    assert first["errors"] == []
    assert first["deal"] == {
        "id": first["deal"]["id"], "affiliateCode": "acme", "brandCode": "royal", "effectiveFrom": today.isoformat(),
        "effectiveUntil": None, "negativeCarryOver": True, "inForce": True,
        "plan": {"id": cpa, "code": "cpa-50"},
    }  # fmt: skip
    # Today already runs under the first deal: a change of terms starts tomorrow at the earliest.
    assert codes(await create_deal(gql, manager.token, rev, on=today)) == [
        ("AFFILIATE_DEAL_RETROACTIVE", "effectiveFrom")
    ]
    second = await create_deal(gql, manager.token, rev, on=tomorrow)
    assert second["errors"] == []
    assert codes(await create_deal(gql, manager.token, cpa, on=tomorrow)) == [("ALREADY_EXISTS", "effectiveFrom")]

    body = await gql(LIST, {"partner": "acme"}, token=manager.token)
    assert [e["node"] for e in body["data"]["affiliateDeals"]["edges"]] == [
        {"affiliateCode": "acme", "brandCode": "royal", "effectiveFrom": tomorrow.isoformat(), "effectiveUntil": None,
         "inForce": False, "plan": {"code": "rev-30"}},
        {"affiliateCode": "acme", "brandCode": "royal", "effectiveFrom": today.isoformat(),
         "effectiveUntil": today.isoformat(), "inForce": True, "plan": {"code": "cpa-50"}},
    ]  # fmt: skip
    for on, plan in ((today, "cpa-50"), (tomorrow, "rev-30"), (today + timedelta(days=40), "rev-30")):
        found = await gql(IN_FORCE, {"on": on.isoformat()}, token=manager.token)
        assert found["data"]["affiliateDealInForce"] == {"effectiveFrom": min(on, tomorrow).isoformat(),
                                                         "plan": {"code": plan}}, on  # fmt: skip
    assert (await gql(IN_FORCE, {"on": yesterday.isoformat()}, token=manager.token))["data"] == {
        "affiliateDealInForce": None
    }
    async with rt.database.session() as db:
        periods = await deals.deals_between(db, partner.id, partner.brand_id, yesterday, today + timedelta(days=3))
        audited = (
            await db.execute(text("SELECT count(*) FROM audit_log WHERE target_type = 'affiliate_deal'"))
        ).scalar()
        events = (
            await db.execute(text("SELECT count(*) FROM outbox_events WHERE topic = 'affiliate.deal_created'"))
        ).scalar()
    assert [(p.deal.plan.code, p.start, p.end) for p in periods] == [
        ("cpa-50", today, today), ("rev-30", tomorrow, today + timedelta(days=3)),
    ]  # fmt: skip
    assert (audited, events) == (2, 2)


async def test_a_deal_can_be_cancelled_only_before_it_begins(rt: Any, gql: Any, manager: Any, partner: Any) -> None:
    cpa, rev = await two_plans(gql, manager.token)
    today = clock.now().date()
    begun = (await create_deal(gql, manager.token, cpa, on=today))["deal"]
    later = (await create_deal(gql, manager.token, rev, on=today + timedelta(days=7)))["deal"]
    refused = (await gql(CANCEL, {"input": {"dealId": begun["id"]}}, token=manager.token))["data"][
        "cancelAffiliateDeal"
    ]
    assert codes(refused) == [("AFFILIATE_DEAL_RETROACTIVE", "dealId")]
    done = await gql(CANCEL, {"input": {"dealId": later["id"], "reason": "terms renegotiated"}}, token=manager.token)
    assert done["data"]["cancelAffiliateDeal"]["errors"] == []
    body = await gql(LIST, {"partner": "acme"}, token=manager.token)
    assert [e["node"]["plan"]["code"] for e in body["data"]["affiliateDeals"]["edges"]] == ["cpa-50"]
    gone = await gql(CANCEL, {"input": {"dealId": later["id"]}}, token=manager.token)
    assert codes(gone["data"]["cancelAffiliateDeal"]) == [("NOT_FOUND", "dealId")]
    # A deal made for tomorrow can be cancelled today, not once tomorrow has come.
    tomorrow = (await create_deal(gql, manager.token, rev, on=today + timedelta(days=1)))["deal"]
    clock.advance(timedelta(days=1))
    staff = Viewer(kind="staff", id=manager.id, roles=frozenset({"brand_admin", "staff"}))
    with pytest.raises(DomainError) as refused_later:
        async with rt.database.transaction() as db:
            await deals.cancel_deal(db, deal_id=gid_uuid(tomorrow["id"]), actor=staff)
    assert refused_later.value.code == ErrorCode.AFFILIATE_DEAL_RETROACTIVE


async def test_a_partner_must_be_open_and_on_the_brand(
    rt: Any, gql: Any, manager: Any, brand: Any, other_brand: Any
) -> None:
    cpa, _ = await two_plans(gql, manager.token)
    await insert_partner(rt, brand.id, "closed-co", status="closed")
    await insert_partner(rt, other_brand.id, "nordic", on_brand=False)
    assert codes(await create_deal(gql, manager.token, cpa, partner="closed-co")) == [
        ("AFFILIATE_DEAL_INVALID", "affiliateId")
    ]
    assert codes(await create_deal(gql, manager.token, cpa, partner="nordic")) == [
        ("AFFILIATE_DEAL_INVALID", "brandId")
    ]
    assert codes(await create_deal(gql, manager.token, cpa, partner="nobody")) == [("NOT_FOUND", "affiliateCode")]
    from strawberry import relay

    unknown = str(relay.GlobalID("AffiliatePlan", "00000000-0000-0000-0000-000000000000"))
    await insert_partner(rt, brand.id, "acme")
    assert codes(await create_deal(gql, manager.token, unknown)) == [("NOT_FOUND", "planId")]
    body = await gql(
        """mutation($input: CreateAffiliateDealInput!) { createAffiliateDeal(input: $input) { errors { code } } }""",
        {"input": {"affiliateCode": "acme", "brandCode": "royal", "planId": "garbage", "effectiveFrom": "2026-12-07"}},
        token=manager.token,
    )
    assert error_codes(body) == ["BAD_USER_INPUT"]


async def test_staff_of_one_brand_see_and_make_only_its_deals(
    rt: Any, gql: Any, make_staff: Any, brand: Any, other_brand: Any
) -> None:
    admin = await make_staff(("brand_admin", None))  # every brand
    cpa, _ = await two_plans(gql, admin.token)
    royal = await insert_partner(rt, brand.id, "acme")
    nordic = await insert_partner(rt, other_brand.id, "nordic")
    assert (await create_deal(gql, admin.token, cpa))["errors"] == []
    body = await gql(
        """mutation($input: CreateAffiliateDealInput!) { createAffiliateDeal(input: $input) { errors { code } } }""",
        {"input": {"affiliateCode": "nordic", "brandCode": "northstar", "planId": cpa,
                   "effectiveFrom": clock.now().date().isoformat()}},
        token=admin.token,
    )  # fmt: skip
    assert body["data"]["createAffiliateDeal"]["errors"] == []
    local = await make_staff("brand_admin")  # royal only
    seen = await gql(LIST, {}, token=local.token)
    assert [e["node"]["affiliateCode"] for e in seen["data"]["affiliateDeals"]["edges"]] == ["acme"]
    refused = await create_deal(gql, local.token, cpa, partner="nordic", brandCode="northstar",
                                on=clock.now().date() + timedelta(days=1))  # fmt: skip
    assert codes(refused) == [("NOT_FOUND", "brandCode")]
    assert len((await gql(LIST, {}, token=admin.token))["data"]["affiliateDeals"]["edges"]) == 2
    assert (royal.code, nordic.code) == ("acme", "nordic")
    finance = await make_staff("finance")
    assert len((await gql(LIST, {}, token=finance.token))["data"]["affiliateDeals"]["edges"]) == 1
    body = await gql(
        """mutation($input: CreateAffiliateDealInput!) { createAffiliateDeal(input: $input) { errors { code } } }""",
        {"input": {"affiliateCode": "acme", "brandCode": "royal", "planId": cpa, "effectiveFrom": "2030-01-01"}},
        token=finance.token,
    )
    assert error_codes(body) == ["FORBIDDEN"]


async def test_the_deal_list_costs_the_same_for_one_deal_or_many(
    rt: Any, gql: Any, manager: Any, partner: Any, brand: Any
) -> None:
    cpa, rev = await two_plans(gql, manager.token)
    start = clock.now().date()

    async def count() -> int:
        with recorded_statements(rt) as statements:
            body = await gql(LIST, {"first": 50}, token=manager.token)
        assert "errors" not in body, body
        return len(statements)

    assert (await create_deal(gql, manager.token, cpa, on=start))["errors"] == []
    one = await count()
    for n in range(1, 6):
        partner_n = await insert_partner(rt, brand.id, f"p{n}")
        assert (await create_deal(gql, manager.token, rev, on=start + timedelta(days=n), partner=partner_n.code))[
            "errors"
        ] == []
    assert await count() == one
    assert gid_uuid(cpa) != gid_uuid(rev)
