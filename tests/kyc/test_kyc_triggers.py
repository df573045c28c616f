"""Jurisdictions' own triggers, through GraphQL: Malta asks for identity at the first withdrawal; the UK's
financial-risk check asks for more at GBP 500 net deposits in 30 days. Neither holds the money (gates = []
in levels.toml); a risk signal from another module does."""

from __future__ import annotations

from typing import Any

from tests.cashier.conftest import DemoPsp, assert_ledger_ok, balances
from tests.conftest import fund
from tests.kyc.conftest import events_of, my_kyc, withdraw
from tests.rg.conftest import licensed_brand


async def test_in_malta_the_first_withdrawal_asks_for_identity_verification_without_holding_it(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any
) -> None:
    await licensed_brand(rt, "malta", ["MT"], ["MT"])
    player = await make_player(brand_code="malta", country="MT", balance="100.00 EUR")

    paid = await withdraw(gql, player, "30.00")

    assert paid["payment"]["status"] == "PAID", paid
    assert await balances(rt, player.uuid) == (7000, 0)
    kyc = await my_kyc(gql, player)
    assert (kyc["requiredLevel"], kyc["status"]) == ("identity_verified", "ACTION_REQUIRED")
    assert kyc["reason"]["trigger"] == "first_withdrawal"
    triggers = {e["trigger"]: e["gates"] for e in await events_of(rt, player.uuid, "kyc.level_required")}
    assert triggers == {"first_withdrawal": []}  # the bank transfer is the first payment: no change of method
    again = await withdraw(gql, player, "10.00")  # asked once: the second withdrawal sets off nothing new
    assert again["payment"]["status"] == "PAID"
    assert len(await events_of(rt, player.uuid, "kyc.level_required")) == 1
    await assert_ledger_ok(rt)


async def test_a_default_profile_player_withdraws_without_kyc_below_the_cdd_threshold(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any
) -> None:
    player = await make_player(balance="100.00 EUR")  # royal serves DEFAULT: no first-withdrawal trigger
    done = await withdraw(gql, player, "30.00")
    assert done["payment"]["status"] == "PAID", done
    assert (await my_kyc(gql, player))["status"] == "VERIFIED"
    assert await events_of(rt, player.uuid, "kyc.") == []


async def test_the_uk_financial_risk_check_asks_for_address_at_500_gbp_net_deposits_in_30_days(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any
) -> None:
    await licensed_brand(rt, "albion", ["UK"], ["GB"], ["GBP"])
    player = await make_player(brand_code="albion", country="GB", currency="GBP")
    await fund(rt, player, "600.00 GBP", deposit=True)  # a PSP's credit: counted as deposited today

    paid = await withdraw(gql, player, "20.00", "GBP")

    assert paid["payment"]["status"] == "PAID", paid
    required = {e["trigger"]: e for e in await events_of(rt, player.uuid, "kyc.level_required")}
    assert set(required) == {"first_withdrawal", "net_deposits_30d"}
    net = required["net_deposits_30d"]
    assert (net["required_level"], net["gates"]) == ("address_verified", [])
    assert net["details"] == {"threshold": "500.00", "figure": "580.00", "currency": "GBP", "window_days": 30}
    kyc = await my_kyc(gql, player)
    assert (kyc["requiredLevel"], kyc["nextLevel"]) == ("address_verified", "identity_verified")
    assert kyc["reason"] == {"trigger": "net_deposits_30d", **net["details"]}
    await assert_ledger_ok(rt)


async def test_a_risk_signal_from_another_module_holds_the_next_withdrawal_until_the_level(
    rt: Any, gql: Any, make_player: Any
) -> None:
    import pytest

    from services.kyc.actions import require_level

    player = await make_player(balance="100.00 EUR")
    async with rt.database.transaction() as db:
        assert await require_level(db, player.uuid, "source_of_funds", "aml.structuring") is True
        assert await require_level(db, player.uuid, "source_of_funds", "aml.structuring") is False  # once
    async with rt.database.transaction() as db:
        with pytest.raises(ValueError, match="code"):
            await require_level(db, player.uuid, "source_of_funds", "He looked nervous on the phone")

    kyc = await my_kyc(gql, player)
    assert (kyc["requiredLevel"], kyc["reason"]) == ("source_of_funds", {"trigger": "risk_signal"})  # no AML code
    assert (await withdraw(gql, player, "30.00"))["payment"]["status"] == "WAITING_FOR_KYC"
    [event] = await events_of(rt, player.uuid, "kyc.level_required")
    assert (event["trigger"], event["gates"], event["details"]) == (
        "risk_signal",
        ["withdrawal"],
        {"signal": "aml.structuring"},
    )


async def test_money_in_a_currency_without_a_stated_rate_sets_the_cdd_trigger_off_instead_of_dodging_it(
    rt: Any, gql: Any, psp: DemoPsp, make_player: Any, monkeypatch: Any
) -> None:
    """Production with FX_RATES naming only EUR: SEK deposits cannot be measured against the EUR 2,000
    threshold, and the platform refuses rather than guesses, so the withdrawal waits for the level."""
    from core.fx import Rates

    monkeypatch.setitem(rt.settings.__dict__, "stated_rates", Rates.parse({"EUR": "1"}))
    player = await make_player(country="SE", currency="SEK")
    await fund(rt, player, "500.00 SEK", deposit=True)  # about EUR 44 at any real rate

    held = await withdraw(gql, player, "100.00", "SEK")

    assert held["payment"]["status"] == "WAITING_FOR_KYC", held
    (required,) = await events_of(rt, player.uuid, "kyc.level_required")
    assert (required["trigger"], required["required_level"]) == ("lifetime_deposits", "identity_verified")
    assert required["details"]["unmeasured"] == ["SEK"]
    await assert_ledger_ok(rt)
