"""Pragmatic Play retries racing their originals: the same bet, result, refund, async win or adjustment sent
many times at once moves money once; bets of one player at once never overdraw. What the provider saw
acknowledged is checked against the ledger; the books are verified after every test (conftest)."""

from __future__ import annotations

import asyncio
import random
from typing import Any

from tests.providers.conftest import cash
from tests.providers.pragmatic_fixtures import PragmaticProvider


async def test_concurrent_retries_of_each_method_move_money_once(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("3.00", round_id="c-1")
    answers = await asyncio.gather(*(pragmatic.call("bet", bet) for _ in range(10)))
    assert {(a["error"], a["cash"]) for a in answers} == {(0, 7.0)}
    result = player.result("5.00", round_id="c-1")
    answers = await asyncio.gather(*(pragmatic.call("result", result) for _ in range(10)))
    assert {a["error"] for a in answers} == {0}
    jackpot = player.award("jackpotWin", "20.00")
    promo = player.award("promoWin", "1.00")
    bonus = player.award("bonusWin", "0.25")  # no round of the player's: credited, each retry tries both ways
    answers = await asyncio.gather(
        *(pragmatic.call("jackpotWin", jackpot) for _ in range(6)),
        *(pragmatic.call("promoWin", promo) for _ in range(6)),
        *(pragmatic.call("endRound", player.end_round("c-1")) for _ in range(4)),
        *(pragmatic.call("bonusWin", bonus) for _ in range(6)),
    )
    assert {a["error"] for a in answers} == {0}
    assert await cash(rt, player.player_id) == 1_000 - 300 + 500 + 2_000 + 100 + 25
    assert {a["transactionId"] for a in answers[:6]} == {answers[0]["transactionId"]}  # one transaction, one id


async def test_refunds_racing_their_bets_undo_each_once(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=2_000)
    bets = [player.bet("1.00", round_id=f"r-{i}") for i in range(8)]
    calls = []
    for bet in bets:
        calls += [pragmatic.call("bet", bet) for _ in range(2)]
        calls += [pragmatic.call("refund", player.refund(bet["reference"])) for _ in range(3)]
    random.Random(5).shuffle(calls)
    await asyncio.gather(*calls)
    # whichever came first, each bet is now refunded or refused: the stake is back in every case
    assert await cash(rt, player.player_id) == 2_000
    for bet in bets:
        assert (await pragmatic.call("bet", bet))["error"] in (0, 3)


async def test_concurrent_bets_of_one_player_never_overdraw(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    bets = [player.bet("3.00", round_id=f"b-{i}") for i in range(8)]
    nothing = player.award("promoWin", "0.00")  # a zero prize among them changes nothing
    answers = await asyncio.gather(*(pragmatic.call("bet", b) for b in bets), pragmatic.call("promoWin", nothing))
    accepted = [a for a in answers[:-1] if a["error"] == 0]
    assert {a["error"] for a in answers[:-1]} <= {0, 1}
    assert len(accepted) == 3  # 10.00 EUR holds three 3.00 stakes
    assert await cash(rt, player.player_id) == 100
