"""Money: a game launch, each Hub88 stake, win and rollback (with game, provider, round and the cash/bonus
split), deposits and withdrawals — each one event, in the player's brand, amounts in minor units."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

from strawberry import relay

from tests.bonuses.conftest import CLAIM, rules
from tests.cashier.conftest import CARD, DECLINED_CARD
from tests.conftest import fund
from tests.events.conftest import Outbox, one, types
from tests.providers.conftest import GAME, Seat

EUR = 100_000  # one euro in Hub88 units (10^-5)
LAUNCH = """
mutation($input: LaunchGameInput!) { launchGame(input: $input) { launchUrl session { id } errors { code } } }"""
DEPOSIT = """
mutation($input: DepositInput!) { deposit(input: $input) { payment { id status } errors { code } } }"""
WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) { payment { id status }
  errors { code } } }"""


async def _launch(rt: Any, gql: Any, player: Any, provider: Any) -> Seat:
    """Launch the game for real money through GraphQL; the seat carries the token the provider gets."""
    from sqlalchemy import select

    from models.games import Game

    async with rt.database.session() as db:
        game_id = (
            await db.execute(select(Game.id).where(Game.provider_id == provider.id, Game.code == GAME))
        ).scalar_one()
    ask = {"gameId": str(relay.GlobalID("Game", str(game_id))), "mode": "REAL"}
    launched = (await gql(LAUNCH, {"input": ask}, token=player.token))["data"]["launchGame"]
    assert launched["errors"] == [], launched
    token = parse_qs(urlsplit(launched["launchUrl"]).query)["token"][0]
    return Seat(str(player.uuid), player.uuid, token)


async def test_a_launch_and_each_stake_win_and_rollback_are_one_event_with_game_provider_and_round(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, aggregator: Any, brand: Any
) -> None:
    player = await make_player(balance="10.00 EUR")
    outbox = Outbox(rt)
    await outbox.skip()
    seat = await _launch(rt, gql, player, hub88_provider)
    got = await outbox.new()
    assert types(got) == ["game.launched"]
    assert got[0].brand == brand.id
    assert got[0].data == {
        "player_id": str(player.uuid),
        "game_session_id": got[0].data["game_session_id"],
        "game": GAME,
        "provider": "hub88",
        "currency": "EUR",
        "session_id": got[0].data["session_id"],
    }
    uuid.UUID(got[0].data["game_session_id"])

    bet = seat.bet(3 * EUR, round_ref="r-7")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    got = await outbox.new()
    assert types(got) == ["ledger.game_bet"]
    staked = got[0]
    assert (staked.subject, staked.brand, staked.envelope["brand"]) == (
        f"player:{player.uuid}",
        brand.id,
        str(brand.id),
    )
    assert staked.data == {
        "transaction_id": staked.data["transaction_id"],
        "kind": "game_bet",
        "player_id": str(player.uuid),
        "currency": "EUR",
        "cash": -300,
        "bonus": 0,
        "pending": 0,
        "balances": {"cash": 700},
        "reference_type": "provider_transaction",
        "reference_id": f"hub88:{bet['transaction_uuid']}",
        "game": GAME,
        "provider": "hub88",
        "round": "r-7",
        "provider_reference": None,
    }

    win = seat.win(5 * EUR, bet["transaction_uuid"], round_ref="r-7")
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_OK"
    won = one(await outbox.new(), "ledger.game_win")
    assert (won.data["cash"], won.data["bonus"], won.data["round"], won.data["balances"]) == (
        500,
        0,
        "r-7",
        {"cash": 1200},
    )

    again = seat.bet(2 * EUR, round_ref="r-8")
    assert (await aggregator.call("transaction/bet", again))["status"] == "RS_OK"
    assert types(await outbox.new()) == ["ledger.game_bet"]
    rollback = seat.rollback(again["transaction_uuid"], round_ref="r-8")
    assert (await aggregator.call("transaction/rollback", rollback))["status"] == "RS_OK"
    got = await outbox.new()
    assert types(got) == ["ledger.game_bet_rollback"]
    assert got[0].data["cash"] == 200
    assert got[0].data["provider_reference"] == again["transaction_uuid"]
    # A repeated call (the aggregator's retry) moves nothing and says nothing.
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    assert await outbox.new() == []


async def test_a_stake_of_a_bonus_holder_says_how_it_split_between_cash_and_bonus(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, aggregator: Any, campaign: Any, brand: Any
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="FREE10")
    player = await make_player(balance="3.00 EUR")
    claimed = (await gql(CLAIM, {"input": {"code": "FREE10"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    seat = await _launch(rt, gql, player, hub88_provider)
    outbox = Outbox(rt)
    await outbox.skip()
    assert (await aggregator.call("transaction/bet", seat.bet(5 * EUR)))["status"] == "RS_OK"
    got = await outbox.new()
    assert types(got) == ["ledger.game_bet"]  # wagering progress is in the bet, not an event of its own
    assert (got[0].data["cash"], got[0].data["bonus"], got[0].data["balances"]) == (
        -300,
        -200,
        {"cash": 0, "bonus": 800},
    )
    assert got[0].brand == brand.id


async def test_a_deposit_and_a_withdrawal_say_where_the_payment_stands_and_what_moved(
    rt: Any, gql: Any, make_player: Any, psp: Any, brand: Any
) -> None:
    player = await make_player()
    outbox = Outbox(rt)
    await outbox.skip()

    async def deposit(card: str, amount: str) -> dict[str, Any]:
        ask = {"amount": amount, "currency": "EUR", "method": "CARD", "pspToken": await psp.tokenise(card)}
        payload: dict[str, Any] = (await gql(DEPOSIT, {"input": ask}, token=player.token))["data"]["deposit"]
        return payload

    assert (await deposit(CARD, "25.00"))["payment"]["status"] == "SUCCEEDED"
    got = await outbox.new()
    assert sorted(types(got)) == ["ledger.deposit", "payment.created", "payment.succeeded"]
    credited = one(got, "ledger.deposit")
    assert (credited.data["cash"], credited.data["currency"], credited.data["psp"]) == (2_500, "EUR", "cardpay")
    assert one(got, "payment.succeeded").data["amount"] == 2_500
    assert {e.brand for e in got} == {brand.id}

    assert (await deposit(DECLINED_CARD, "5.00"))["payment"]["status"] == "FAILED"
    got = await outbox.new()
    assert "ledger.deposit" not in types(got)  # nothing credited, so no money event
    assert one(got, "payment.failed").data["amount"] == 500

    ask = {"amount": "10.00", "currency": "EUR", "method": "BANK_TRANSFER"}
    held = (await gql(WITHDRAW, {"input": ask}, token=player.token))["data"]["requestWithdrawal"]
    assert held["errors"] == [], held
    got = await outbox.new()
    assert one(got, "payment.requested").data["amount"] == 1_000
    hold = one(got, "ledger.withdrawal_hold")
    assert (hold.data["cash"], hold.data["pending"], hold.data["balances"]) == (
        -1_000,
        1_000,
        {"cash": 1_500, "pending": 1_000},
    )
    await fund(rt, player, "1.00 EUR")  # an adjustment: one ledger event too, its reason left inside
    got = await outbox.new()
    assert [(e.type, e.brand, e.data["cash"]) for e in got] == [("ledger.adjustment", brand.id, 100)]
    assert "test funding" not in str(got[0].envelope)
