"""`croupier payments routing list|show|preview|export|import` as a real command: the same services as GraphQL
(services/cashier/routing_admin.py, routing_config.py); an import is checked as the back office's edits are,
stored as the next version (audited as the staff member), and a refusal prints its code and field (exit 1)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.onboarding.conftest import audit_rows
from tests.test_audit import run_cli

PREVIEW = """query($input: RoutingPreviewInput!) { routingPreview(input: $input) {
  version psps { psp fee } decidedBy binCountry cardBlockedBy cardUnknownBy cardUnknownOutcome
  looks { rule matched mismatch chosen dropped } } }"""
VERSION = "{ routingVersion { version change binRules { name onUnknown } rules { name psps } } }"


async def test_routing_listed_shown_previewed_exported_and_imported_from_the_command_line(
    rt: Any, gql: Any, make_staff: Any, tmp_path: Path
) -> None:
    code, output = await run_cli("payments", "routing", "list")
    assert (code, output.strip()) == (0, "0\t-\tbuilt-in rules\tlive")
    code, output = await run_cli("payments", "routing", "export")
    assert code == 0, output
    document = json.loads(output)
    assert {"rules", "psps", "limits", "bin_rules"} <= set(document)
    assert document["rules"]
    assert document["bin_rules"] == []

    # Import: the export with a BIN rule (fail closed by default) and the card rule through swiftpay only.
    document["bin_rules"] = [{"name": "test-range", "bin_from": "400000", "bin_to": "400099", "block": True}]
    cards = next(r for r in document["rules"] if r["name"] == "cards")  # the built-in: cardpay, then swiftpay
    cards["psps"], cards["weights"] = ["swiftpay"], []
    source = tmp_path / "routing.json"
    source.write_text(json.dumps(document))
    finance, support = await make_staff(("finance", None), login=False), await make_staff(("support", None))
    code, output = await run_cli(
        "payments", "routing", "import", str(source), "--reason", "cards via swiftpay", "--staff", finance.email
    )
    assert (code, output.strip()) == (0, "live version 1"), output
    live = (await gql(VERSION, token=(await make_staff(("finance", None))).token))["data"]["routingVersion"]
    assert (live["version"], live["change"]) == (1, "routing imported")
    assert live["binRules"] == [{"name": "test-range", "onUnknown": "REFUSE"}]
    assert next(r for r in live["rules"] if r["name"] == cards["name"])["psps"] == ["swiftpay"]
    record = (await audit_rows(rt, target_type="payment_routing"))[-1]
    assert (record.action, record.actor_id, record.reason) == (
        "payment_routing.changed",
        finance.id,
        "cards via swiftpay",
    )

    # The same document again stores nothing; list and show read what GraphQL reads.
    code, output = await run_cli(
        "payments", "routing", "import", str(source), "--reason", "again", "--staff", finance.email
    )
    assert (code, output.strip()) == (0, "live version 1")
    code, output = await run_cli("payments", "routing", "list")
    lines = [line.split("\t") for line in output.strip().splitlines()]
    assert code == 0
    assert [(v, change, rest) for v, _, change, *rest in lines] == [("1", "routing imported", ["live"])]
    code, output = await run_cli("payments", "routing", "show", "1")
    shown = json.loads(output)
    assert (shown["version"], shown["live"], shown["reason"]) == (1, True, "cards via swiftpay")
    assert shown["document"]["bin_rules"][0]["on_unknown"] == "refuse"
    assert json.loads((await run_cli("payments", "routing", "show", "0"))[1])["document"]["bin_rules"] == []

    # The preview answers what GraphQL's does.
    payment = ("--country", "MT", "--currency", "EUR", "--method", "card", "--amount", "50.00")
    code, output = await run_cli("payments", "routing", "preview", *payment)
    assert code == 0, output
    previewed = json.loads(output)
    given = {"kind": "DEPOSIT", "method": "CARD", "country": "MT", "amount": "50.00", "currency": "EUR"}
    body = await gql(PREVIEW, {"input": given}, token=(await make_staff(("finance", None))).token)
    expected = body["data"]["routingPreview"]
    assert previewed["psps"] == expected["psps"] == [{"psp": "swiftpay", "fee": previewed["psps"][0]["fee"]}]
    assert (previewed["decided_by"], previewed["card_unknown_by"], previewed["card_unknown_outcome"]) == (
        expected["decidedBy"],
        "test-range",
        "refuse",
    )
    assert [look["rule"] for look in previewed["looks"]] == [look["rule"] for look in expected["looks"]]
    code, output = await run_cli("payments", "routing", "preview", *payment, "--card-bin", "40000012")
    assert (code, json.loads(output)["card_blocked_by"]) == (0, "test-range")

    # Refusals: the code and the field, exit 1, nothing stored.
    bad = {**document, "rules": [{**document["rules"][0], "psps": ["nopay"]}]}
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    (tmp_path / "broken.json").write_text("{not json")
    for args, expected_line in (
        (("show", "99"), "refused (NOT_FOUND): version: No routing version 99."),
        (("preview", "--country", "MT", "--currency", "EUR", "--method", "cheque", "--amount", "5"), "method:"),
        (("preview", "--country", "MT", "--currency", "EUR", "--method", "card", "--amount", "-5"), "amount:"),
        (("import", str(source), "--reason", "x", "--staff", support.email), "refused (NOT_ALLOWED): staff:"),
        (("import", str(source), "--reason", "x", "--staff", "nobody@croupier.dev"), "refused (NOT_FOUND): staff:"),
        (("import", str(tmp_path / "bad.json"), "--reason", "x", "--staff", finance.email), "rules[0].psps:"),
        (("import", str(tmp_path / "broken.json"), "--reason", "x", "--staff", finance.email), "document:"),
        (
            ("import", str(source), "--reason", "x", "--staff", finance.email, "--base-version", "0"),
            "refused (INVALID_STATE): baseVersion:",
        ),
    ):
        code, output = await run_cli("payments", "routing", *args)
        assert code == 1, (args, output)
        assert expected_line in output, (args, output)
    code, output = await run_cli("payments", "routing", "list")
    assert len(output.strip().splitlines()) == 1
