"""Commission runs through the staff GraphQL API, on what review found missing: a parent's second tier at the
deal it had when the commission was earned, other currencies' NGR converted at the reports' reference rates
(the rate on the line), and no run while the report projection is behind the period."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from services.reports import fx
from tests.affiliate_runs.conftest import Affiliates, Table, at_noon, close_month
from tests.affiliate_runs.test_graphql import CREATE

LINES = """
query Lines($run: ID!) {
  affiliateRunLines(runId: $run, first: 50) {
    edges { node { kind affiliateId subAffiliateId stakes { amount currency } ngr { amount currency } playerCurrency
                   fxRate ratePpm revshare { amount } secondTierBase { amount } secondTier { amount currency }
                   firstDay lastDay } }
  }
}"""
FLAT_25 = {"revshare": {"kind": "flat", "rate_ppm": 250_000}}


async def create(gql: Any, staff: Any, month: tuple[Any, Any]) -> dict[str, Any]:
    body = await gql(CREATE, {"input": {"from": str(month[0]), "to": str(month[1])}}, token=staff.token)
    payload: dict[str, Any] = body["data"]["createAffiliateRun"]
    return payload


async def lines_of(gql: Any, staff: Any, run_id: str) -> list[dict[str, Any]]:
    body = await gql(LINES, {"run": run_id}, token=staff.token)
    return [edge["node"] for edge in body["data"]["affiliateRunLines"]["edges"]]


async def test_a_parents_new_deal_mid_period_pays_its_rate_only_on_what_was_earned_after_it(
    gql: Any, brand: Any, make_player: Any, make_staff: Any, affiliates: Affiliates, table: Table,
    month: tuple[Any, Any],
) -> None:  # fmt: skip
    parent = await affiliates.partner("tierparent")
    child = await affiliates.partner("tierchild", parent=parent)
    old = await affiliates.plan("revshare", {**FLAT_25, "second_tier_ppm": 100_000})
    new = await affiliates.plan("revshare", {**FLAT_25, "second_tier_ppm": 200_000})
    await affiliates.deal(parent, old, month[0] - timedelta(days=40))
    await affiliates.deal(parent, new, month[0] + timedelta(days=10))
    await affiliates.deal(child, await affiliates.plan("revshare", FLAT_25), month[0] - timedelta(days=40))
    player = await make_player()
    await affiliates.attribute(player.uuid, child)
    at_noon(month[0] + timedelta(days=2))
    await table.play(player.uuid, stake=10_000, win=2_000)  # NGR 80.00, under the parent's old deal
    at_noon(month[0] + timedelta(days=12))
    await table.play(player.uuid, stake=4_000)  # NGR 40.00, under its new one
    at_noon(month[0] + timedelta(days=13))
    await table.play(player.uuid, stake=1_000, win=3_000)  # NGR -20.00: a losing day carries no commission
    await table.project()
    close_month(month)
    staff = await make_staff("finance")

    payload = await create(gql, staff, month)
    assert payload["errors"] == [], payload
    found = await lines_of(gql, staff, payload["run"]["id"])

    (mine,) = [line for line in found if line["kind"] == "player"]
    assert mine["revshare"] == {"amount": "25.00"}  # 25 % of 100.00
    tier = sorted((line for line in found if line["kind"] == "second_tier"), key=lambda line: line["firstDay"])
    assert [
        (
            line["ratePpm"],
            line["secondTierBase"]["amount"],
            line["secondTier"]["amount"],
            line["firstDay"],
            line["lastDay"],
        )
        for line in tier
    ] == [
        (100_000, "16.67", "1.66", str(month[0]), str(month[0] + timedelta(days=9))),
        (200_000, "8.33", "1.66", str(month[0] + timedelta(days=10)), str(month[1])),
    ]  # fmt: skip  (25.00 split 80 : 40 by the winning days; before the fix, all of it at 20 %: 5.00)


async def test_another_currencys_ngr_is_converted_per_day_at_the_reference_rate_recorded_on_the_line(
    rt: Any, gql: Any, brand: Any, make_player: Any, make_staff: Any, affiliates: Affiliates, table: Table,
    month: tuple[Any, Any],
) -> None:  # fmt: skip
    partner = await affiliates.partner("fxpartner")
    await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_25), month[0], carry_over=True)
    euro, pound = await make_player(), await make_player(currency="GBP")
    await affiliates.attribute(euro.uuid, partner)
    await affiliates.attribute(pound.uuid, partner)
    first, second = month[0] + timedelta(days=2), month[0] + timedelta(days=12)
    async with rt.database.transaction() as db:  # GBP per 1 EUR: 1.25 from the first day, 1.08 from the second
        await fx.import_rates(db, fx.ParsedRates({("GBP", first): Decimal("1.25"), ("GBP", second): Decimal("1.08")}))
    at_noon(first)
    await table.play(pound.uuid, stake=10_000, currency="GBP")  # 100.00 GBP = 80.00 EUR
    await table.play(euro.uuid, stake=5_000, win=7_000)  # -20.00 EUR
    at_noon(second + timedelta(days=2))  # a Saturday's rate is the latest before it
    await table.play(pound.uuid, stake=5_400, currency="GBP")  # 54.00 GBP = 50.00 EUR
    await table.project()
    close_month(month)
    staff = await make_staff("finance")

    payload = await create(gql, staff, month)
    assert payload["errors"] == [], payload
    assert payload["run"]["deals"] == [
        {
            "ngr": {"amount": "110.00"},
            "carryIn": {"amount": "0.00"},
            "base": {"amount": "110.00"},
            "revshare": {"amount": "27.50"},
            "carryOut": {"amount": "0.00"},
            "ratePpm": 250_000,
            "tier": None,
        }
    ]  # fmt: skip  (80.00 + 50.00 - 20.00, one unit: the euro loss nets against the converted pounds)
    found = sorted(await lines_of(gql, staff, payload["run"]["id"]), key=lambda line: line["ngr"]["amount"])
    assert [
        (line["stakes"], line["ngr"], line["playerCurrency"], line["fxRate"], line["revshare"]["amount"])
        for line in found
    ] == [
        ({"amount": "50.00", "currency": "EUR"},
         {"amount": "-20.00", "currency": "EUR"}, None, None, "-5.00"),
        ({"amount": "54.00", "currency": "GBP"}, {"amount": "50.00", "currency": "EUR"}, "GBP", "0.9259259259",
         "12.50"),
        ({"amount": "100.00", "currency": "GBP"}, {"amount": "80.00", "currency": "EUR"}, "GBP", "0.8000000000",
         "20.00"),
    ]  # fmt: skip


async def test_a_run_waits_for_the_report_projection_to_catch_up_with_the_period(
    gql: Any, brand: Any, make_player: Any, make_staff: Any, affiliates: Affiliates, table: Table,
    month: tuple[Any, Any],
) -> None:  # fmt: skip
    partner = await affiliates.partner("lagging")
    await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_25), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner)
    at_noon(month[0] + timedelta(days=3))
    await table.play(player.uuid, stake=2_000)  # not projected yet
    close_month(month)
    staff = await make_staff("finance")

    behind = await create(gql, staff, month)
    assert behind["run"] is None
    ((code, message),) = [(e["code"], e["message"]) for e in behind["errors"]]
    assert code == "PROJECTION_BEHIND"
    assert f"up to {month[0] + timedelta(days=3)}T12:00:00" in message  # its watermark: the first unapplied event

    await table.project()
    caught_up = await create(gql, staff, month)
    assert caught_up["errors"] == []
    assert caught_up["run"]["totals"] == [{"total": {"amount": "5.00", "currency": "EUR"}, "lines": 1}]
