"""Walk-arounds found reviewing the RG changes of issue 13: a person linked through a second account,
a reality check turned off and on again, a profile change racing an exclusion."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.clock import clock
from tests.bonuses.test_bonus_abuse import _waiting_on_locks
from tests.conftest import error_codes
from tests.rg.conftest import licensed_brand, login, my_rg, refresh, seat_for, u
from tests.rg.test_cross_brand import BORN, legacy_exclusion, northstar, register  # noqa: F401  (fixture)
from tests.rg.test_exclusions import SELF_EXCLUDE
from tests.rg.test_reality_and_time import _set_interval

PHONE = "mutation($p: String!) { updateProfile(input: {phone: $p}) { errors { code } } }"


@pytest.mark.usefixtures("northstar")
async def test_an_exclusion_reaches_an_account_linked_through_another_matching_account(
    gql: Any, rt: Any, make_player: Any, aggregator: Any, hub88_provider: Any
) -> None:
    await licensed_brand(rt, "vega", ["DEFAULT"], ["MT"], ["EUR"])
    royal = await make_player(email="ann@example.com", born=BORN, phone="+356 9912 3456")
    # Northstar: another email, her phone. Vega: the northstar email, no phone. One person, three accounts.
    await make_player(brand_code="northstar", email="ann.s@example.net", born=BORN, phone="99123456")
    vega = await make_player(brand_code="vega", email="Ann.S+vega@example.net", born=BORN)
    seat = await seat_for(rt, hub88_provider, vega, balance=5_000)
    assert (await aggregator.call("transaction/bet", seat.bet(u(100))))["status"] == "RS_OK"

    excluded = await gql(SELF_EXCLUDE, {"input": {"length": "ONE_YEAR", "confirm": True}}, token=royal.token)
    assert excluded["data"]["selfExclude"]["errors"] == []
    # The vega account is hers too: its login ended and the provider's next bet is refused at once.
    assert "UNAUTHENTICATED" in error_codes(await gql("{ me { id } }", token=vega.token))
    assert (await aggregator.call("transaction/bet", seat.bet(u(100), round_ref="r-2")))[
        "status"
    ] == "RS_ERROR_USER_DISABLED"
    # And a fourth account with the vega email is refused at registration.
    refused = await register(gql, "royal", "ann.s@example.net")
    assert refused["errors"][0]["code"] == "SELF_EXCLUDED"


async def test_turning_reality_checks_off_and_on_again_keeps_the_time_played(
    gql: Any, rt: Any, make_player: Any
) -> None:
    player = await make_player()
    due_at = (await _set_interval(gql, player, 5))["realityCheck"]["nextDueAt"]
    other = await login(gql, player)  # a second device, logged in while checks are on
    clock.advance(timedelta(minutes=4))
    await refresh(gql, player)
    assert (await _set_interval(gql, player, 0))["errors"] == []
    again = await _set_interval(gql, player, 5)
    assert again["realityCheck"]["nextDueAt"] <= due_at  # not five minutes from now
    clock.advance(timedelta(minutes=1, seconds=1))
    await refresh(gql, player)
    assert (await my_rg(gql, player))["realityCheck"]["due"] is True
    # The other device's session follows the new interval too (its check was dropped with the "off").
    on_other = await gql(
        "{ me { responsibleGambling { realityCheck { due } } } }", token=other["tokens"]["accessToken"]
    )
    assert on_other["data"]["me"]["responsibleGambling"]["realityCheck"] == {"due": True}


@pytest.mark.usefixtures("northstar")
async def test_a_profile_change_racing_a_command_on_the_matching_account_does_not_deadlock(
    gql: Any, rt: Any, make_player: Any
) -> None:
    first = await make_player(email="ann@example.com", born=BORN)  # the lower id: locked first
    second = await make_player(brand_code="northstar", email="ann@example.com", born=BORN)
    await legacy_exclusion(rt, first)  # at royal only: the profile change extends it
    async with rt.database.transaction() as db:
        # A command on both accounts, taking their rows in the one order (id order), as an exclusion does.
        await db.execute(text("SELECT 1 FROM players WHERE id = :id FOR NO KEY UPDATE"), {"id": first.uuid})
        change = asyncio.create_task(gql(PHONE, {"p": "+356 9912 3456"}, token=second.token))
        await _waiting_on_locks(rt, 1)
        await db.execute(text("SELECT 1 FROM players WHERE id = :id FOR NO KEY UPDATE"), {"id": second.uuid})
    body = await change
    assert "errors" not in body, body
    assert body["data"]["updateProfile"]["errors"] == []
    assert (await login(gql, second))["errors"][0]["code"] == "SELF_EXCLUDED"
