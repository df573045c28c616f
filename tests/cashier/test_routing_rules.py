"""Routing and cascade rules as data: staff edit them through GraphQL (each edit a new version, audited), the next
payment follows them, and the preview explains the route a payment would take."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text

from services.cashier.routing import DEFAULT_RULES, PspTerms, RouteQuery, RoutingRule, explain, route
from tests.cashier.conftest import DemoPsp, assert_ledger_ok
from tests.conftest import error_codes, recorded_statements

DEPOSIT = """
mutation($input: DepositInput!) {
  deposit(input: $input) { payment { id status psp } errors { code field message } }
}"""
SAVE_RULE = """
mutation($input: SaveRoutingRuleInput!) {
  saveRoutingRule(input: $input) {
    version { version change rules { name psps priority methods countries enabled } }
    errors { code field message }
  }
}"""
SAVE_TERMS = """
mutation($input: SaveRoutingPspTermsInput!) {
  saveRoutingPspTerms(input: $input) {
    version { version psps { psp enabled feePercent limits { currency minAmount maxAmount feeFixed } } }
    errors { code field message }
  }
}"""
RESTORE = """
mutation($input: RestoreRoutingVersionInput!) {
  restoreRoutingVersion(input: $input) { version { version change rules { name psps } } errors { code field } }
}"""
DELETE = """
mutation($input: DeleteRoutingEntryInput!) {
  deleteRoutingEntry(input: $input) { version { version rules { name } } errors { code field } }
}"""
VERSIONS = "{ routingVersions { version change reason createdBy rules { name psps } } }"
PREVIEW = """
query($input: RoutingPreviewInput!) {
  routingPreview(input: $input) {
    version psps { psp fee } decidedBy binCountry cardBlockedBy
    looks { rule matched mismatch chosen dropped }
  }
}"""


def cards_first(psps: list[str], **extra: Any) -> dict[str, Any]:
    return {"name": "cards", "psps": psps, "priority": 30, "methods": ["CARD"], "reason": "cheaper", **extra}


async def card_deposit(gql: Any, player: Any, psp: DemoPsp) -> dict[str, Any]:
    body = await gql(
        DEPOSIT,
        {"input": {"amount": "20.00", "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise()}},
        token=player.token,
    )
    payload: dict[str, Any] = body["data"]["deposit"]
    assert payload["errors"] == [], body
    return payload["payment"]


async def test_staff_change_a_rule_and_the_next_deposit_follows_it(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    assert (await card_deposit(gql, player, psp))["psp"] == "cardpay"  # the built-in rules (version 0)

    finance = await make_staff(("finance", None))
    saved = await gql(SAVE_RULE, {"input": cards_first(["swiftpay", "cardpay"], baseVersion=0)}, token=finance.token)
    payload = saved["data"]["saveRoutingRule"]
    assert payload["errors"] == [], saved
    assert payload["version"]["version"] == 1
    cards = next(r for r in payload["version"]["rules"] if r["name"] == "cards")
    assert cards["psps"] == ["swiftpay", "cardpay"]
    assert (await card_deposit(gql, player, psp))["psp"] == "swiftpay"

    # The same edit again changes nothing: no new version.
    again = await gql(SAVE_RULE, {"input": cards_first(["swiftpay", "cardpay"])}, token=finance.token)
    assert again["data"]["saveRoutingRule"]["version"]["version"] == 1

    # Back to the built-in rules, as a new version; the history keeps every one.
    restored = await gql(RESTORE, {"input": {"version": 0, "reason": "undo"}}, token=finance.token)
    assert restored["data"]["restoreRoutingVersion"]["version"]["version"] == 2
    assert (await card_deposit(gql, player, psp))["psp"] == "cardpay"
    history = (await gql(VERSIONS, token=finance.token))["data"]["routingVersions"]
    assert [(v["version"], v["change"], v["reason"]) for v in history] == [
        (2, "version 0 restored", "undo"),
        (1, "rule cards saved", "cheaper"),
    ]
    assert history[1]["createdBy"] == str(finance.id)

    async with rt.database.session() as db:
        trail = (
            await db.execute(
                text(
                    "SELECT target_id, before, after, reason FROM audit_log "
                    "WHERE action = 'payment_routing.changed' ORDER BY seq"
                )
            )
        ).all()
        announced = (
            await db.execute(
                text("SELECT payload FROM outbox_events WHERE topic = 'payment_routing.changed' ORDER BY id")
            )
        ).all()
    assert [(t.target_id, t.reason) for t in trail] == [("1", "cheaper"), ("2", "undo")]
    assert trail[0].before["psps"] == ["cardpay", "swiftpay"]
    assert trail[0].after["psps"] == ["swiftpay", "cardpay"]
    assert [a.payload["version"] for a in announced] == [1, 2]
    await assert_ledger_ok(rt)


async def test_edits_are_checked_and_made_on_the_live_version_by_staff_of_every_brand(
    gql: Any, make_staff: Any
) -> None:
    finance = await make_staff(("finance", None))
    first = await gql(SAVE_RULE, {"input": cards_first(["swiftpay"], baseVersion=0)}, token=finance.token)
    assert first["data"]["saveRoutingRule"]["errors"] == []
    stale = await gql(SAVE_RULE, {"input": cards_first(["cardpay"], baseVersion=0)}, token=finance.token)
    assert [(e["code"], e["field"]) for e in stale["data"]["saveRoutingRule"]["errors"]] == [
        ("INVALID_STATE", "baseVersion")
    ]
    for extra, field in (
        ({"psps": ["nopay"]}, "psps"),
        ({"fromHour": 8, "toHour": 8}, "hours"),
        ({"weights": [1, 2, 3]}, "weights"),
        ({"minAmount": "50", "maxAmount": "10"}, "minAmount"),
        ({"countries": ["Sweden"]}, "countries"),
        ({"name": "Cards!"}, "name"),
    ):
        body = await gql(SAVE_RULE, {"input": {**cards_first(["swiftpay"]), **extra}}, token=finance.token)
        assert [e["field"] for e in body["data"]["saveRoutingRule"]["errors"]] == [field], (extra, body)
    terms = await gql(
        SAVE_TERMS,
        {"input": {"psp": "cardpay", "reason": "contract", "feePercent": "120"}},
        token=finance.token,
    )
    assert [e["field"] for e in terms["data"]["saveRoutingPspTerms"]["errors"]] == ["feePercent"]
    missing = await gql(
        DELETE, {"input": {"section": "RULE", "name": "nothing", "reason": "tidy"}}, token=finance.token
    )
    assert [e["code"] for e in missing["data"]["deleteRoutingEntry"]["errors"]] == ["NOT_FOUND"]

    # Routing is shared by every brand: one brand's finance staff read and preview it, never change it.
    brand_finance = await make_staff("finance")
    refused = await gql(SAVE_RULE, {"input": cards_first(["cardpay"])}, token=brand_finance.token)
    assert [e["code"] for e in refused["data"]["saveRoutingRule"]["errors"]] == ["NOT_ALLOWED"]
    assert len((await gql(VERSIONS, token=brand_finance.token))["data"]["routingVersions"]) == 1
    analyst = await make_staff("risk_analyst")  # the risk desk reads and previews, never edits
    assert len((await gql(VERSIONS, token=analyst.token))["data"]["routingVersions"]) == 1
    assert error_codes(await gql(SAVE_RULE, {"input": cards_first(["cardpay"])}, token=analyst.token)) == ["FORBIDDEN"]
    support = await make_staff("support")
    forbidden = await gql(VERSIONS, token=support.token)
    assert forbidden["data"]["routingVersions"] is None
    assert error_codes(forbidden) == ["FORBIDDEN"]


async def test_the_preview_explains_the_route_with_terms_bins_scores_and_hours(gql: Any, make_staff: Any) -> None:
    finance = await make_staff(("finance", None))

    async def preview(**facts: Any) -> dict[str, Any]:
        given = {"kind": "DEPOSIT", "method": "CARD", "country": "MT", "amount": "500.00", "currency": "EUR", **facts}
        body = await gql(PREVIEW, {"input": given}, token=finance.token)
        assert "errors" not in body, body
        found: dict[str, Any] = body["data"]["routingPreview"]
        return found

    nordic = await preview(country="SE")
    assert (nordic["version"], nordic["decidedBy"]) == (0, "nordic-cards")
    assert [p["psp"] for p in nordic["psps"]] == ["swiftpay", "cardpay"]

    # cardpay's contract caps EUR at 100 and charges 2 % + 0.25: a 500 EUR card deposit goes to swiftpay only.
    limits = [{"currency": "EUR", "maxAmount": "100", "feeFixed": "0.25"}]
    body = await gql(
        SAVE_TERMS,
        {"input": {"psp": "cardpay", "reason": "contract", "feePercent": "2", "limits": limits}},
        token=finance.token,
    )
    assert body["data"]["saveRoutingPspTerms"]["errors"] == [], body
    capped = await preview()
    assert (capped["decidedBy"], [p["psp"] for p in capped["psps"]]) == ("cards", ["swiftpay"])
    cards_look = next(look for look in capped["looks"] if look["rule"] == "cards")
    assert cards_look["dropped"] == ["cardpay: above its maximum 100 EUR"]
    small = await preview(amount="50.00")
    assert small["psps"][0] == {"psp": "cardpay", "fee": "1.25"}

    # A rule for risky players at night, and one for cards issued in GB (known from a BIN range).
    night = {
        "name": "risky-nights",
        "psps": ["cardpay"],
        "priority": 1,
        "minRiskScore": 50,
        "fromHour": 22,
        "toHour": 6,
        "reason": "fraud at night",
    }
    assert (await gql(SAVE_RULE, {"input": night}, token=finance.token))["data"]["saveRoutingRule"]["errors"] == []
    gb = {"name": "gb-cards", "psps": ["swiftpay"], "priority": 2, "binCountries": ["GB"], "reason": "local"}
    assert (await gql(SAVE_RULE, {"input": gb}, token=finance.token))["data"]["saveRoutingRule"]["errors"] == []
    bins = """mutation($input: SaveRoutingBinRuleInput!) { saveRoutingBinRule(input: $input) { errors { field } } }"""
    bin_range = {"name": "uk-visa", "binFrom": "454313", "binTo": "454399", "country": "GB", "reason": "BIN table"}
    assert (await gql(bins, {"input": bin_range}, token=finance.token))["data"]["saveRoutingBinRule"]["errors"] == []

    late = "2026-01-05T23:30:00Z"
    risky = await preview(amount="50.00", riskScore=70, at=late)
    assert risky["decidedBy"] == "risky-nights"
    assert (await preview(amount="50.00", riskScore=70, at="2026-01-05T12:00:00Z"))["decidedBy"] == "cards"
    calm = await preview(amount="50.00", riskScore=10, at=late)
    assert next(look for look in calm["looks"] if look["rule"] == "risky-nights")["mismatch"] == ("risk score below 50")
    gb_card = await preview(cardBin="45431312")
    assert (gb_card["binCountry"], gb_card["decidedBy"]) == ("GB", "gb-cards")
    assert (await preview(cardBin="42424242"))["decidedBy"] == "cards"
    # An older version previews as it was.
    assert (await preview(country="SE", version=1))["version"] == 1
    unknown = await gql(
        PREVIEW,
        {
            "input": {
                "kind": "DEPOSIT",
                "method": "CARD",
                "country": "MT",
                "amount": "1",
                "currency": "EUR",
                "version": 99,
            }
        },
        token=finance.token,
    )
    assert error_codes(unknown) == ["BAD_USER_INPUT"]


async def test_routing_versions_read_in_one_statement(gql: Any, rt: Any, make_staff: Any) -> None:
    finance = await make_staff(("finance", None))
    for psps in (["swiftpay"], ["cardpay"], ["swiftpay", "cardpay"]):
        body = await gql(SAVE_RULE, {"input": cards_first(psps)}, token=finance.token)
        assert body["data"]["saveRoutingRule"]["errors"] == []
    with recorded_statements(rt) as statements:
        body = await gql(VERSIONS, token=finance.token)
    assert [v["version"] for v in body["data"]["routingVersions"]] == [3, 2, 1]
    assert len([s for s in statements if "payment_routing_versions" in s]) == 1, statements


def test_weights_draw_the_first_psp_per_payment_and_a_retry_draws_the_same() -> None:
    rule = RoutingRule(psps=("cardpay", "swiftpay"), weights=(3, 1), methods=frozenset({"card"}), name="split")
    first = Counter(
        route([rule], kind="deposit", method="card", country="MT", currency="EUR", amount=1000, seed=f"p{i}")[0]
        for i in range(400)
    )
    assert 250 < first["cardpay"] < 350, first  # about three in four
    draws = {
        tuple(route([rule], kind="deposit", method="card", country="MT", currency="EUR", amount=1000, seed="p7"))
        for _ in range(5)
    }
    assert len(draws) == 1
    only_backup = RoutingRule(psps=("cardpay", "swiftpay"), weights=(1, 0), name="backup")
    assert route([only_backup], kind="deposit", method="card", country="MT", currency="EUR", amount=1, seed="x") == [
        "cardpay",
        "swiftpay",
    ]


def test_a_disabled_psp_or_rule_passes_to_the_next_rule() -> None:
    query = RouteQuery(
        kind="deposit", method="card", country="MT", currency="EUR", amount=1000, at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert explain(DEFAULT_RULES, query).psps == ("cardpay", "swiftpay")
    off = {"cardpay": PspTerms(enabled=False)}
    assert explain(DEFAULT_RULES, query, off).psps == ("swiftpay",)
    disabled = [RoutingRule(psps=("swiftpay",), priority=1, enabled=False, name="off"), *DEFAULT_RULES]
    found = explain(disabled, query)
    assert (found.decided_by.handle if found.decided_by else None, found.looks[0].mismatch) == ("cards", "disabled")
