"""Review of the routing edits: what staff may store in a PSP's terms, and that every stored version previews
without an internal error."""

from __future__ import annotations

from typing import Any

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
