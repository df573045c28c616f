"""Hub88 wins with no bet, arriving after the session ended and the token expired: a supplier's promotional win
(`is_supplier_promo`) and a free-bet reward's win (`is_free` + `reward_uuid`), each credited once however often it
is retried, on the right ledger accounts (docs/free-rounds.md)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from core.clock import clock
from tests.bonuses.conftest import CLAIM, bonus_balance, bonus_row
from tests.bonuses.conftest import campaign as campaign  # the fixture, reused
from tests.providers.conftest import GAME, Aggregator, Seat, cash, open_session

EUR = 100_000  # one euro in Hub88 units


def promo_win(seat: Seat, amount: int, *, tx: str | None = None, **extra: Any) -> dict[str, Any]:
    body = seat.win(amount, "unused", tx=tx, round_ref=f"promo-{uuid.uuid4().hex[:8]}", is_supplier_promo=True)
    body.pop("reference_transaction_uuid")
    return {**body, "is_free": True, **extra}


async def supplier_promo_balance(rt: Any) -> int:
    async with rt.database.session() as db:
        total = await db.scalar(
            text(
                "SELECT coalesce(sum(lp.amount), 0) FROM ledger_postings lp JOIN ledger_accounts a"
                " ON a.id = lp.account_id WHERE a.purpose = 'supplier_promo'"
            )
        )
    return int(total or 0)


async def test_a_supplier_promo_win_long_after_the_session_is_credited_once_from_the_supplier(
    rt: Any, aggregator: Aggregator, seat: Any
) -> None:
    me = await seat(balance=1_000, ttl=timedelta(minutes=5))
    clock.advance(timedelta(days=3))  # the token expired long ago: bets are refused, the promo win is not
    refused = await aggregator.call("transaction/bet", me.bet(1 * EUR))
    assert refused["status"] == "RS_ERROR_TOKEN_EXPIRED"

    body = promo_win(me, 25 * EUR)
    first = await aggregator.call("transaction/win", body)
    assert (first["status"], first["balance"]) == ("RS_OK", 35 * EUR)
    again = await aggregator.call("transaction/win", {**body, "request_uuid": str(uuid.uuid4())})
    assert (again["status"], again["balance"]) == ("RS_OK", 35 * EUR)
    changed = await aggregator.call("transaction/win", {**body, "amount": 26 * EUR, "request_uuid": str(uuid.uuid4())})
    assert changed["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert await cash(rt, me.player_id) == 3_500
    assert await supplier_promo_balance(rt) == -2_500  # the supplier's cost, not the house's

    # Rolled back by the aggregator: the money goes back to the supplier's account, not the house.
    undone = await aggregator.call("transaction/rollback", me.rollback(body["transaction_uuid"]))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 10 * EUR)
    assert await supplier_promo_balance(rt) == 0


async def test_concurrent_retries_of_a_promo_win_move_money_once(rt: Any, aggregator: Aggregator, seat: Any) -> None:
    me = await seat(balance=0)
    body = promo_win(me, 7 * EUR)
    answers = await asyncio.gather(
        *(aggregator.call("transaction/win", {**body, "request_uuid": str(uuid.uuid4())}) for _ in range(6))
    )
    assert {(a["status"], a["balance"]) for a in answers} == {("RS_OK", 7 * EUR)}
    assert await cash(rt, me.player_id) == 700


async def test_a_promo_win_needs_a_real_session_of_the_player_and_a_known_game(
    rt: Any, aggregator: Aggregator, seat: Any
) -> None:
    me, other = await seat(balance=0), await seat(balance=0)
    assert (await aggregator.call("transaction/win", promo_win(me, EUR, token="nope")))["status"] == (
        "RS_ERROR_INVALID_TOKEN"
    )
    assert (await aggregator.call("transaction/win", promo_win(me, EUR, token=other.token)))["status"] == (
        "RS_ERROR_INVALID_TOKEN"
    )
    assert (await aggregator.call("transaction/win", promo_win(me, EUR, game_code="nope")))["status"] == (
        "RS_ERROR_INVALID_GAME"
    )
    assert (await aggregator.call("transaction/win", promo_win(me, EUR, currency="SEK")))["status"] == (
        "RS_ERROR_WRONG_CURRENCY"
    )
    no_token = promo_win(me, EUR)
    no_token.pop("token")
    assert (await aggregator.call("transaction/win", no_token))["status"] == "RS_ERROR_WRONG_SYNTAX"
    # A win with no reference that is neither a promotion nor a reward's is malformed, as before.
    plain = me.win(EUR, "x")
    plain.pop("reference_transaction_uuid")
    assert (await aggregator.call("transaction/win", plain))["status"] == "RS_ERROR_WRONG_SYNTAX"
    assert await cash(rt, me.player_id) == 0


async def _free_spins_player(rt: Any, gql: Any, make_player: Any, campaign: Any, hub88_provider: Any) -> Any:
    await campaign(
        "FREE_SPINS",
        {"free_spins": 2, "spin_bet": {"EUR": "0.50"}, "games": [GAME], "wagering_multiplier": 3},
        code="LATE-SPINS",
    )
    player = await make_player()
    claimed = (await gql(CLAIM, {"input": {"code": "late-spins"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    token = await open_session(rt, hub88_provider, player.uuid, ttl=timedelta(minutes=5))
    return Seat(str(player.uuid), player.uuid, token), claimed["bonus"]["rewardUuid"]


async def test_free_bet_wins_arriving_after_the_token_expired_are_bonus_money(
    rt: Any, gql: Any, make_player: Any, campaign: Any, hub88_provider: Any, aggregator: Aggregator
) -> None:
    me, reward = await _free_spins_player(rt, gql, make_player, campaign, hub88_provider)
    free_bet = me.bet(50_000, is_free=True, reward_uuid=reward, round_ref="free-1")
    assert (await aggregator.call("transaction/bet", free_bet))["status"] == "RS_OK"
    clock.advance(timedelta(days=2))  # the session is long gone when the wins come

    # The win of the free bet it names, and the reward's aggregated win naming no bet: both bonus money.
    win = me.win(3 * EUR, free_bet["transaction_uuid"], round_ref="free-1", is_free=True, reward_uuid=reward)
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"
    aggregated = me.win(2 * EUR, "unused", round_ref="free-agg", is_free=True, reward_uuid=reward)
    aggregated.pop("reference_transaction_uuid")
    for _ in range(2):  # retried: credited once
        answer = await aggregator.call("transaction/win", {**aggregated, "request_uuid": str(uuid.uuid4())})
        assert (answer["status"], answer["balance"]) == ("RS_OK", 5 * EUR)
    assert await bonus_balance(rt, me.player_id) == (0, 500)
    bonus = await bonus_row(rt, me.player_id)
    assert (bonus.amount, bonus.wagering_required) == (500, 1_500)  # the campaign's wagering on each win

    unknown = {**aggregated, "transaction_uuid": str(uuid.uuid4()), "reward_uuid": str(uuid.uuid4())}
    assert (await aggregator.call("transaction/win", unknown))["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"


async def test_a_reward_win_after_its_bonus_ended_pays_nothing(
    rt: Any, gql: Any, make_player: Any, campaign: Any, hub88_provider: Any, aggregator: Aggregator
) -> None:
    me, reward = await _free_spins_player(rt, gql, make_player, campaign, hub88_provider)
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE player_bonuses SET status = 'cancelled' WHERE reward_uuid = :r"), {"r": reward})
    late = me.win(4 * EUR, "unused", round_ref="free-late", is_free=True, reward_uuid=reward)
    late.pop("reference_transaction_uuid")
    answer = await aggregator.call("transaction/win", late)
    assert (answer["status"], answer["balance"]) == ("RS_OK", 0)
    assert await bonus_balance(rt, me.player_id) == (0, 0)
