"""Abuse of a bonus, each closed by a rule: the max bet holds per round, however the round's stakes are
split; a round's win follows the bets still standing in it; a withdrawal never escapes the forfeit of a
bonus activated as it arrives. Every test ends with
the ledger verified (the autouse fixture)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
from sqlalchemy import text
from strawberry import relay

from tests.bonuses.conftest import CLAIM, MY_BONUSES, bonus_balance, bonus_row, rules
from tests.bonuses.test_bonuses import EUR, _holder
from tests.cashier.conftest import THREE_DS_CARD, DemoPsp
from tests.providers.conftest import Aggregator, Seat, SoftswissProvider, open_session
from tests.providers.test_softswiss_wallet import bet, play, win


async def test_the_max_bet_holds_for_a_round_split_into_several_bets(
    rt: Any, gql: Any, make_player: Any, hub88_provider: Any, campaign: Any, aggregator: Aggregator
) -> None:
    seat, token = await _holder(rt, gql, make_player, hub88_provider, campaign)  # 10 EUR bonus, max bet 5 EUR
    first = seat.bet(4 * EUR, round_ref="r-1")
    assert (await aggregator.call("transaction/bet", first))["status"] == "RS_OK"
    second = await aggregator.call("transaction/bet", seat.bet(2 * EUR, round_ref="r-1"))  # 6 EUR in the round
    assert (second["status"], second["balance"]) == ("RS_ERROR_LIMIT_REACHED", 6 * EUR)
    assert (await aggregator.call("transaction/bet", seat.bet(EUR, round_ref="r-1")))["status"] == "RS_OK"  # 5 EUR
    assert await bonus_balance(rt, seat.player_id) == (0, 500)
    # A stake rolled back leaves the round: its room comes back.
    assert (await aggregator.call("transaction/rollback", seat.rollback(first["transaction_uuid"])))[
        "status"
    ] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(4 * EUR, round_ref="r-1")))["status"] == "RS_OK"
    assert (await aggregator.call("transaction/bet", seat.bet(5 * EUR, round_ref="r-2")))["status"] == "RS_OK"
    mine = (await gql(MY_BONUSES, token=token))["data"]["me"]["bonuses"][0]
    assert [e["kind"] for e in mine["events"]].count("bet_refused_max_bet") == 1
    assert (await bonus_row(rt, seat.player_id)).wagering_done == 1_000  # 4 + 1 - 4 (rolled back) + 4 + 5 EUR


async def test_the_max_bet_holds_for_the_bets_of_one_softswiss_call(
    rt: Any, gql: Any, make_player: Any, campaign: Any, softswiss: SoftswissProvider, softswiss_provider: Any
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}), code="FREE10")  # max bet 5 EUR
    player = await make_player()
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, softswiss_provider, player.uuid))
    claimed = (await gql(CLAIM, {"input": {"code": "FREE10"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    response = await softswiss.play(play(seat, bet(400), bet(400), finished=False))  # 8 EUR in one round
    assert response.status_code == 412
    assert response.json() == {"code": 105, "message": "Player reached a bet limit.", "balance": 600}
    assert await bonus_balance(rt, seat.player_id) == (0, 600)  # the first action stays done, the second moved nothing


async def test_a_round_win_follows_the_bets_still_standing_not_a_rolled_back_one(
    rt: Any, gql: Any, make_player: Any, campaign: Any, softswiss: SoftswissProvider, softswiss_provider: Any
) -> None:
    await campaign("NO_DEPOSIT", rules(fixed_amount={"EUR": "10.00"}, max_bet={}), code="FREE10")
    player = await make_player(balance="4.00 EUR")
    seat = Seat(str(player.uuid), player.uuid, await open_session(rt, softswiss_provider, player.uuid))
    claimed = (await gql(CLAIM, {"input": {"code": "FREE10"}}, token=player.token))["data"]["claimBonus"]
    assert claimed["errors"] == [], claimed
    cash_bet = bet(400)
    assert (await softswiss.play(play(seat, cash_bet, bet(400), finished=False))).status_code == 200
    assert await bonus_balance(rt, seat.player_id) == (0, 600)  # 4 EUR of cash (cash first), then 4 of bonus
    rollback = {"action": "rollback", "action_id": str(uuid.uuid4()), "original_action_id": cash_bet["action_id"]}
    assert (await softswiss.play(play(seat, rollback, finished=False))).status_code == 200
    assert await bonus_balance(rt, seat.player_id) == (400, 600)
    # The round's win names the round: only the bonus money still staked in it won, so all of it is bonus money.
    won = await softswiss.play(play(seat, win(800)))
    assert (won.status_code, won.json()["balance"]) == (200, 1_800)
    assert await bonus_balance(rt, seat.player_id) == (400, 1_400)


WITHDRAW = """
mutation($input: RequestWithdrawalInput!) { requestWithdrawal(input: $input) {
  payment { status } errors { code field message } } }"""
DEPOSIT = """
mutation($input: DepositInput!) { deposit(input: $input) { payment { id status redirectUrl } errors { code } } }"""


async def _waiting_on_locks(rt: Any, count: int) -> None:
    """Until `count` of the platform's transactions wait on a row lock (the holder's transaction, or the
    row's place in the queue behind the first waiter)."""
    for _ in range(200):
        async with rt.database.session() as db:
            waiting = await db.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND wait_event IN ('transactionid', 'tuple')"
                )
            )
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"never {count} transaction(s) waiting")


async def test_a_withdrawal_racing_the_deposit_that_activates_a_match_still_asks_to_forfeit_it(
    rt: Any, gql: Any, make_player: Any, campaign: Any, psp: DemoPsp, client: Any
) -> None:
    """The withdrawal arrives while the deposit's transaction (crediting it, activating its match) is under
    way, and is decided after it. To make that interleaving certain, the test holds the player's cash row
    (as a slow transaction would) while both requests queue behind it, the deposit first."""
    await campaign("DEPOSIT_MATCH", rules(max_bonus={"EUR": "20.00"}), code="WELCOME")
    player = await make_player()
    started = (
        await gql(
            DEPOSIT,
            {
                "input": {
                    "amount": "20.00",
                    "currency": "EUR",
                    "method": "CARD",
                    "bonusCode": "WELCOME",
                    "pspToken": await psp.tokenise(THREE_DS_CARD),
                }
            },
            token=player.token,
        )
    )["data"]["deposit"]
    assert started["payment"]["status"] == "PENDING", started
    async with httpx.AsyncClient() as browser:
        await browser.post(started["payment"]["redirectUrl"], data={"result": "approve"}, follow_redirects=False)
    payment_id = relay.GlobalID.from_id(started["payment"]["id"]).node_id
    async with rt.database.transaction() as db:
        await db.execute(
            text("SELECT 1 FROM ledger_accounts WHERE owner_id = :p AND purpose = 'cash' FOR UPDATE"),
            {"p": str(player.uuid)},
        )
        deposit = asyncio.create_task(client.get(f"/cashier/return/{payment_id}"))  # credits, activates the match
        await _waiting_on_locks(rt, 1)
        ask = {"amount": "20.00", "currency": "EUR", "method": "BANK_TRANSFER", "idempotencyKey": "w-1"}
        withdrawal = asyncio.create_task(gql(WITHDRAW, {"input": ask}, token=player.token))
        await _waiting_on_locks(rt, 2)
    assert (await deposit).json()["status"] == "succeeded"
    refused = (await withdrawal)["data"]["requestWithdrawal"]
    assert [e["code"] for e in refused["errors"]] == ["BONUS_ACTIVE"], refused
    assert await bonus_balance(rt, player.uuid) == (2_000, 2_000)  # the deposit stays, its match with it
    assert (await bonus_row(rt, player.uuid)).status == "active"
