"""Adversarial review of the Pragmatic Play wallet: bad input answered in protocol, money moved once."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from sqlalchemy import text

from tests.providers.conftest import cash
from tests.providers.pragmatic_fixtures import PragmaticProvider


async def test_a_hash_with_non_ascii_characters_is_invalid_hash(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    form = {"providerId": "PragmaticPlay", **player.bet("1.00"), "hash": "é" * 32}
    assert (await pragmatic.post("bet", urlencode(form).encode()))["error"] == 5
    assert await cash(rt, player.player_id) == 1_000


async def test_a_result_whose_cash_drop_amount_is_bad_moves_nothing(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    await pragmatic.call("bet", player.bet("1.00", round_id="67"))
    result = player.result("2.00", round_id="67", promoWinAmount="5.001", promoWinReference="drop-2")
    answer = await pragmatic.call("result", result)
    assert answer["error"] == 7
    assert await cash(rt, player.player_id) == 900  # the result was not paid either: 7 moves nothing


async def test_a_prize_in_a_currency_the_player_holds_no_wallet_in_is_7(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    usd = await pragmatic.call("promoWin", player.award("promoWin", "1.00", currency="USD"))
    assert usd["error"] == 7  # a currency mismatch: no USD wallet of this EUR player is opened for it
    async with rt.database.session() as db:
        opened = await db.scalar(
            text("SELECT count(*) FROM ledger_accounts WHERE owner_id = :p AND currency = 'USD'"),
            {"p": str(player.player_id)},
        )
    assert opened == 0
    assert (await pragmatic.call("promoWin", player.award("promoWin", "1.00", currency="EUR")))["cash"] == 11.0


async def test_a_result_whose_rounds_only_bet_was_refunded_pays_nothing(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("2.00", round_id="x1")
    assert (await pragmatic.call("bet", bet))["error"] == 0
    assert (await pragmatic.call("refund", player.refund(bet["reference"])))["error"] == 0
    assert (await pragmatic.call("result", player.result("9.00", round_id="x1")))["error"] == 120  # no bet stands
    assert await cash(rt, player.player_id) == 1_000


async def test_a_refund_sent_as_another_player_does_not_block_the_bets_own_refund(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    owner, other = await pp_seat(balance=1_000), await pp_seat(balance=1_000)
    bet = owner.bet("3.00", round_id="x2")
    assert (await pragmatic.call("bet", bet))["error"] == 0
    assert (await pragmatic.call("refund", other.refund(bet["reference"])))["error"] == 7  # not theirs: not recorded
    assert (await pragmatic.call("refund", owner.refund(bet["reference"])))["error"] == 0
    assert (await cash(rt, owner.player_id), await cash(rt, other.player_id)) == (1_000, 1_000)
