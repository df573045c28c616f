"""Adversarial review of Hub88 wins with no bet: their rollbacks give back exactly what they paid."""

from __future__ import annotations

import uuid
from typing import Any

from tests.bonuses.conftest import bonus_balance
from tests.bonuses.conftest import campaign as campaign  # the fixture, reused
from tests.providers.conftest import Aggregator, cash
from tests.providers.test_hub88_async_wins import EUR, _free_spins_player, promo_win


async def test_a_reward_win_rolled_back_takes_back_its_bonus_money_not_cash(
    rt: Any, gql: Any, make_player: Any, campaign: Any, hub88_provider: Any, aggregator: Aggregator
) -> None:
    me, reward = await _free_spins_player(rt, gql, make_player, campaign, hub88_provider)
    aggregated = me.win(2 * EUR, "unused", round_ref="free-agg", is_free=True, reward_uuid=reward)
    aggregated.pop("reference_transaction_uuid")
    assert (await aggregator.call("transaction/win", aggregated))["status"] == "RS_OK"
    assert await bonus_balance(rt, me.player_id) == (0, 200)
    undone = await aggregator.call("transaction/rollback", me.rollback(aggregated["transaction_uuid"]))
    assert undone["status"] == "RS_OK"
    assert await bonus_balance(rt, me.player_id) == (0, 0)


async def test_a_promo_win_rolled_back_before_it_came_stays_refused_and_needs_its_players_session(
    rt: Any, aggregator: Aggregator, seat: Any
) -> None:
    me = await seat(balance=1_000)
    body = promo_win(me, 5 * EUR)
    undone = await aggregator.call("transaction/rollback", me.rollback(body["transaction_uuid"]))
    assert undone["status"] == "RS_OK"
    late = await aggregator.call("transaction/win", body)  # the win after its rollback: refused, nothing moves
    assert late["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert await cash(rt, me.player_id) == 1_000
    other = await seat(balance=0)
    stolen = promo_win(other, 5 * EUR, token=me.token)  # another player's session
    answer = await aggregator.call("transaction/win", {**stolen, "request_uuid": str(uuid.uuid4())})
    assert answer["status"] == "RS_ERROR_INVALID_TOKEN"
    assert await cash(rt, other.player_id) == 0
