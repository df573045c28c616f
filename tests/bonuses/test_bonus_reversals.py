"""Reversing a win after its bonus has converted: taken back as if the win had never come — from the
cash the conversion paid for it (the converted total drops with it), and from the bonus cost for what
the conversion cap withheld of it — and refused, moving nothing, when the cash is not there."""

from __future__ import annotations

from typing import Any

from tests.bonuses.conftest import MY_BONUSES, bonus_balance, bonus_row
from tests.bonuses.test_bonuses import EUR, _holder
from tests.providers.conftest import Aggregator, fund


async def test_a_win_reversed_after_conversion_takes_back_its_share_exactly_or_nothing(
        rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign, wagering_multiplier=1, max_bet={},
                                max_conversion={"EUR": "15.00"})
    bet = seat.bet(10 * EUR, round_ref="r-1")  # all bonus money: wagering met, the round still open
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    win = seat.win(30 * EUR, bet["transaction_uuid"], round_ref="r-1")  # 30 EUR of bonus money: converts
    assert (await aggregator.call("transaction/win", win))["balance"] == 15 * EUR  # the cap: 15 EUR, 15 withheld
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.converted, bonus.capped) == ("completed", 1_500, 1_500)

    assert (await aggregator.call("transaction/bet", seat.bet(10 * EUR, round_ref="r-2", closed=True)))[
        "status"] == "RS_OK"  # the converted cash played and lost: 5 EUR left
    refused = await aggregator.call("transaction/rollback", seat.rollback(win["transaction_uuid"]))
    assert (refused["status"], refused["balance"]) == ("RS_ERROR_NOT_ENOUGH_MONEY", 5 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (500, 0)  # nothing moved
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.converted, bonus.capped) == (1_500, 1_500)

    await fund(rt, seat.player_id, 1_000)  # 15 EUR of cash again
    undone = await aggregator.call("transaction/rollback", seat.rollback(win["transaction_uuid"]))
    # Without the win the bonus would have converted nothing: the 15 EUR it paid come back from cash and
    # the 15 EUR the cap withheld from the bonus cost; the house gets its 30 EUR back.
    assert (undone["status"], undone["balance"]) == ("RS_OK", 0)
    assert await bonus_balance(rt, seat.player_id) == (0, 0)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.converted, bonus.capped) == (0, 0)
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert (mine["status"], mine["converted"]["amount"]) == ("COMPLETED", "0.00")
    again = await aggregator.call("transaction/rollback", seat.rollback(win["transaction_uuid"]))
    assert (again["status"], again["balance"]) == ("RS_OK", 0)  # undone once


async def test_a_win_after_conversion_reversed_returns_what_it_paid_and_the_cap_room(
        rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator) -> None:
    seat, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, wagering_multiplier=1, max_bet={},
                            max_conversion={"EUR": "12.00"})
    first = seat.bet(4 * EUR, round_ref="r-1")  # bonus money, its round left open
    assert (await aggregator.call("transaction/bet", first))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(6 * EUR, round_ref="r-2", closed=True)))[
        "balance"] == 0  # wagering met, a round closed: converts the 0 EUR left
    late = seat.win(10 * EUR, first["transaction_uuid"], round_ref="r-1")  # bonus money of a converted bonus
    assert (await aggregator.call("transaction/win", late))["balance"] == 10 * EUR  # within the 12 EUR cap
    assert (await bonus_row(rt, seat.player_id)).converted == 1_000
    undone = await aggregator.call("transaction/rollback", seat.rollback(late["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 0)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.converted, bonus.capped) == (0, 0)  # the cap's room is back for a win still to come
