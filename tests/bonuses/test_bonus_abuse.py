"""Abuse of a bonus through the provider wallet, each closed by a rule: the max bet holds per round,
however the round's stakes are split. Every test ends with the ledger verified (the autouse fixture)."""

from __future__ import annotations

from typing import Any

from tests.bonuses.conftest import CLAIM, MY_BONUSES, bonus_balance, bonus_row, rules
from tests.bonuses.test_bonuses import EUR, _holder
from tests.providers.conftest import Aggregator, Seat, SoftswissProvider, open_session
from tests.providers.test_softswiss_wallet import bet, play


async def test_the_max_bet_holds_for_a_round_split_into_several_bets(
        rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign)  # 10 EUR bonus, max bet 5 EUR
    first = seat.bet(4 * EUR, round_ref="r-1")
    assert (await aggregator.call("transaction/bet", first))["status"] == "RS_OK"
    second = await aggregator.call("transaction/bet", seat.bet(2 * EUR, round_ref="r-1"))  # 6 EUR in the round
    assert (second["status"], second["balance"]) == ("RS_ERROR_LIMIT_REACHED", 6 * EUR)
    assert (await aggregator.call("transaction/bet", seat.bet(EUR, round_ref="r-1")))["status"] == "RS_OK"  # 5 EUR
    assert await bonus_balance(rt, seat.player_id) == (0, 500)
    # A stake rolled back leaves the round: its room comes back.
    assert (await aggregator.call("transaction/rollback", seat.rollback(first["transaction_uuid"])))[
        "status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(4 * EUR, round_ref="r-1")))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(5 * EUR, round_ref="r-2")))["status"] == "RS_OK"
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert [e["kind"] for e in mine["events"]].count("bet_refused_max_bet") == 1
    assert (await bonus_row(rt, seat.player_id)).wagering_done == 1_000  # 4 + 1 - 4 (rolled back) + 4 + 5 EUR


async def test_the_max_bet_holds_for_the_bets_of_one_softswiss_call(
        rt: Any, gql: Any, make_player: Any, campaign: Any, softswiss: SoftswissProvider,
        softswiss_provider: Any) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="FREE10")  # max bet 5 EUR
    player = await make_player()
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, softswiss_provider, player.uuid))
    claimed = (await gql(CLAIM, {"input": {"code": "FREE10"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    response = await softswiss.play(play(seat, bet(400), bet(400), finished=False))  # 8 EUR in one round
    assert response.status_code == 412
    assert response.json() == {"code": 105, "message": "Player reached a bet limit.", "balance": 600}
    assert await bonus_balance(rt, seat.player_id) == (0, 600)  # the first action stays done, the second moved nothing
