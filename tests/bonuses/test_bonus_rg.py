"""Responsible gambling for bonus holders: money limits check and count the player's own money, the
cash part of a stake (docs/responsible-gambling.md), never the bonus money beside it; and no marketing
money reaches a player during a time-out or self-exclusion."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import httpx
from strawberry import relay

from tests.bonuses.conftest import bonus_balance, bonus_row, rules
from tests.bonuses.test_bonuses import EUR, _holder
from tests.cashier.conftest import THREE_DS_CARD, DemoPsp
from tests.conftest import fund
from tests.providers.conftest import Aggregator
from tests.rg.conftest import my_rg, set_limit


async def test_a_bonus_holder_reaches_a_wager_limit_exactly_with_their_own_money(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, token = await _holder(
        rt, gql, make_player, hub88_provider, campaign, cash=500, max_bet={}, wagering_multiplier=10
    )
    player = SimpleNamespace(token=token)
    assert (await set_limit(gql, player, "WAGER", "DAY", amount="5.00"))["errors"] == []
    # 8 EUR: 5 EUR of cash (exactly the limit), 3 EUR of bonus money (not the player's own)
    answer = await aggregator.call("transaction/bet", seat.bet(8 * EUR, round_ref="r-1"))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 7 * EUR)
    answer = await aggregator.call("transaction/bet", seat.bet(2 * EUR, round_ref="r-2"))  # all bonus money
    assert (answer["status"], answer["balance"]) == ("RS_OK", 5 * EUR)
    rg = await my_rg(gql, player)
    assert (rg["limits"][0]["used"], rg["limits"][0]["remaining"]) == ({"amount": "5.00"}, {"amount": "0.00"})
    assert rg["activity"][0]["wagered"] == {"amount": "5.00"}
    await fund(rt, seat.player_id, "0.01 EUR")  # one cent of cash: a stake with it would pass the limit
    refused = await aggregator.call("transaction/bet", seat.bet(EUR, round_ref="r-3"))
    assert (refused["status"], refused["balance"]) == ("RS_ERROR_LIMIT_REACHED", 5 * EUR + 1_000)
    assert await bonus_balance(rt, seat.player_id) == (1, 500)


DEPOSIT = """
mutation($input: DepositInput!) { deposit(input: $input) { payment { id status redirectUrl } errors { code } } }"""
TIME_OUT = "mutation { takeTimeOut(input: {length: WEEK}) { errors { code } } }"


async def test_a_deposit_completed_during_a_time_out_credits_the_deposit_but_not_its_bonus(
    rt: Any, gql: Any, make_player: Any, campaign: Any, psp: DemoPsp, client: Any
) -> None:
    await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}), code="WELCOME")
    player = await make_player()
    started = (
        await gql(
            DEPOSIT,
            {
                "input": {
                    "amount": "20.00",
                    "currency": "EUR",
                    "method": "CARD",
                    "bonusCode": "WELCOME",
                    "pspToken": await psp.tokenise(THREE_DS_CARD),
                }
            },
            token=player.token,
        )
    )["data"]["deposit"]
    assert started["payment"]["status"] == "PENDING", started  # at the card's 3-D Secure page; the offer waits
    assert (await gql(TIME_OUT, token=player.token))["data"]["takeTimeOut"]["errors"] == []
    async with httpx.AsyncClient() as browser:  # the challenge is passed after the time-out began
        await browser.post(started["payment"]["redirectUrl"], data={"result": "approve"}, follow_redirects=False)
    payment_id = relay.GlobalID.from_id(started["payment"]["id"]).node_id
    assert (await client.get(f"/cashier/return/{payment_id}")).json()["status"] == "succeeded"
    assert await bonus_balance(rt, player.uuid) == (2_000, 0)  # their money; no marketing money
    bonus = await bonus_row(rt, player.uuid)
    assert (bonus.status, bonus.amount) == ("cancelled", 0)
