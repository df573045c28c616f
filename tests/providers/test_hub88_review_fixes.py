"""Regressions from the provider wallet review: rollback bookkeeping (which rollback row counts, which
account and currency a rollback books to), parser caps that match the columns, rounds per player."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from models.games import GameRound, ProviderTransaction
from tests.conftest import fund
from tests.providers.conftest import Aggregator, Seat, cash, open_session

EUR = 100_000  # one euro in Hub88 units


async def test_a_refused_rollback_of_a_win_does_not_stop_a_later_one(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(EUR)
    await aggregator.call("transaction/bet", bet)
    win = player.win(4 * EUR, bet["transaction_uuid"])
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", player.bet(13 * EUR)))["status"] == "RS_OK"  # spent
    assert await cash(rt, player.player_id) == 0
    refused = await aggregator.call("transaction/rollback", player.rollback(win["transaction_uuid"]))
    assert refused["status"] == "RS_ERROR_NOT_ENOUGH_MONEY"
    await fund(rt, player.player_id, "10.00 EUR")
    later = await aggregator.call("transaction/rollback", player.rollback(win["transaction_uuid"]))
    assert (later["status"], later["balance"]) == ("RS_OK", 600 * 1000)
    assert await cash(rt, player.player_id) == 600  # the win really taken back, once
    again = await aggregator.call("transaction/rollback", player.rollback(win["transaction_uuid"]))
    assert again["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 600


async def test_another_players_rollback_does_not_swallow_the_real_one(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    alice = await seat(balance=1_000)
    bob = await seat(balance=1_000)
    bet = alice.bet(3 * EUR)
    await aggregator.call("transaction/bet", bet)
    foreign = await aggregator.call("transaction/rollback", bob.rollback(bet["transaction_uuid"]))
    assert foreign["status"] == "RS_OK"  # not Bob's: nothing moves
    assert (await cash(rt, alice.player_id), await cash(rt, bob.player_id)) == (700, 1_000)
    real = await aggregator.call("transaction/rollback", alice.rollback(bet["transaction_uuid"]))
    assert (real["status"], real["balance"]) == ("RS_OK", 1_000 * 1000)
    assert (await cash(rt, alice.player_id), await cash(rt, bob.player_id)) == (1_000, 1_000)


async def test_a_rollback_books_in_the_currency_of_what_it_undoes(
    aggregator: Aggregator, seat: Any, hub88_provider: Any, rt: Any
) -> None:
    player = await seat(balance=1_000)  # a EUR player (default currency, first session)
    await fund(rt, player.player_id, "50.00 SEK")
    sek = Seat(
        player.user, player.player_id, await open_session(rt, hub88_provider, player.player_id, currency="SEK"), "SEK"
    )
    bet = sek.bet(20 * EUR)  # 20 SEK
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert await cash(rt, player.player_id, "SEK") == 3_000
    # the request names another currency: refused, nothing moves, and the real one still works
    wrong = await aggregator.call("transaction/rollback", player.rollback(bet["transaction_uuid"], currency="EUR"))
    assert wrong["status"] == "RS_ERROR_WRONG_CURRENCY"
    # no token, no currency: the player's default (EUR) must not be the account booked
    rollback = player.rollback(bet["transaction_uuid"])
    del rollback["token"]
    answer = await aggregator.call("transaction/rollback", rollback)
    assert (answer["status"], answer["currency"], answer["balance"]) == ("RS_OK", "SEK", 5_000 * 1000)
    assert await cash(rt, player.player_id, "SEK") == 5_000
    assert await cash(rt, player.player_id, "EUR") == 1_000


async def test_strings_wider_than_their_columns_are_wrong_types(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    long_game = await aggregator.call("transaction/bet", player.bet(EUR, game_code="g" * 65))
    assert long_game["status"] == "RS_ERROR_WRONG_TYPES"
    long_currency = await aggregator.call("transaction/rollback", player.rollback(str(uuid.uuid4()), currency="C" * 9))
    assert long_currency["status"] == "RS_ERROR_WRONG_TYPES"
    # a rollback of an unknown bet naming a currency we do not know (but that fits) is remembered
    bet = player.bet(EUR)
    remembered = await aggregator.call(
        "transaction/rollback", player.rollback(bet["transaction_uuid"], currency="ZZZZZZZ")
    )
    assert remembered["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    async with rt.database.session() as db:
        stored = (
            await db.execute(select(ProviderTransaction).where(ProviderTransaction.kind == "rollback"))
        ).scalar_one()
    assert stored.currency is None
    assert await cash(rt, player.player_id) == 1_000


async def test_rounds_with_the_same_ref_are_kept_apart_per_player(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    alice = await seat(balance=1_000)
    bob = await seat(balance=1_000)
    assert (await aggregator.call("transaction/bet", alice.bet(EUR, round_ref="shared")))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", bob.bet(2 * EUR, round_ref="shared")))["status"] == "RS_OK"
    async with rt.database.session() as db:
        rounds = {r.player_id: r for r in (await db.execute(select(GameRound))).scalars()}
        owners = {t.player_id: t.round_id for t in (await db.execute(select(ProviderTransaction))).scalars()}
    assert (rounds[alice.player_id].total_bet, rounds[bob.player_id].total_bet) == (100, 200)
    assert owners[alice.player_id] == rounds[alice.player_id].id
    assert owners[bob.player_id] == rounds[bob.player_id].id
