"""Reversing a win after its bonus has converted: taken back as if the win had never come — from the
cash the conversion paid for it (the converted total drops with it), and from the bonus cost for what
the conversion cap withheld of it — and refused, moving nothing, when the cash is not there."""

from __future__ import annotations

from typing import Any

from tests.bonuses.conftest import MY_BONUSES, bonus_balance, bonus_row
from tests.bonuses.test_bonuses import EUR, _holder
from tests.conftest import fund
from tests.providers.conftest import Aggregator


async def test_a_win_reversed_after_conversion_takes_back_its_share_exactly_or_nothing(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, token = await _holder(
        rt,
        gql,
        make_player,
        hub88_provider,
        campaign,
        wagering_multiplier=1,
        max_bet={},
        max_conversion={"EUR": "15.00"},
    )
    bet = seat.bet(10 * EUR, round_ref="r-1")  # all bonus money: wagering met, the round still open
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    win = seat.win(30 * EUR, bet["transaction_uuid"], round_ref="r-1")  # 30 EUR of bonus money: converts
    assert (await aggregator.call("transaction/win", win))["balance"] == 15 * EUR  # the cap: 15 EUR, 15 withheld
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.converted, bonus.capped) == ("completed", 1_500, 1_500)

    assert (await aggregator.call("transaction/bet", seat.bet(10 * EUR, round_ref="r-2", closed=True)))[
        "status"
    ] == "RS_OK"  # the converted cash played and lost: 5 EUR left
    refused = await aggregator.call("transaction/rollback", seat.rollback(win["transaction_uuid"]))
    assert (refused["status"], refused["balance"]) == ("RS_ERROR_NOT_ENOUGH_MONEY", 5 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (500, 0)  # nothing moved
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.converted, bonus.capped) == (1_500, 1_500)

    await fund(rt, seat.player_id, "10.00 EUR")  # 15 EUR of cash again
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
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(
        rt,
        gql,
        make_player,
        hub88_provider,
        campaign,
        wagering_multiplier=1,
        max_bet={},
        max_conversion={"EUR": "12.00"},
    )
    first = seat.bet(4 * EUR, round_ref="r-1")  # bonus money, its round left open
    assert (await aggregator.call("transaction/bet", first))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(6 * EUR, round_ref="r-2", closed=True)))[
        "balance"
    ] == 0  # wagering met, a round closed: converts the 0 EUR left
    late = seat.win(10 * EUR, first["transaction_uuid"], round_ref="r-1")  # bonus money of a converted bonus
    assert (await aggregator.call("transaction/win", late))["balance"] == 10 * EUR  # within the 12 EUR cap
    assert (await bonus_row(rt, seat.player_id)).converted == 1_000
    undone = await aggregator.call("transaction/rollback", seat.rollback(late["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 0)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.converted, bonus.capped) == (0, 0)  # the cap's room is back for a win still to come


async def test_a_rolled_back_bet_that_met_the_wagering_takes_the_conversion_back(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign, wagering_multiplier=1, max_bet={})
    bet = seat.bet(10 * EUR, round_ref="r-1", closed=True)  # the whole bonus: wagering met, converts (nothing left)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert (await bonus_row(rt, seat.player_id)).status == "completed"
    # The aggregator never saw our answer and rolls the bet back: the stake never happened, so neither did
    # the wagering that converted the bonus. Its 10 EUR are bonus money again, not cash.
    undone = await aggregator.call("transaction/rollback", seat.rollback(bet["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 10 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (0, 1_000)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.wagering_done, bonus.converted, bonus.ended_at) == ("active", 0, 0, None)
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert [e["kind"] for e in mine["events"]] == ["issued", "activated", "converted", "reopened"]
    again = await aggregator.call("transaction/rollback", seat.rollback(bet["transaction_uuid"]))
    assert (again["status"], again["balance"]) == ("RS_OK", 10 * EUR)  # undone once

    replay = seat.bet(10 * EUR, round_ref="r-2")  # played for real this time: converts again
    assert (await aggregator.call("transaction/bet", replay))["status"] == "RS_OK"
    won = await aggregator.call("transaction/win", seat.win(15 * EUR, replay["transaction_uuid"], round_ref="r-2"))
    assert (won["status"], won["balance"]) == ("RS_OK", 15 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (1_500, 0)
    assert ((await bonus_row(rt, seat.player_id)).status, (await bonus_row(rt, seat.player_id)).converted) == (
        "completed",
        1_500,
    )


async def test_a_capped_conversion_undone_by_its_bets_rollback_restores_cash_and_bonus_exactly(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(
        rt,
        gql,
        make_player,
        hub88_provider,
        campaign,
        cash=1_000,
        wagering_multiplier=1,
        max_bet={},
        max_conversion={"EUR": "3.00"},
    )
    bet = seat.bet(10 * EUR, round_ref="r-1", closed=True)  # all cash (cash first): meets the 10 EUR of wagering
    assert (await aggregator.call("transaction/bet", bet))["balance"] == 3 * EUR  # 3 EUR converted, 7 withheld
    assert await bonus_balance(rt, seat.player_id) == (300, 0)
    undone = await aggregator.call("transaction/rollback", seat.rollback(bet["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 20 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (1_000, 1_000)  # as before the bet
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.wagering_done, bonus.converted, bonus.capped) == ("active", 0, 0, 0)
    # The same bet again, for real: the same conversion again, moving its money again (a new ledger key).
    assert (await aggregator.call("transaction/bet", seat.bet(10 * EUR, round_ref="r-2", closed=True)))[
        "balance"
    ] == 3 * EUR
    assert await bonus_balance(rt, seat.player_id) == (300, 0)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.converted, bonus.capped) == ("completed", 300, 700)


async def test_a_rollback_leaves_a_conversion_that_the_other_stakes_earned(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, _ = await _holder(
        rt, gql, make_player, hub88_provider, campaign, cash=2_000, wagering_multiplier=1, max_bet={}
    )
    early = seat.bet(4 * EUR, round_ref="r-1")  # cash, its round left open
    assert (await aggregator.call("transaction/bet", early))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(10 * EUR, round_ref="r-2", closed=True)))[
        "balance"
    ] == 16 * EUR  # 14 EUR wagered of 10: the 10 EUR bonus converts
    undone = await aggregator.call("transaction/rollback", seat.rollback(early["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 20 * EUR)  # 10 EUR wagered without it: still met
    assert await bonus_balance(rt, seat.player_id) == (2_000, 0)
    assert (await bonus_row(rt, seat.player_id)).status == "completed"
