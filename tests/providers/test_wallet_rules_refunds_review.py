"""Review of the two branches merged together (Pragmatic Play's per-player refund keys, the catalogue's bet rules in
wallet_play_v2): where they meet, driven through the public routes (signed Hub88 calls, Pragmatic Play forms)
against the real database."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlmodel import col

from integrations import pragmatic as pragmatic_adapter
from integrations.pragmatic_wire import transaction_id
from models.games import ProviderTransaction
from services.provider_wallet import one_call
from tests.conftest import fund
from tests.providers.conftest import GAME, Aggregator, cash, one_call_decisions, open_session
from tests.providers.pragmatic_fixtures import PRAGMATIC, PragmaticProvider, PragmaticSeat

EUR = 100_000  # one euro in Hub88 units


def _previous_release(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refunds keyed as the release before per-player keys keyed them: `refund:<reference>`."""
    monkeypatch.setattr(pragmatic_adapter, "refund_key", lambda player, reference: f"refund:{reference}")


async def _refunds_of(rt: Any, reference: str) -> int:
    async with rt.database.session() as db:
        found: int = await db.scalar(
            select(func.count())
            .select_from(ProviderTransaction)
            .where(
                col(ProviderTransaction.kind) == "rollback",
                col(ProviderTransaction.reference_transaction_uuid) == reference,
            )
        )
    return found


async def test_a_refund_answered_before_the_per_player_keys_is_the_same_transaction_when_retried_after(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A refund the previous release answered (keyed `refund:<reference>`), retried after the deploy, is the same
    transaction: its first answer's code and transaction id ("the same on every retry", docs/providers-pragmatic.md),
    nothing moved and nothing more recorded. It was a new transaction under the per-player key: another id, so PP's
    reconciliation saw two refunds of one bet."""
    player = await pp_seat(balance=1_000)
    bet = player.bet("2.00", round_id="r-1")
    assert (await pragmatic.call("bet", bet))["error"] == 0
    with monkeypatch.context() as before:
        _previous_release(before)
        first = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert (first["error"], first["transactionId"]) == (0, transaction_id(PRAGMATIC, f"refund:{bet['reference']}"))

    retried = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert (retried["error"], retried["transactionId"]) == (0, first["transactionId"])
    assert await cash(rt, player.player_id) == 1_000  # the stake back once
    assert await _refunds_of(rt, bet["reference"]) == 1


async def test_a_refund_of_a_bet_never_seen_answered_before_the_deploy_keeps_its_id_and_still_refuses_the_bet(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("2.00", round_id="r-1")
    with monkeypatch.context() as before:
        _previous_release(before)
        first = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert first["error"] == 0

    retried = await pragmatic.call("refund", player.refund(bet["reference"]))
    assert (retried["error"], retried["transactionId"]) == (0, first["transactionId"])
    assert (await pragmatic.call("bet", bet))["error"] == 3  # refunded before it arrived: refused, nothing moves
    assert await cash(rt, player.player_id) == 1_000
    assert await _refunds_of(rt, bet["reference"]) == 1


async def test_a_misdirected_refund_retried_after_the_bet_arrived_gets_its_first_answer(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    """A refund answered 0 (a bet nobody placed yet, under the wrong userId) is recorded; its retry is the same
    transaction and gets its first answer, 0 with its transaction id, even once the reference's real owner has bet
    (it answered 7 then: the "another player's bet" check ran before the retry was recognised). Nothing moves."""
    owner = await pp_seat(balance=1_000)
    stranger = await pp_seat(balance=1_000)
    bet = owner.bet("2.00", round_id="r-1")
    first = await pragmatic.call("refund", stranger.refund(bet["reference"]))
    assert first["error"] == 0
    assert (await pragmatic.call("bet", bet))["error"] == 0
    retried = await pragmatic.call("refund", stranger.refund(bet["reference"]))
    assert (retried["error"], retried["transactionId"]) == (0, first["transactionId"])
    assert (await cash(rt, owner.player_id), await cash(rt, stranger.player_id)) == (800, 1_000)
    assert await _refunds_of(rt, bet["reference"]) == 1
    # a refund of that bet the stranger never sent before is still refused, not recorded
    other = await pp_seat(balance=1_000)
    assert (await pragmatic.call("refund", other.refund(bet["reference"])))["error"] == 7
    assert await _refunds_of(rt, bet["reference"]) == 1


@pytest.mark.parametrize(
    ("column", "limits"),
    [
        ("min_bet", "5"),
        ("min_bet", '"EUR"'),
        ("max_bet", "true"),
        ("max_bet", '[["EUR", "0.50"]]'),
        ("max_bet", '{"EUR": {"max": "0.50"}}'),
    ],
)
async def test_a_malformed_catalogue_limit_blocks_no_bet_on_either_path(
    pragmatic: PragmaticProvider,
    pp_seat: Any,
    aggregator: Aggregator,
    seat: Any,
    rt: Any,
    monkeypatch: pytest.MonkeyPatch,
    column: str,
    limits: str,
) -> None:
    """A game's bet limits that do not read (a JSON value of another shape than {currency: "amount"}, written by
    hand or by an older writer) never block play (booking.outside_bet_limits): the same on the one call
    (wallet_play_v2, Hub88's plain bets) and on the Python path (Pragmatic Play's, and Hub88's when it falls back).
    A number, a boolean or a string was an internal error on the Python path for every command of the game, its wins
    and rollbacks too (Pragmatic 100, Hub88 RS_ERROR_UNKNOWN), and an array of pairs read as limits there (50) while
    the one call took the same bet with no limit."""
    async with rt.database.transaction() as db:
        await db.execute(
            text(f"UPDATE games SET {column} = CAST(:limits AS jsonb) WHERE code = :game"),
            {"limits": limits, "game": GAME},
        )
    player = await pp_seat(balance=1_000)
    placed = player.bet("1.00", round_id="r-1")
    assert (await pragmatic.call("bet", placed))["error"] == 0
    assert (await pragmatic.call("result", player.result("3.00", round_id="r-1")))["error"] == 0
    assert (await pragmatic.call("refund", player.refund(placed["reference"])))["error"] == 0
    hub = await seat(balance=1_000)
    decided = one_call_decisions(monkeypatch)
    first = hub.bet(EUR, round_ref="h-1")
    assert (await aggregator.call("transaction/bet", first))["status"] == "RS_OK"
    assert decided in (["OK"], [None])
    monkeypatch.setattr(one_call, "eligible", lambda *_: False)  # the same requests, decided by the Python path
    second = hub.bet(EUR, round_ref="h-2")
    assert (await aggregator.call("transaction/bet", second))["status"] == "RS_OK"
    won = await aggregator.call("transaction/win", hub.win(3 * EUR, first["transaction_uuid"], round_ref="h-1"))
    assert won["status"] == "RS_OK"
    undone = await aggregator.call("transaction/rollback", hub.rollback(second["transaction_uuid"], round_ref="h-2"))
    assert undone["status"] == "RS_OK"
    assert (await cash(rt, player.player_id), await cash(rt, hub.player_id)) == (1_300, 1_200)


async def test_a_free_round_below_the_games_min_bet_is_played(
    pragmatic: PragmaticProvider, rt: Any, gql: Any, make_player: Any, make_staff: Any, pragmatic_provider: Any
) -> None:
    """A bonus grant's free round stakes nothing of the player's (docs/catalogue-sync.md, "Bets": "a free round that
    stakes nothing is no stake: no minimum applies to it"), so the game's min bet does not refuse it, whatever spin
    value the grant names: it was refused 50 and the granted spins could not be played. A paid bet of that amount
    is still refused."""
    from tests.bonuses.conftest import CLAIM, CREATE, SET_STATUS, bonus_row

    marketing = (await make_staff("marketing")).token
    rules = {"free_spins": 2, "spin_bet": {"EUR": "0.10"}, "games": [GAME], "wagering_multiplier": 1}
    offer = {"name": "PP spins", "kind": "FREE_SPINS", "rules": rules, "promoCode": "PPMIN"}
    created = (await gql(CREATE, {"input": offer}, token=marketing))["data"]["createBonusCampaign"]
    await gql(SET_STATUS, {"input": {"campaignId": created["campaign"]["id"], "status": "ACTIVE"}}, token=marketing)
    async with rt.database.transaction() as db:  # the provider's list: 0.20 EUR at least
        await db.execute(text("""UPDATE games SET min_bet = '{"EUR": "0.20"}' WHERE code = :game"""), {"game": GAME})
    account = await make_player()
    await fund(rt, account.uuid, 500)
    grant = (await gql(CLAIM, {"input": {"code": "PPMIN"}}, token=account.token))["data"]["claimBonus"]["bonus"][
        "rewardUuid"
    ]
    token = await open_session(rt, pragmatic_provider, account.uuid)
    player = PragmaticSeat(str(account.uuid), account.uuid, token)
    free = await pragmatic.call("bet", player.bet("0.10", round_id="f-1", bonusCode=grant))
    assert (free["error"], free["cash"]) == (0, 5.0)
    assert (await bonus_row(rt, account.uuid)).spins_left == 1
    assert (await pragmatic.call("bet", player.bet("0.10", round_id="p-1")))["error"] == 50
    assert await cash(rt, account.uuid) == 500
