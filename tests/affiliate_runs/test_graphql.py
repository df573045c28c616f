"""Commission runs through the staff GraphQL API: finance makes, approves (four eyes), books and pays a run;
other roles are refused by the field policy; refusals are payload errors; lists take a fixed number of
statements."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from core.clock import clock
from schema.base import to_global_id
from tests.affiliate_runs.conftest import Affiliates, Table, at_noon, close_month
from tests.conftest import error_codes, recorded_statements

RUN_FIELDS = """
  id state periodStart periodEnd totals { total { amount currency } lines }
  deals { ngr { amount } carryIn { amount } base { amount } revshare { amount } carryOut { amount } ratePpm tier }
  payouts { amount { amount currency } status psp }
"""
CREATE = f"""
mutation Create($input: CreateAffiliateRunInput!) {{
  createAffiliateRun(input: $input) {{ run {{ {RUN_FIELDS} }} awaitingSecondApproval errors {{ code field message }} }}
}}"""
ACTION = """
mutation Act($input: AffiliateRunActionInput!) {{
  {name}(input: $input) {{ run {{ {fields} }} awaitingSecondApproval errors {{ code field message }} }}
}}"""
RUNS = "query { affiliateRuns(first: 10) { edges { node { id state totals { total { amount } lines } } } } }"
LINES = """
query Lines($run: ID!) {
  affiliateRunLines(runId: $run, first: 50) {
    edges { node { kind playerId subId stakes { amount } wins { amount } bonusCost { amount } ngr { amount }
                   ratePpm revshare { amount } cpa cpaAmount { amount } total { amount } firstDay lastDay } }
  }
}"""


def act(name: str) -> str:
    return ACTION.format(name=name, fields=RUN_FIELDS)


async def test_finance_runs_a_month_from_draft_to_paid_with_four_eyes(
    rt: Any, gql: Any, brand: Any, make_player: Any, make_staff: Any, affiliates: Affiliates, table: Table,
    month: tuple[Any, Any], psp: Any,
) -> None:  # fmt: skip
    partner = await affiliates.partner("gqlpartner")
    plan = await affiliates.plan("hybrid", {"revshare": {"kind": "flat", "rate_ppm": 300_000}, "amount": 10_000})
    deal = await affiliates.deal(partner, plan, month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner, sub_id="banner-7")
    at_noon(month[0] + timedelta(days=4))
    await table.play(player.uuid, stake=3_000_000, win=500_000)  # NGR 25,000.00 → 7,500.00 + CPA 100.00: four eyes
    await affiliates.qualify(player.uuid, partner, deal, 10_000)
    await table.project()
    close_month(month)
    first, second = await make_staff("finance"), await make_staff("finance")
    support = await make_staff("support")

    refused = await gql(CREATE, {"input": {"from": str(month[0]), "to": str(month[1])}}, token=support.token)
    assert "FORBIDDEN" in error_codes(refused)
    body = await gql(CREATE, {"input": {"from": str(month[0]), "to": str(month[1])}}, token=first.token)
    payload = body["data"]["createAffiliateRun"]
    assert payload["errors"] == [], payload
    run = payload["run"]
    assert run["state"] == "DRAFT"
    assert run["totals"] == [{"total": {"amount": "7600.00", "currency": "EUR"}, "lines": 1}]
    assert run["deals"] == [
        {"ngr": {"amount": "25000.00"}, "carryIn": {"amount": "0.00"}, "base": {"amount": "25000.00"},
         "revshare": {"amount": "7500.00"}, "carryOut": {"amount": "0.00"}, "ratePpm": 300_000, "tier": None}
    ]  # fmt: skip
    lines = await gql(LINES, {"run": run["id"]}, token=first.token)
    (line,) = [edge["node"] for edge in lines["data"]["affiliateRunLines"]["edges"]]
    assert line == {
        "kind": "player", "playerId": player.id, "subId": "banner-7", "stakes": {"amount": "30000.00"},
        "wins": {"amount": "5000.00"}, "bonusCost": {"amount": "0.00"}, "ngr": {"amount": "25000.00"},
        "ratePpm": 300_000, "revshare": {"amount": "7500.00"}, "cpa": True, "cpaAmount": {"amount": "100.00"},
        "total": {"amount": "7600.00"}, "firstDay": str(month[0] + timedelta(days=4)),
        "lastDay": str(month[0] + timedelta(days=4)),
    }  # fmt: skip

    booked_early = await gql(act("bookAffiliateRun"), {"input": {"runId": run["id"]}}, token=first.token)
    assert [e["code"] for e in booked_early["data"]["bookAffiliateRun"]["errors"]] == ["INVALID_STATE"]
    once = (await gql(act("approveAffiliateRun"), {"input": {"runId": run["id"]}}, token=first.token))["data"]
    assert (once["approveAffiliateRun"]["awaitingSecondApproval"], once["approveAffiliateRun"]["run"]["state"]) == (
        True, "DRAFT",
    )  # fmt: skip
    again = await gql(act("approveAffiliateRun"), {"input": {"runId": run["id"]}}, token=first.token)
    assert [e["code"] for e in again["data"]["approveAffiliateRun"]["errors"]] == ["APPROVAL_REQUIRED"]
    twice = await gql(act("approveAffiliateRun"), {"input": {"runId": run["id"]}}, token=second.token)
    assert twice["data"]["approveAffiliateRun"]["run"]["state"] == "APPROVED"
    booked = await gql(act("bookAffiliateRun"), {"input": {"runId": run["id"]}}, token=second.token)
    assert booked["data"]["bookAffiliateRun"]["run"]["payouts"] == [
        {"amount": {"amount": "7600.00", "currency": "EUR"}, "status": "BOOKED", "psp": None}
    ]
    paid = await gql(act("payAffiliateRun"), {"input": {"runId": run["id"]}}, token=first.token)
    assert paid["data"]["payAffiliateRun"]["run"]["state"] == "PAID"
    assert paid["data"]["payAffiliateRun"]["run"]["payouts"][0]["status"] == "PAID"
    assert len(await psp.transactions()) == 1


async def test_bad_periods_and_unknown_runs_are_payload_errors_never_500s(
    gql: Any, brand: Any, make_staff: Any
) -> None:
    staff = await make_staff("finance")
    today = clock.now().date()
    future = await gql(CREATE, {"input": {"from": str(today), "to": str(today)}}, token=staff.token)
    assert "data" in future, future
    assert [e["code"] for e in future["data"]["createAffiliateRun"]["errors"]] == ["INVALID_INPUT"]
    backwards = await gql(CREATE, {"input": {"from": "2020-02-01", "to": "2020-01-01"}}, token=staff.token)
    assert [e["code"] for e in backwards["data"]["createAffiliateRun"]["errors"]] == ["INVALID_INPUT"]
    nowhere = str(to_global_id("AffiliateRun", uuid.uuid4()))
    unknown = await gql(act("approveAffiliateRun"), {"input": {"runId": nowhere}}, token=staff.token)
    assert [e["code"] for e in unknown["data"]["approveAffiliateRun"]["errors"]] == ["NOT_FOUND"]
    garbage = await gql(act("approveAffiliateRun"), {"input": {"runId": "QWZmaWxpYXRlUnVuOjE="}}, token=staff.token)
    assert error_codes(garbage) == ["BAD_USER_INPUT"], garbage  # a malformed id: a request error, not a 500
    missing = await gql("query($id: ID!) { affiliateRun(id: $id) { id } }", {"id": nowhere}, token=staff.token)
    assert missing["data"]["affiliateRun"] is None


async def test_the_run_list_and_the_lines_take_a_fixed_number_of_statements(
    rt: Any, gql: Any, brand: Any, make_player: Any, make_staff: Any, affiliates: Affiliates, table: Table,
    month: tuple[Any, Any],
) -> None:  # fmt: skip
    partner = await affiliates.partner("counted")
    plan = await affiliates.plan("revshare", {"revshare": {"kind": "flat", "rate_ppm": 1}})
    await affiliates.deal(partner, plan, month[0])
    at_noon(month[0])
    for _ in range(3):
        player = await make_player()
        await affiliates.attribute(player.uuid, partner)
        await table.play(player.uuid, stake=1_000)
    await table.project()
    close_month(month)
    staff = await make_staff("finance")
    created = await gql(CREATE, {"input": {"from": str(month[0]), "to": str(month[1])}}, token=staff.token)
    run_id = created["data"]["createAffiliateRun"]["run"]["id"]

    with recorded_statements(rt) as statements:
        runs = await gql(RUNS, token=staff.token)
    assert len([s for s in statements if "affiliate_" in s]) == 2, statements  # the page, then its totals
    with recorded_statements(rt) as statements:
        lines = await gql(LINES, {"run": run_id}, token=staff.token)
    assert len([s for s in statements if "affiliate_" in s]) == 2, statements  # the run, then the page of lines
    assert runs["data"]["affiliateRuns"]["edges"][0]["node"]["totals"][0]["lines"] == 3
    assert len(lines["data"]["affiliateRunLines"]["edges"]) == 3
