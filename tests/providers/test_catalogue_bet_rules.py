"""The game's catalogue metadata on the bet path (docs/catalogue-sync.md, "Bets"), end to end: a provider's game list
synced by staff (GraphQL `syncGameCatalogue`, the list served over HTTP) withdraws a game, narrows where it is
certified or changes its bet limits, and the next bet of a game session opened before is refused in the protocol's
own status (signed Hub88 calls, Pragmatic Play forms, SoftSwiss-style), while the wins and rollbacks (Pragmatic:
results and refunds) of bets already placed are still paid. The Hub88 bets go through the one call
(`wallet_play_v2`) and its group commit, as in production; the others through the Python path."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select, text

from models.games import Game
from tests.onboarding.conftest import UPDATE_PROVIDER, payload
from tests.providers.conftest import GAME, Aggregator, Seat, SoftswissProvider, cash, one_call_decisions
from tests.providers.pragmatic_fixtures import PragmaticProvider
from tests.providers.test_catalogue_sync import GameLists, _sync, game, served_game_lists

EUR = 100_000  # one euro in Hub88 units
CERTIFIED = ["MT", "SE"]
LIMITS = {"EUR": {"min": "0.50", "max": "10.00"}, "SEK": {"min": "5.00", "max": "100.00"}}


def listed(**changes: Any) -> dict[str, Any]:
    """The provider's list entry for the fixtures' game (tests/providers/conftest.py: `slot-fortune`)."""
    return game(
        "demo-slot",
        **{"game_code": GAME, "name": "Slot Fortune", "jurisdictions": CERTIFIED, "bet_limits": LIMITS, **changes},
    )


OTHER = game("demo-dice")  # another game of the list, so a list without ours is not empty


@pytest.fixture(scope="module")
def list_server() -> Iterator[GameLists]:
    with served_game_lists() as lists:
        yield lists


@pytest.fixture
def game_lists(list_server: GameLists) -> GameLists:
    """The providers' lists over HTTP (tests/providers/test_catalogue_sync.py), as the demo provider serves them."""
    list_server.reset()
    return list_server


@pytest.fixture
async def staff(make_staff: Any) -> str:
    token: str = (await make_staff(("content_manager", None))).token
    return token


async def sync(gql: Any, token: str, lists: GameLists, provider: str, *games: dict[str, Any]) -> dict[str, Any]:
    """The provider's list is now `games` (served at acme's address, set as `provider`'s), synced by staff."""
    body = await gql(UPDATE_PROVIDER, {"input": {"provider": provider, "gameListUrl": lists.url("acme")}}, token=token)
    payload(body, "updateGameProvider")
    lists.lists["acme"].games = list(games)
    run = await _sync(gql, token, provider)
    assert run["status"] == "SUCCEEDED", run
    return run


async def test_a_game_withdrawn_by_a_sync_takes_no_more_bets_but_pays_and_rolls_back_the_earlier_ones(
    aggregator: Aggregator, seat: Any, gql: Any, staff: str, game_lists: GameLists, rt: Any, monkeypatch: Any
) -> None:
    player = await seat(balance=10_000)
    await sync(gql, staff, game_lists, "hub88", listed(), OTHER)
    first, second = player.bet(EUR, round_ref="r-1"), player.bet(2 * EUR, round_ref="r-2")
    for placed in (first, second):
        assert (await aggregator.call("transaction/bet", placed))["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 9_700

    run = await sync(gql, staff, game_lists, "hub88", OTHER)  # the provider's list no longer names the game
    assert GAME in [g["code"] for g in run["withdrawn"]]
    decided = one_call_decisions(monkeypatch)
    refused = await aggregator.call("transaction/bet", player.bet(EUR, round_ref="r-3"))
    assert (refused["status"], refused["balance"]) == ("RS_ERROR_INVALID_GAME", 97 * EUR)
    assert decided == ["INVALID_GAME"]  # refused in the one call, in its one round trip
    won = await aggregator.call("transaction/win", player.win(5 * EUR, first["transaction_uuid"], round_ref="r-1"))
    assert (won["status"], won["balance"]) == ("RS_OK", 102 * EUR)  # money owed is paid
    undone = await aggregator.call("transaction/rollback", player.rollback(second["transaction_uuid"], round_ref="r-2"))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 104 * EUR)
    assert await cash(rt, player.player_id) == 10_400

    run = await sync(gql, staff, game_lists, "hub88", listed(), OTHER)  # named again: restored, playable again
    assert GAME in [g["code"] for g in run["restored"]]
    assert (await aggregator.call("transaction/bet", player.bet(EUR, round_ref="r-4")))["status"] == "RS_OK"


async def test_a_game_no_longer_certified_in_the_players_country_takes_no_more_of_their_bets(
    aggregator: Aggregator, seat: Any, gql: Any, staff: str, game_lists: GameLists, rt: Any, monkeypatch: Any
) -> None:
    player = await seat(balance=10_000)  # a player in Malta (MT)
    await sync(gql, staff, game_lists, "hub88", listed(), OTHER)
    first, second = player.bet(EUR, round_ref="r-1"), player.bet(EUR, round_ref="r-2")
    for placed in (first, second):
        assert (await aggregator.call("transaction/bet", placed))["status"] == "RS_OK"

    await sync(gql, staff, game_lists, "hub88", listed(jurisdictions=["SE", "FI"]), OTHER)
    decided = one_call_decisions(monkeypatch)
    refused = await aggregator.call("transaction/bet", player.bet(EUR, round_ref="r-3"))
    # Hub88 has no "not certified": the operator's licence refuses the bet, "an operator limit" in its contract.
    assert (refused["status"], refused["balance"]) == ("RS_ERROR_LIMIT_REACHED", 98 * EUR)
    assert decided == ["NOT_CERTIFIED"]
    won = await aggregator.call("transaction/win", player.win(3 * EUR, first["transaction_uuid"], round_ref="r-1"))
    assert (won["status"], won["balance"]) == ("RS_OK", 101 * EUR)
    undone = await aggregator.call("transaction/rollback", player.rollback(second["transaction_uuid"], round_ref="r-2"))
    assert (undone["status"], undone["balance"]) == ("RS_OK", 102 * EUR)

    # A list that declares no certification restricts no one (as launch reads it: services/games._refuse_for).
    await sync(gql, staff, game_lists, "hub88", listed(jurisdictions=[]), OTHER)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, round_ref="r-4")))["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 10_100


@pytest.mark.parametrize(
    ("currency", "refused", "accepted"),
    [
        ("EUR", [49_000, 1_001_000], [50_000, 1_000_000, 0]),  # 0.50 to 10.00 EUR; a zero stake stakes nothing
        ("SEK", [499_000, 10_001_000], [500_000, 10_000_000]),  # 5.00 to 100.00 SEK
    ],
)
async def test_a_stake_outside_the_games_limits_for_its_currency_is_refused(
    aggregator: Aggregator,
    seat: Any,
    gql: Any,
    staff: str,
    game_lists: GameLists,
    rt: Any,
    currency: str,
    refused: list[int],
    accepted: list[int],
) -> None:
    player = await seat(balance=100_000, currency=currency)
    await sync(gql, staff, game_lists, "hub88", listed(), OTHER)
    async with rt.database.session() as db:
        slot = (await db.scalars(select(Game).where(Game.code == GAME))).one()
    assert (slot.min_bet, slot.max_bet) == (
        {"EUR": "0.50", "SEK": "5.00"},
        {"EUR": "10.00", "SEK": "100.00"},
    )
    balance = 100_000 * 1000
    first = ""
    for n, amount in enumerate(accepted):
        placed = player.bet(amount, round_ref=f"ok-{n}")
        answer = await aggregator.call("transaction/bet", placed)
        balance -= amount
        assert (answer["status"], answer["balance"]) == ("RS_OK", balance), amount
        first = first or placed["transaction_uuid"]
    for n, amount in enumerate(refused):
        answer = await aggregator.call("transaction/bet", player.bet(amount, round_ref=f"no-{n}"))
        assert (answer["status"], answer["balance"]) == ("RS_ERROR_LIMIT_REACHED", balance), amount
    # A win below the minimum stake is a win: paid.
    won = await aggregator.call("transaction/win", player.win(1_000, first, round_ref="ok-0"))
    assert (won["status"], won["balance"]) == ("RS_OK", balance + 1_000)


async def test_concurrent_bets_through_the_group_commit_each_get_their_own_answer(
    aggregator: Aggregator, seat: Any, gql: Any, staff: str, game_lists: GameLists, rt: Any
) -> None:
    players = [await seat(balance=10_000) for _ in range(4)]
    abroad = await seat(balance=10_000)
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET country = 'GB' WHERE id = :p"), {"p": abroad.player_id})
    await sync(gql, staff, game_lists, "hub88", listed(), OTHER)
    await aggregator.call("transaction/bet", players[0].bet(EUR, round_ref="warm"))  # the house account exists
    for _ in range(3):
        bets: list[tuple[Seat, int]] = [
            (players[0], EUR),
            (players[1], 40_000),  # below the min bet (0.50)
            (players[2], EUR),
            (players[3], 11 * EUR),  # above the max bet (10.00)
            (abroad, EUR),  # not certified in GB
        ]
        answers = await asyncio.gather(
            *(aggregator.call("transaction/bet", who.bet(amount, round_ref=str(uuid.uuid4()))) for who, amount in bets)
        )
        assert [a["status"] for a in answers] == [
            "RS_OK",
            "RS_ERROR_LIMIT_REACHED",
            "RS_OK",
            "RS_ERROR_LIMIT_REACHED",
            "RS_ERROR_LIMIT_REACHED",
        ]
        assert [a["user"] for a in answers] == [who.user for who, _ in bets]
    assert [await cash(rt, p.player_id) for p in (*players, abroad)] == [9_600, 10_000, 9_700, 10_000, 10_000]


async def test_pragmatic_refuses_in_its_codes_and_still_pays_results_and_refunds(
    pragmatic: PragmaticProvider, pp_seat: Any, gql: Any, staff: str, game_lists: GameLists, rt: Any
) -> None:
    player = await pp_seat(balance=10_000)
    await sync(gql, staff, game_lists, "pp", listed(), OTHER)
    first, second = player.bet("1.00", round_id="1"), player.bet("2.00", round_id="2")
    for placed in (first, second):
        assert (await pragmatic.call("bet", placed))["error"] == 0
    below = await pragmatic.call("bet", player.bet("0.49", round_id="3"))
    assert (below["error"], below["description"], below["cash"]) == (50, "Bet limit has been reached", 97.0)
    assert (await pragmatic.call("bet", player.bet("10.01", round_id="3")))["error"] == 50

    await sync(gql, staff, game_lists, "pp", listed(jurisdictions=["SE"]), OTHER)
    decertified = await pragmatic.call("bet", player.bet("1.00", round_id="3"))
    assert (decertified["error"], decertified["description"]) == (3, "Bet is not allowed")
    result = await pragmatic.call("result", player.result("4.00", round_id="1"))
    assert (result["error"], result["cash"]) == (0, 101.0)

    await sync(gql, staff, game_lists, "pp", OTHER)  # withdrawn
    assert (await pragmatic.call("bet", player.bet("1.00", round_id="4")))["error"] == 8  # game not found or disabled
    refund = await pragmatic.call("refund", player.refund(second["reference"], gameId=player.game, roundId="2"))
    assert refund["error"] == 0
    assert await cash(rt, player.player_id) == 10_300


async def test_softswiss_refuses_a_game_not_certified_in_the_players_country_with_its_own_code(
    softswiss: SoftswissProvider, seat: Any, softswiss_provider: Any, gql: Any, staff: str, game_lists: GameLists
) -> None:
    player = await seat(balance=10_000, provider=softswiss_provider)
    await sync(gql, staff, game_lists, "swiss", listed(jurisdictions=["SE"]), OTHER)
    response = await softswiss.play(
        {
            "user_id": player.user,
            "session_id": player.token,
            "currency": "EUR",
            "game": GAME,
            "game_id": "g-1",
            "finished": False,
            "actions": [{"action": "bet", "action_id": str(uuid.uuid4()), "amount": 100}],
        }
    )
    assert response.status_code == 412
    assert response.json() == {
        "code": 108,
        "message": "Game is not certified in the player's country.",
        "balance": 10_000,
    }
