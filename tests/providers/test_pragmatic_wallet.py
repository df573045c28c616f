"""Pragmatic Play's seamless wallet (integrations/pragmatic.py, docs/providers-pragmatic.md), driven as Pragmatic
Play drives it: form posts to `/providers/{code}/{method}.html` with the MD5 hash over the sorted parameters and
the secret key. Amounts are decimals in currency units; 1.00 EUR is 100 ledger minor units."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest
from sqlalchemy import select, text

from core.clock import clock
from integrations.pragmatic_wire import Refused, signing_string, to_minor, to_units
from models.games import GameRound, ProviderCall, ProviderTransaction
from tests.conftest import fund
from tests.providers.conftest import cash, open_session
from tests.providers.pragmatic_fixtures import PragmaticProvider, PragmaticSeat, pp_hash


async def test_authenticate_answers_the_player_behind_the_token(pragmatic: PragmaticProvider, pp_seat: Any) -> None:
    player = await pp_seat(balance=12_345)
    answer = await pragmatic.call("authenticate", {"token": player.token, "gameId": player.game})
    assert answer == {
        "userId": player.user,
        "token": player.token,
        "currency": "EUR",
        "cash": 123.45,
        "bonus": 0.0,
        "error": 0,
        "description": "Success",
    }
    unknown = await pragmatic.call("authenticate", {"token": "nobody"})
    assert (unknown["error"], unknown["description"]) == (
        4,
        "Player authentication failed due to invalid, not found or expired token",
    )
    expiring = await pp_seat(ttl=timedelta(minutes=1))
    clock.advance(timedelta(minutes=2))
    assert (await pragmatic.call("authenticate", {"token": expiring.token}))["error"] == 4


async def test_balance_with_or_without_a_session(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=5_000)
    with_token = await pragmatic.call("balance", {"userId": player.user, "token": player.token})
    assert (with_token["error"], with_token["currency"], with_token["cash"]) == (0, "EUR", 50.0)
    offline = await pragmatic.call("balance", {"userId": player.user})
    assert (offline["error"], offline["cash"]) == (0, 50.0)
    assert (await pragmatic.call("balance", {"userId": str(uuid.uuid4())}))["error"] == 2
    assert (await pragmatic.call("balance", {"userId": "not-a-player"}))["error"] == 2


async def test_bet_result_and_end_round_move_money_and_close_the_round(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=10_000)
    bet = player.bet("3.56", round_id="7001")
    answer = await pragmatic.call("bet", bet)
    assert answer["error"] == 0
    assert (answer["cash"], answer["bonus"], answer["usedPromo"], answer["currency"]) == (96.44, 0.0, 0.0, "EUR")
    assert len(answer["transactionId"]) == 32
    result = await pragmatic.call("result", player.result("10.00", round_id="7001"))
    assert (result["error"], result["cash"]) == (0, 106.44)
    assert await cash(rt, player.player_id) == 10_644

    ended = await pragmatic.call("endRound", player.end_round("7001"))
    assert ended == {"cash": 106.44, "bonus": 0.0, "error": 0, "description": "Success"}
    again = await pragmatic.call("endRound", player.end_round("7001"))  # said twice: still OK, nothing moves
    assert again["error"] == 0
    assert (await pragmatic.call("endRound", player.end_round("never-played")))["error"] == 0
    async with rt.database.session() as db:
        game_round = (await db.execute(select(GameRound))).scalar_one()
        calls = (await db.execute(select(ProviderCall.endpoint).order_by(ProviderCall.created_at))).scalars().all()
        stored = (
            await db.execute(
                select(ProviderTransaction).where(ProviderTransaction.transaction_uuid == bet["reference"])
            )
        ).scalar_one()
    assert (game_round.round_ref, game_round.total_bet, game_round.total_win, game_round.status) == (
        "7001",
        356,
        1_000,
        "closed",
    )
    assert list(calls) == ["/bet.html", "/result.html", "/endRound.html", "/endRound.html", "/endRound.html"]
    assert stored.status == "0"
    assert "hash=" in stored.raw_request  # the form as received


async def test_a_retried_bet_gets_its_first_answer_and_changed_content_is_refused(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("1.00")
    first = await pragmatic.call("bet", bet)
    retry = await pragmatic.call("bet", {**bet, "timestamp": "1"})  # a retry is sent at another time
    assert retry == first
    for change in ({"amount": "2.00"}, {"roundId": "other"}):
        assert (await pragmatic.call("bet", {**bet, **change}))["error"] == 120, change
    assert await cash(rt, player.player_id) == 900


async def test_refund_of_an_unknown_bet_is_success_and_voids_the_late_bet(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("2.00")
    refund = await pragmatic.call("refund", player.refund(bet["reference"], amount="2.00"))
    assert set(refund) == {"transactionId", "error", "description"}
    assert refund["error"] == 0
    assert (await pragmatic.call("refund", player.refund(bet["reference"])))["error"] == 0  # retried
    late = await pragmatic.call("bet", bet)
    assert (late["error"], late["cash"]) == (3, 10.0)  # bet not allowed: no reconciliation refund follows
    assert (await pragmatic.call("bet", bet))["error"] == 3
    assert await cash(rt, player.player_id) == 1_000


async def test_refund_restores_a_stake_once(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("3.00", round_id="9")
    await pragmatic.call("bet", bet)
    assert await cash(rt, player.player_id) == 700
    for _ in range(3):
        answer = await pragmatic.call("refund", player.refund(bet["reference"], gameId=player.game, roundId="9"))
        assert answer["error"] == 0
    assert await cash(rt, player.player_id) == 1_000
    assert (await pragmatic.call("bet", bet))["error"] == 0  # the bet's retry: its first answer, nothing moves
    assert await cash(rt, player.player_id) == 1_000


async def test_insufficient_balance_is_1_with_the_balance_and_stays_refused(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=250)
    bet = player.bet("3.00")
    answer = await pragmatic.call("bet", bet)
    assert (answer["error"], answer["description"], answer["cash"]) == (1, "Insufficient balance", 2.5)
    await fund(rt, player.player_id, "10.00 EUR")
    assert (await pragmatic.call("bet", bet))["error"] == 1  # refusals are remembered
    assert await cash(rt, player.player_id) == 1_250


async def test_bet_refusals_in_the_protocol_codes(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=1_000)
    assert (await pragmatic.call("bet", player.bet("1.00", gameId="nope")))["error"] == 8
    assert (await pragmatic.call("bet", player.bet("1.00", gameId="retired")))["error"] == 8
    assert (await pragmatic.call("bet", player.bet("1.00", token="unknown")))["error"] == 4
    assert (await pragmatic.call("bet", player.bet("1.00", token=None)))["error"] == 4
    assert (await pragmatic.call("bet", player.bet("600.00")))["error"] == 50  # the game's max bet
    assert (await pragmatic.call("bet", player.bet("1.00", bonusCode="no-such-grant")))["error"] == 3
    assert (await pragmatic.call("bet", player.bet("1.00", userId=str(uuid.uuid4()))))["error"] == 2
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET status = 'blocked' WHERE id = :id"), {"id": player.player_id})
    frozen = await pragmatic.call("bet", player.bet("1.00"))
    assert (frozen["error"], frozen["description"]) == (6, "Player is frozen")
    assert await cash(rt, player.player_id) == 1_000


async def test_the_hash_is_checked_before_anything_else(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("1.00")
    assert (await pragmatic.call("bet", bet, secret="wrong"))["error"] == 5
    form = {"providerId": "PragmaticPlay", **bet}
    missing = await pragmatic.post("bet", urlencode(form).encode())
    assert missing == {"error": 5, "description": "Invalid hash code"}
    signed = {**form, "hash": pp_hash(form, pragmatic.secret)}
    tampered = {**signed, "amount": "9.00"}
    assert (await pragmatic.post("bet", urlencode(tampered).encode()))["error"] == 5
    upper = {**signed, "hash": signed["hash"].upper()}  # hex in either case
    reordered = dict(reversed(list(upper.items())))  # the order on the wire does not matter, the sorted one does
    assert (await pragmatic.post("bet", urlencode(reordered).encode()))["error"] == 0
    other = PragmaticProvider(pragmatic.http, code="nobody")
    assert (await other.call("bet", player.bet("1.00")))["error"] == 5
    assert await cash(rt, player.player_id) == 900


async def test_bad_parameters_are_7_and_move_nothing(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=1_000)
    bet = player.bet("1.00")
    for wrong in ({"amount": "1.001"}, {"amount": "abc"}, {"amount": "-1.00"}, {"amount": "1e2"}, {"amount": ""}):
        assert (await pragmatic.call("bet", {**bet, **wrong}))["error"] == 7, wrong
    missing = {k: v for k, v in bet.items() if k != "reference"}
    assert (await pragmatic.call("bet", missing))["error"] == 7
    assert (await pragmatic.call("bet", {**bet, "gameId": "g" * 65}))["error"] == 7
    assert (await pragmatic.post("bet", b"%zz=1&&=x"))["error"] == 7
    assert (await pragmatic.post("bet", b"a=1&a=2"))["error"] == 7
    assert (await pragmatic.call("bet", {**bet, "roundDetails": "a\x00b"}))["error"] == 7
    assert (await pragmatic.call("bet", {**bet, "amount": "1.000"}))["error"] == 0  # trailing zeros are exact
    assert await cash(rt, player.player_id) == 900


async def test_async_wins_are_credited_with_the_player_offline_and_the_session_long_gone(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000, ttl=timedelta(minutes=5))
    async with rt.database.transaction() as db:  # logged out: the game session ended too
        await db.execute(text("UPDATE game_sessions SET ended_at = now() WHERE token = :t"), {"t": player.token})
    clock.advance(timedelta(days=3))
    bonus = await pragmatic.call("bonusWin", player.award("bonusWin", "4.50"))
    assert (bonus["error"], bonus["cash"], bonus["currency"]) == (0, 14.5, "EUR")
    jackpot = player.award("jackpotWin", "100.00")
    assert (await pragmatic.call("jackpotWin", jackpot))["cash"] == 114.5
    assert (await pragmatic.call("jackpotWin", jackpot))["cash"] == 114.5  # a retry pays nothing more
    promo = player.award("promoWin", "0.50")
    assert (await pragmatic.call("promoWin", promo))["cash"] == 115.0
    lost = await pragmatic.call("bonusWin", player.award("bonusWin", "0.00"))  # a free-rounds total of nothing
    assert (lost["error"], lost["cash"]) == (0, 115.0)
    assert (await pragmatic.call("promoWin", player.award("promoWin", "1.00", currency="ZZZ")))["error"] == 7
    assert (await pragmatic.call("jackpotWin", {**jackpot, "amount": "200.00"}))["error"] == 120  # reused reference
    assert (await pragmatic.call("bonusWin", player.award("bonusWin", "1.00", userId=str(uuid.uuid4()))))["error"] == 2
    assert await cash(rt, player.player_id) == 11_500
    # the same reference in another method is another transaction
    assert (await pragmatic.call("promoWin", player.award("promoWin", "1.00", reference=jackpot["reference"])))[
        "cash"
    ] == 116.0


async def test_a_frozen_players_prize_is_still_theirs(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=0)
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET status = 'blocked' WHERE id = :id"), {"id": player.player_id})
    assert (await pragmatic.call("jackpotWin", player.award("jackpotWin", "5.00")))["error"] == 0
    assert await cash(rt, player.player_id) == 500


async def test_adjustments_credit_and_debit_and_refuse_what_the_cash_cannot_pay(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)

    def adjustment(amount: str) -> dict[str, Any]:
        return {
            "userId": player.user,
            "gameId": player.game,
            "roundId": "live-1",
            "amount": amount,
            "reference": uuid.uuid4().hex,
            "validBetAmount": "0.00",
            "timestamp": "1",
        }

    assert (await pragmatic.call("adjustment", adjustment("2.50")))["cash"] == 12.5
    debit = adjustment("-5.00")
    assert (await pragmatic.call("adjustment", debit))["cash"] == 7.5
    assert (await pragmatic.call("adjustment", debit))["cash"] == 7.5  # retried
    assert (await pragmatic.call("adjustment", {**debit, "amount": "5.00"}))["error"] == 120  # the sign is content
    short = await pragmatic.call("adjustment", adjustment("-50.00"))
    assert (short["error"], short["description"], short["cash"]) == (1, "Insufficient balance", 7.5)
    assert await cash(rt, player.player_id) == 750


async def test_a_free_round_result_pays_nothing_until_its_bonus_win(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    await pragmatic.call("bet", player.bet("1.00", round_id="55"))
    answer = await pragmatic.call("result", player.result("3.00", round_id="55", bonusCode="frb-1"))
    assert (answer["error"], answer["cash"]) == (0, 9.0)  # the free rounds' total comes once, in bonusWin
    assert (await pragmatic.call("bonusWin", player.award("bonusWin", "3.00")))["cash"] == 12.0


async def test_a_result_with_a_cash_drop_pays_both(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    player = await pp_seat(balance=1_000)
    await pragmatic.call("bet", player.bet("1.00", round_id="66"))
    result = player.result(
        "2.00", round_id="66", promoWinAmount="5.00", promoWinReference="drop-1", promoCampaignType="R"
    )
    assert (await pragmatic.call("result", result))["cash"] == 16.0
    assert (await pragmatic.call("result", result))["cash"] == 16.0  # retried: once each
    assert await cash(rt, player.player_id) == 1_600


async def test_a_result_with_no_bet_in_its_round_pays_nothing(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    player = await pp_seat(balance=1_000)
    assert (await pragmatic.call("result", player.result("5.00", round_id="none")))["error"] == 120
    assert await cash(rt, player.player_id) == 1_000


async def test_amounts_in_a_currency_without_decimals(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any, pragmatic_provider: Any
) -> None:
    eur = await pp_seat(balance=0)  # a brand that sells no JPY: a session in JPY, as a game may be played
    token = await open_session(rt, pragmatic_provider, eur.player_id, currency="JPY")
    await fund(rt, eur.player_id, 10_000, "JPY")
    player = PragmaticSeat(eur.user, eur.player_id, token, "JPY")
    assert (await pragmatic.call("bet", player.bet("100.00")))["cash"] == 9_900.0
    assert (await pragmatic.call("bet", player.bet("0.50")))["error"] == 7
    assert await cash(rt, player.player_id, "JPY") == 9_900


def test_amounts_convert_exactly_and_the_hash_reads_the_specification() -> None:
    assert to_minor("3.56", "EUR") == 356
    assert to_minor("100.00", "JPY") == 100
    assert to_minor("0.00000001", "BTC") == 1
    assert to_minor("-2.5", "EUR", signed=True) == -250
    for value, currency in (("0.001", "EUR"), ("1.5", "JPY"), ("-1", "EUR"), ("1,00", "EUR"), ("١", "EUR")):
        with pytest.raises(Refused):
            to_minor(value, currency)
    assert to_units(12_345, "EUR") == 123.45
    assert to_units(1, "BTC") == 0.00000001
    params = {"token": "5v93mto7jr", "providerId": "pragmaticplay", "hash": "x"}
    assert signing_string(params) == "providerId=pragmaticplay&token=5v93mto7jr"


async def test_a_bet_stays_a_lean_path(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    """DESIGN §7: Core statements in one transaction, no ORM unit of work; the provider row and the player's
    currency come in one read before it."""
    from tests.conftest import recorded_statements

    player = await pp_seat(balance=1_000)
    await pragmatic.call("bet", player.bet("1.00"))  # warms the account caches
    with recorded_statements(rt) as statements:
        answer = await pragmatic.call("bet", player.bet("1.00"))
    assert answer["error"] == 0
    # lookup · context · locks · state · house account (2) · the ledger (re-lock, one statement) · RG counter ·
    # round · record · call log
    assert len(statements) <= 12, "\n".join(statements)
    assert not any(s.startswith("SELECT game_providers") for s in statements)


async def test_a_bonus_grants_free_rounds_debit_nothing_and_their_total_is_bonus_money(
    pragmatic: PragmaticProvider, rt: Any, gql: Any, make_player: Any, make_staff: Any, pragmatic_provider: Any
) -> None:
    from tests.bonuses.conftest import CLAIM, CREATE, SET_STATUS, bonus_row

    marketing = (await make_staff("marketing")).token
    rules = {"free_spins": 2, "spin_bet": {"EUR": "1.00"}, "games": ["slot-fortune"], "wagering_multiplier": 1}
    created = await gql(
        CREATE,
        {"input": {"name": "PP spins", "kind": "FREE_SPINS", "rules": rules, "promoCode": "PPSPINS"}},
        token=marketing,
    )
    campaign_id = created["data"]["createBonusCampaign"]["campaign"]["id"]
    await gql(SET_STATUS, {"input": {"campaignId": campaign_id, "status": "ACTIVE"}}, token=marketing)
    account = await make_player()
    await fund(rt, account.uuid, 500)
    claimed = (await gql(CLAIM, {"input": {"code": "PPSPINS"}}, token=account.token))["data"]["claimBonus"]
    grant = claimed["bonus"]["rewardUuid"]
    token = await open_session(rt, pragmatic_provider, account.uuid)
    player = PragmaticSeat(str(account.uuid), account.uuid, token)
    answer = await pragmatic.call("bet", player.bet("1.00", round_id="f-1", bonusCode=grant))
    assert (answer["error"], answer["cash"]) == (0, 5.0)  # a free round: nothing debited
    assert (await bonus_row(rt, account.uuid)).spins_left == 1
    assert (await pragmatic.call("bet", player.bet("2.00", round_id="f-2", bonusCode=grant)))[
        "error"
    ] == 50  # not its bet
    result = await pragmatic.call("result", player.result("3.00", round_id="f-1", bonusCode=grant))
    assert (result["error"], result["cash"]) == (0, 5.0)  # the free rounds' total comes in bonusWin
    assert (await pragmatic.call("bet", player.bet("1.00", round_id="f-3", bonusCode=grant)))["error"] == 0
    assert (await pragmatic.call("result", player.result("0.00", round_id="f-3", bonusCode=grant)))["error"] == 0
    assert (await bonus_row(rt, account.uuid)).status == "active"  # the last spin played: waiting for the total
    total = player.award("bonusWin", "3.00", bonusCode=grant, roundId="f-3")
    paid = await pragmatic.call("bonusWin", total)
    assert (paid["error"], paid["cash"]) == (0, 8.0)  # cash and bonus money together
    assert (await pragmatic.call("bonusWin", total))["cash"] == 8.0  # a retry replays
    assert await cash(rt, account.uuid) == 500  # the winnings are bonus money, under the grant's wagering
    bonus = await bonus_row(rt, account.uuid)
    assert (bonus.amount, bonus.wagering_required, bonus.status) == (300, 300, "active")


async def test_a_bonus_whose_wagering_a_lost_round_met_converts_with_its_result(
    pragmatic: PragmaticProvider, rt: Any, gql: Any, make_player: Any, make_staff: Any, pragmatic_provider: Any
) -> None:
    from tests.bonuses.conftest import CLAIM, CREATE, SET_STATUS, bonus_row

    marketing = (await make_staff("marketing")).token
    rules = {"fixed_amount": {"EUR": "10.00"}, "max_bonus": {"EUR": "50.00"}, "wagering_multiplier": 1}
    offer = {"name": "PP bonus", "kind": "NO_DEPOSIT", "rules": rules, "promoCode": "PPTEN"}
    created = (await gql(CREATE, {"input": offer}, token=marketing))["data"]["createBonusCampaign"]
    await gql(SET_STATUS, {"input": {"campaignId": created["campaign"]["id"], "status": "ACTIVE"}}, token=marketing)
    account = await make_player()
    assert (await gql(CLAIM, {"input": {"code": "PPTEN"}}, token=account.token))["data"]["claimBonus"]["errors"] == []
    token = await open_session(rt, pragmatic_provider, account.uuid)
    player = PragmaticSeat(str(account.uuid), account.uuid, token)
    await pragmatic.call("bet", player.bet("5.00", round_id="w-1"))
    assert (await pragmatic.call("result", player.result("5.00", round_id="w-1")))["cash"] == 10.0  # 5 of 10 wagered
    await pragmatic.call("bet", player.bet("5.00", round_id="w-2"))  # 10 of 10: met, the round still open
    assert (await bonus_row(rt, account.uuid)).status == "active"
    lost = await pragmatic.call("result", player.result("0.00", round_id="w-2"))
    assert (lost["error"], lost["cash"]) == (0, 5.0)
    assert (await bonus_row(rt, account.uuid)).status != "active"  # converted with the round's result
    assert await cash(rt, account.uuid) == 500  # what was left of the bonus is cash now


# ---- conformance: the published specification's rules (docs/providers-pragmatic.md, "Checked against") ----------


async def test_a_misdirected_refund_never_voids_another_players_bet(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    """Refund: "If bet transaction is not found then nothing should happen": a refund sent under the wrong userId for
    a reference nobody bet yet answers 0 and moves nothing, and the reference's real owner still bets and refunds."""
    owner = await pp_seat(balance=1_000)
    stranger = await pp_seat(balance=1_000)
    bet = owner.bet("2.00", round_id="r-1")
    misdirected = await pragmatic.call("refund", stranger.refund(bet["reference"]))
    assert misdirected["error"] == 0
    placed = await pragmatic.call("bet", bet)
    assert (placed["error"], placed["cash"]) == (0, 8.0)  # the owner's bet stands: the stranger's refund was not theirs
    assert (await pragmatic.call("result", owner.result("1.00", round_id="r-1")))["error"] == 0
    refunded = await pragmatic.call("refund", owner.refund(bet["reference"]))
    assert refunded["error"] == 0
    assert refunded["transactionId"] != misdirected["transactionId"]
    assert await cash(rt, owner.player_id) == 1_100  # the stake back once, the win kept
    assert (await pragmatic.call("refund", owner.refund(bet["reference"])))["error"] == 0  # retried: nothing more
    # retried: the stranger's refund was recorded (0 while the bet was unknown), so it gets that answer again
    assert (await pragmatic.call("refund", stranger.refund(bet["reference"])))["error"] == 0
    assert await cash(rt, owner.player_id) == 1_100
    assert await cash(rt, stranger.player_id) == 1_000
    # the stranger's own late bet with that reference meets the owner's transaction: refused, nothing moves
    assert (await pragmatic.call("bet", stranger.bet("2.00", reference=bet["reference"])))["error"] == 120
    assert await cash(rt, stranger.player_id) == 1_000
    # and a refund of one's own never-seen bet still refuses that late bet (3), as before
    own = stranger.bet("1.00")
    assert (
        await pragmatic.call(
            "refund",
            stranger.refund(
                own["reference"],
                amount="1.00",
                gameId=stranger.game,
                roundId="1001",
                timestamp="1",
                roundDetails="spin",
                bonusCode="x",
                originalRoundID="1000",
            ),
        )
    )["error"] == 0
    assert (await pragmatic.call("bet", own))["error"] == 3
    assert await cash(rt, stranger.player_id) == 1_000


async def test_a_retry_answers_the_balance_as_it_is_now(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    """ "For retries actual player's balance should be returned": a retried transaction moves nothing and shows the
    balance now, not the one its first answer showed."""
    player = await pp_seat(balance=1_000)
    bet = player.bet("1.00", round_id="b-1")
    first = await pragmatic.call("bet", bet)
    assert first["cash"] == 9.0
    await pragmatic.call("bet", player.bet("2.00", round_id="b-2"))
    retry = await pragmatic.call("bet", bet)
    assert (retry["error"], retry["cash"], retry["transactionId"]) == (0, 7.0, first["transactionId"])
    jackpot = player.award("jackpotWin", "10.00", jackpotDetails='{"progressive":7.5,"non-progressive":2.5}')
    assert (await pragmatic.call("jackpotWin", jackpot))["cash"] == 17.0
    await pragmatic.call("bet", player.bet("5.00", round_id="b-3"))
    assert (await pragmatic.call("jackpotWin", jackpot))["cash"] == 12.0
    assert await cash(rt, player.player_id) == 1_200


async def test_free_rounds_pay_their_total_once_however_pragmatic_sends_it(
    pragmatic: PragmaticProvider, rt: Any, gql: Any, make_player: Any, make_staff: Any, pragmatic_provider: Any
) -> None:
    """bonusWin: "winning result of all rounds played on Free Round Bonus. Casino Operator will change a player
    balance in appliance with this request": the total is paid by bonusWin, once; the free rounds' results (their
    bonusCode) book what they won and pay nothing, so wins sent in the results as well are never paid twice, in any
    order, however often each is delivered."""
    from tests.bonuses.conftest import CLAIM, CREATE, SET_STATUS, bonus_row

    marketing = (await make_staff("marketing")).token
    rules = {"free_spins": 2, "spin_bet": {"EUR": "1.00"}, "games": ["slot-fortune"], "wagering_multiplier": 1}
    offer = {"name": "PP twice", "kind": "FREE_SPINS", "rules": rules, "promoCode": "PPTWICE"}
    created = (await gql(CREATE, {"input": offer}, token=marketing))["data"]["createBonusCampaign"]
    await gql(SET_STATUS, {"input": {"campaignId": created["campaign"]["id"], "status": "ACTIVE"}}, token=marketing)
    account = await make_player()
    await fund(rt, account.uuid, 500)
    grant = (await gql(CLAIM, {"input": {"code": "PPTWICE"}}, token=account.token))["data"]["claimBonus"]["bonus"][
        "rewardUuid"
    ]
    token = await open_session(rt, pragmatic_provider, account.uuid)
    player = PragmaticSeat(str(account.uuid), account.uuid, token)
    results = []
    for round_id, won in (("t-1", "3.00"), ("t-2", "2.00")):
        assert (await pragmatic.call("bet", player.bet("1.00", round_id=round_id, bonusCode=grant)))["error"] == 0
        result = player.result(won, round_id=round_id, bonusCode=grant)
        results.append(result)
        assert (await pragmatic.call("result", result))["cash"] == 5.0  # booked, not paid: the total comes once
    total = player.award("bonusWin", "5.00", bonusCode=grant, roundId="t-2", gameId=player.game)
    assert (await pragmatic.call("bonusWin", total))["cash"] == 10.0
    for again in (*results, total, *results, total):  # redelivered, in any order
        method = "bonusWin" if again is total else "result"
        answer = await pragmatic.call(method, again)
        assert (answer["error"], answer["cash"]) == (0, 10.0), method
    late = player.result("4.00", round_id="t-2", bonusCode=grant)  # a free round's result first seen after the total
    assert (await pragmatic.call("result", late))["cash"] == 10.0
    assert (await pragmatic.call("bonusWin", {**total, "amount": "9.00"}))["error"] == 120  # its reference reused
    async with rt.database.session() as db:
        paid = await db.scalar(
            text("SELECT coalesce(sum(amount), 0) FROM provider_transactions WHERE player_id = :p AND kind = 'win'"),
            {"p": account.uuid},
        )
    assert paid == 500  # the results booked 0: the only money paid is the total
    assert await cash(rt, account.uuid) == 500
    bonus = await bonus_row(rt, account.uuid)
    assert (bonus.amount, bonus.wagering_required) == (500, 500)


async def test_end_round_jackpot_and_promo_win_take_their_optional_parameters(
    pragmatic: PragmaticProvider, pp_seat: Any, rt: Any
) -> None:
    """endRound's optional `win` (notice only), jackpotWin's `jackpotDetails`/`instanceId`, promoWin's community
    jackpot (`campaignType=CJP`) with `gameId`, `roundId` and `dataType`: accepted and signed like the rest."""
    player = await pp_seat(balance=1_000)
    await pragmatic.call("bet", player.bet("1.00", round_id="e-1"))
    await pragmatic.call("result", player.result("2.50", round_id="e-1"))
    ended = await pragmatic.call("endRound", player.end_round("e-1", win="2.50", platform="MOBILE"))
    assert ended == {"cash": 11.5, "bonus": 0.0, "error": 0, "description": "Success"}  # the win is not paid again
    jackpot = player.award("jackpotWin", "3.00", jackpotDetails='{"progressive":3.0}', instanceId="4", platform="WEB")
    assert (await pragmatic.call("jackpotWin", jackpot))["cash"] == 14.5
    promo = player.award("promoWin", "1.50", campaignType="CJP", gameId=player.game, roundId="e-1", dataType="RNG")
    answer = await pragmatic.call("promoWin", promo)
    assert (answer["error"], answer["currency"], answer["cash"], answer["bonus"]) == (0, "EUR", 16.0, 0.0)
    assert len(answer["transactionId"]) == 32
    assert (await pragmatic.call("jackpotWin", {k: v for k, v in jackpot.items() if k != "jackpotId"}))["error"] == 7
    assert (await pragmatic.call("promoWin", {k: v for k, v in promo.items() if k != "campaignId"}))["error"] == 7
    assert await cash(rt, player.player_id) == 1_600


async def test_references_as_long_as_the_protocol_allows(pragmatic: PragmaticProvider, pp_seat: Any, rt: Any) -> None:
    """A reference of 100 characters (the widest the adapter takes) books on the ledger in every method: it was
    100 for ever once `<provider>:<method>:<reference>` outgrew the ledger's reference (64)."""
    player = await pp_seat(balance=1_000)
    bet = player.bet("1.00", reference="b" * 100, round_id="long")
    assert (await pragmatic.call("bet", bet))["error"] == 0
    assert (await pragmatic.call("result", player.result("3.00", reference="w" * 100, round_id="long")))["error"] == 0
    assert (await pragmatic.call("jackpotWin", player.award("jackpotWin", "1.00", reference="j" * 100)))["error"] == 0
    assert (await pragmatic.call("refund", player.refund(bet["reference"])))["error"] == 0
    assert (await pragmatic.call("bet", player.bet("1.00", reference="b" * 101)))["error"] == 7
    assert await cash(rt, player.player_id) == 1_400
