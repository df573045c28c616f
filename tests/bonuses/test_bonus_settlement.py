"""When a bonus converts or expires outside the bet that meets its wagering: the worker (which runs at
any moment beside play) never converts while a round of the bonus is open, unless the round went
stale; a bet after the expiry finds the bonus expired, never spends its money."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from core.clock import clock
from tests.bonuses.conftest import bonus_balance, bonus_row
from tests.bonuses.test_bonuses import EUR, _holder
from tests.providers.conftest import Aggregator, Seat, open_session


async def test_the_worker_waits_for_an_open_round_then_converts_a_stale_one(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    from services.bonuses.lifecycle import expire_due

    seat, _ = await _holder(
        rt, gql, make_player, hub88_provider, campaign, cash=1_000, wagering_multiplier=1, max_bet={}
    )
    assert (await aggregator.call("transaction/bet", seat.bet(10 * EUR, closed=False)))["status"] == "RS_OK"
    assert await expire_due(rt) == 0  # the worker ran between the bet and its win: the round is open
    assert (await bonus_row(rt, seat.player_id)).status == "active"
    clock.advance(timedelta(seconds=rt.settings.bonus_open_round_grace_seconds + 1))
    assert await expire_due(rt) == 1  # the provider never closed the round
    assert (await bonus_row(rt, seat.player_id)).status == "completed"
    assert await bonus_balance(rt, seat.player_id) == (1_000, 0)


async def test_a_bet_after_the_expiry_expires_the_bonus_first_and_stakes_only_cash(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    first, _ = await _holder(rt, gql, make_player, hub88_provider, campaign, cash=500, days_to_wager=3)
    clock.advance(timedelta(days=3, seconds=1))  # before the worker gets to it
    seat = Seat(first.user, first.player_id, await open_session(rt, hub88_provider, first.player_id))
    short = await aggregator.call("transaction/bet", seat.bet(8 * EUR))
    assert (short["status"], short["balance"]) == ("RS_ERROR_NOT_ENOUGH_MONEY", 5 * EUR)
    bonus = await bonus_row(rt, seat.player_id)
    assert (bonus.status, bonus.wagering_done) == ("expired", 0)
    answer = await aggregator.call("transaction/bet", seat.bet(2 * EUR))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 3 * EUR)
    assert await bonus_balance(rt, seat.player_id) == (300, 0)
