"""Review of the routing edits: what staff may store in a PSP's terms, and that every stored version previews
without an internal error."""

from __future__ import annotations

from typing import Any

from tests.cashier.conftest import DemoPsp, assert_ledger_ok, attempts
from tests.cashier.test_closed_loop import pay_in, payment_uuid, withdraw
from tests.cashier.test_routing_rules import PREVIEW, SAVE_TERMS


async def test_psp_terms_amounts_are_exact_in_their_currency_and_the_preview_never_fails(
    gql: Any, make_staff: Any
) -> None:
    finance = await make_staff(("finance", None))
    for fee_fixed, low in (("1E+30", None), ("0.001", None), (None, "1e-9")):
        limit = {"currency": "EUR", "feeFixed": fee_fixed, "minAmount": low}
        body = await gql(
            SAVE_TERMS,
            {"input": {"psp": "cardpay", "reason": "contract", "limits": [limit]}},
            token=finance.token,
        )
        assert "errors" not in body, body
        assert [(e["code"], e["field"]) for e in body["data"]["saveRoutingPspTerms"]["errors"]] == [
            ("INVALID_AMOUNT", "limits")
        ], (limit, body)
    preview = await gql(
        PREVIEW,
        {"input": {"kind": "DEPOSIT", "method": "CARD", "country": "DE", "amount": "20.00", "currency": "EUR"}},
        token=finance.token,
    )
    assert "errors" not in preview, preview
    assert preview["data"]["routingPreview"]["psps"][0]["fee"] == "0.00"


async def test_a_payout_never_goes_to_the_token_holder_the_psp_terms_disable(
    gql: Any, rt: Any, psp: DemoPsp, make_player: Any, make_staff: Any
) -> None:
    player = await make_player()
    await psp.configure("cardpay", deposit="error")  # the rules' first PSP fails: swiftpay takes (holds) the card
    card = await psp.tokenise()
    await pay_in(gql, player, "100.00", "CARD", card)
    await psp.configure("cardpay", deposit="ok")

    # The operator stops using swiftpay (its contract ended): its terms disable it.
    finance = await make_staff(("finance", None))
    ended = {"psp": "swiftpay", "enabled": False, "reason": "ended"}
    body = await gql(SAVE_TERMS, {"input": ended}, token=finance.token)
    assert body["data"]["saveRoutingPspTerms"]["errors"] == [], body

    paid = await withdraw(gql, player, "20.00", "CARD", card)
    assert paid["errors"] == [], paid
    assert paid["payment"]["status"] == "PAID"
    assert [(a.psp, a.operation) for a in await attempts(rt, payment_uuid(paid))] == [("cardpay", "payout")]
    await assert_ledger_ok(rt)
