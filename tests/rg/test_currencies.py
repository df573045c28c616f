"""Money limits across currencies: every deposit and stake counts, measured at the stated rates
(FX_RATES; the demo rates here: 1 GBP = 1.17 EUR, 1 SEK = 0.087 EUR); a currency without a rate
cannot be measured, so what the limit governs is refused in it, never let through."""

from __future__ import annotations

from typing import Any

import pytest

from core.fx import Rates
from tests.cashier.conftest import assert_ledger_ok
from tests.kyc.conftest import fully_verified
from tests.rg.conftest import deposit, my_rg, seat_for, set_limit, u


async def test_a_deposit_limit_counts_deposits_in_every_currency(gql: Any, rt: Any, psp: Any, make_player: Any) -> None:
    player = await make_player()  # EUR, at royal (EUR, SEK, GBP)
    await set_limit(gql, player, "DEPOSIT", "DAY", amount="100.00")
    assert (await deposit(gql, player, psp, "60.00"))["payment"]["status"] == "SUCCEEDED"
    refused = await deposit(gql, player, psp, "500.00", currency="GBP")  # 585.00 EUR
    assert refused["payment"] is None
    assert refused["errors"][0]["code"] == "LIMIT_REACHED"
    assert refused["errors"][0]["limit"]["limit"] == {"amount": "100.00", "currency": "EUR"}
    assert (await deposit(gql, player, psp, "30.00", currency="SEK"))["payment"]["status"] == "SUCCEEDED"  # 2.61
    assert (await deposit(gql, player, psp, "30.00", currency="GBP"))["payment"]["status"] == "SUCCEEDED"  # 35.10
    assert (await deposit(gql, player, psp, "3.00", currency="GBP"))["errors"][0]["code"] == "LIMIT_REACHED"  # 3.51
    rg = await my_rg(gql, player)
    assert rg["limits"][0]["used"] == {"amount": "97.71"}  # 60.00 + 2.61 + 35.10
    assert rg["activity"][0]["deposited"] == {"amount": "97.71"}
    await assert_ledger_ok(rt)


async def test_a_currency_without_a_stated_rate_is_refused_where_a_limit_would_measure_it(
    gql: Any, rt: Any, psp: Any, make_player: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(rt.settings.__dict__, "stated_rates", Rates.parse({"EUR": "1", "GBP": "1.17"}))
    player = await make_player()
    # Verified already: the KYC deposit threshold cannot measure SEK either and would refuse it first
    # (tests/kyc/test_kyc_triggers.py); this test is about the RG limit alone.
    await fully_verified(rt, player.uuid)
    assert (await deposit(gql, player, psp, "10.00", currency="SEK"))["payment"]["status"] == "SUCCEEDED"  # no limit
    await set_limit(gql, player, "DEPOSIT", "WEEK", amount="100.00")
    refused = await deposit(gql, player, psp, "10.00", currency="SEK")
    assert refused["payment"] is None
    assert refused["errors"][0]["code"] == "CURRENCY_NOT_ALLOWED"
    assert refused["errors"][0]["limit"]["kind"] == "deposit"
    assert "SEK" in refused["errors"][0]["message"]
    # The SEK deposited before the limit cannot be measured either: the limit refuses until it can.
    assert (await deposit(gql, player, psp, "10.00"))["errors"][0]["code"] == "CURRENCY_NOT_ALLOWED"


async def test_a_wager_limit_counts_stakes_in_every_currency(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await set_limit(gql, player, "WAGER", "DAY", amount="100.00")
    euros = await seat_for(rt, hub88_provider, player)
    pounds = await seat_for(rt, hub88_provider, player, currency="GBP")
    assert (await aggregator.call("transaction/bet", euros.bet(u(6000))))["status"] == "RS_OK"
    # 35.00 GBP is 40.95 EUR: with 60.00 staked, 100.95 would pass the limit.
    assert (await aggregator.call("transaction/bet", pounds.bet(u(3500))))["status"] == "RS_ERROR_LIMIT_REACHED"
    assert (await aggregator.call("transaction/bet", pounds.bet(u(3400), round_ref="r-2")))["status"] == "RS_OK"
    assert (await my_rg(gql, player))["activity"][0]["wagered"] == {"amount": "99.78"}  # 60.00 + 39.78
    await assert_ledger_ok(rt)
