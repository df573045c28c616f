"""The Hub88 wallet contract (/work/shared/providers/hub88-wallet.md), driven as the aggregator drives
it: over HTTP through the app, with real RSA signatures over the raw bytes. Amounts in the requests are
Hub88 units (1/100000 of the currency); 1.00 EUR is 100_000 units and 100 ledger minor units."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import select, text

from core.clock import clock
from integrations.hub88 import to_minor, to_units
from models.games import GameRound, ProviderCall, ProviderTransaction
from tests.conftest import recorded_statements
from tests.providers.conftest import GAME, Aggregator, cash, sign

EUR = 100_000  # one euro in Hub88 units


async def test_balance_and_user_info_answer_from_the_wallet(aggregator: Aggregator, seat: Any) -> None:
    player = await seat(balance=12_345)
    answer = await aggregator.call("user/balance", player.base(token=player.token, game_code="slot-fortune"))
    assert answer["status"] == "RS_OK"
    assert answer["balance"] == 12_345_000  # 123.45 EUR
    assert answer["currency"] == "EUR"
    assert answer["user"] == player.user
    assert set(answer) >= {"user", "status", "request_uuid", "currency", "balance"}

    info = await aggregator.call("user/info", player.base())
    assert info["status"] == "RS_OK"
    assert info["country"] == "MT"
    assert info["sub_partner_id"] == "royal"
    assert info["birth_date"] == "1990-01-01"
    assert info["balance"] == 12_345_000


async def test_bet_then_win_moves_money_through_the_ledger_and_closes_the_round(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=10_000)
    bet = player.bet(356_000, round_ref="round-7")  # 3.56 EUR
    answer = await aggregator.call("transaction/bet", bet)
    assert answer == {
        "user": player.user,
        "status": "RS_OK",
        "request_uuid": bet["request_uuid"],
        "currency": "EUR",
        "balance": 10_000 * 1000 - 356_000,
    }
    win = player.win(1_000_000, bet["transaction_uuid"], round_ref="round-7", closed=True)
    answer = await aggregator.call("transaction/win", win)
    assert answer["status"] == "RS_OK"
    assert answer["balance"] == 10_000 * 1000 - 356_000 + 1_000_000
    assert await cash(rt, player.player_id) == 10_000 - 356 + 1_000

    async with rt.database.session() as db:
        game_round = (await db.execute(select(GameRound))).scalar_one()
        assert (game_round.round_ref, game_round.total_bet, game_round.total_win, game_round.status) == (
            "round-7",
            356,
            1_000,
            "closed",
        )
        stored = (
            await db.execute(
                select(ProviderTransaction).where(ProviderTransaction.transaction_uuid == bet["transaction_uuid"])
            )
        ).scalar_one()
        assert json.loads(stored.raw_request) == bet  # the bytes as received
        assert stored.response["status"] == "RS_OK"
        assert stored.ledger_transaction_id is not None
        house = (
            await db.execute(
                text(
                    "SELECT sum(p.amount) FROM ledger_postings p JOIN ledger_accounts a ON a.id = p.account_id "
                    "WHERE a.purpose = 'house_revenue'"
                )
            )
        ).scalar_one()
        assert house == 356 - 1_000
        calls = (await db.execute(select(ProviderCall.endpoint).order_by(ProviderCall.created_at))).scalars().all()
        assert list(calls) == ["/transaction/bet", "/transaction/win"]  # the contract's paths


async def test_a_retried_bet_gets_the_original_answer_and_moves_nothing(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=10_000)
    bet = player.bet(EUR)
    first = await aggregator.call("transaction/bet", bet)
    same_call = await aggregator.call("transaction/bet", bet)
    assert same_call == first
    retry = await aggregator.call("transaction/bet", {**bet, "request_uuid": str(uuid.uuid4())})
    assert retry["status"] == "RS_OK"
    assert retry["balance"] == first["balance"]
    assert await cash(rt, player.player_id) == 10_000 - 100


async def test_a_known_transaction_with_changed_content_is_a_duplicate(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=10_000)
    bet = player.bet(EUR)
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    for change in ({"amount": 2 * EUR}, {"round": "other"}, {"game_code": "retired"}, {"currency": "SEK"}):
        answer = await aggregator.call("transaction/bet", {**bet, **change, "request_uuid": str(uuid.uuid4())})
        assert answer["status"] == "RS_ERROR_DUPLICATE_TRANSACTION", change
    # a bet's uuid reused for a win is a duplicate too
    answer = await aggregator.call(
        "transaction/win", player.win(EUR, bet["transaction_uuid"], tx=bet["transaction_uuid"])
    )
    assert answer["status"] == "RS_ERROR_DUPLICATE_TRANSACTION"
    assert await cash(rt, player.player_id) == 10_000 - 100


async def test_a_win_before_its_bet_does_not_exist(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    answer = await aggregator.call("transaction/win", player.win(5 * EUR, str(uuid.uuid4())))
    assert answer["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert await cash(rt, player.player_id) == 1_000


async def test_rollback_before_bet_refuses_the_late_bet(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(2 * EUR)
    rollback = player.rollback(bet["transaction_uuid"])
    answer = await aggregator.call("transaction/rollback", rollback)
    assert answer["status"] == "RS_OK"
    assert answer["balance"] == 1_000 * 1000
    late = await aggregator.call("transaction/bet", bet)
    assert late["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    again = await aggregator.call("transaction/bet", {**bet, "request_uuid": str(uuid.uuid4())})
    assert again["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    win = await aggregator.call("transaction/win", player.win(EUR, bet["transaction_uuid"]))
    assert win["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert await cash(rt, player.player_id) == 1_000
    async with rt.database.session() as db:
        kinds = (await db.execute(select(ProviderTransaction.kind, ProviderTransaction.transaction_uuid))).all()
    assert sorted(k for k, _ in kinds) == ["bet", "rollback"]  # the remembered rollback and the refused bet


async def test_rollback_restores_the_stake_once_and_a_later_win_does_not_exist(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(3 * EUR, round_ref="r-9")
    await aggregator.call("transaction/bet", bet)
    assert await cash(rt, player.player_id) == 700
    rollback = player.rollback(bet["transaction_uuid"], round_ref="r-9")
    answer = await aggregator.call("transaction/rollback", rollback)
    assert (answer["status"], answer["balance"]) == ("RS_OK", 1_000 * 1000)
    # retried (same uuid) and a second rollback (new uuid) of the same bet: nothing more moves
    assert (await aggregator.call("transaction/rollback", {**rollback, "request_uuid": str(uuid.uuid4())}))[
        "status"
    ] == "RS_OK"
    assert (await aggregator.call("transaction/rollback", player.rollback(bet["transaction_uuid"])))[
        "status"
    ] == "RS_OK"
    win = await aggregator.call("transaction/win", player.win(5 * EUR, bet["transaction_uuid"], round_ref="r-9"))
    assert win["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert await cash(rt, player.player_id) == 1_000
    async with rt.database.session() as db:
        game_round = (await db.execute(select(GameRound))).scalar_one()
    assert game_round.total_bet == 0


async def test_a_win_rolled_back_before_it_arrives_moves_nothing(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(EUR)
    await aggregator.call("transaction/bet", bet)
    win = player.win(4 * EUR, bet["transaction_uuid"])
    undo = await aggregator.call("transaction/rollback", player.rollback(win["transaction_uuid"]))
    assert undo["status"] == "RS_OK"
    assert (await aggregator.call("transaction/win", win))["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    assert await cash(rt, player.player_id) == 900


async def test_a_win_can_be_rolled_back(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(EUR)
    await aggregator.call("transaction/bet", bet)
    win = player.win(4 * EUR, bet["transaction_uuid"])
    await aggregator.call("transaction/win", win)
    assert await cash(rt, player.player_id) == 1_300
    answer = await aggregator.call("transaction/rollback", player.rollback(win["transaction_uuid"]))
    assert (answer["status"], answer["balance"]) == ("RS_OK", 900 * 1000)


async def test_token_expiry_refuses_bets_but_never_wins_or_rollbacks(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=1_000, ttl=timedelta(minutes=5))
    bet = player.bet(EUR)
    other = player.bet(EUR)
    await aggregator.call("transaction/bet", bet)
    await aggregator.call("transaction/bet", other)
    clock.advance(timedelta(minutes=10))
    late_bet = await aggregator.call("transaction/bet", player.bet(EUR))
    assert late_bet["status"] == "RS_ERROR_TOKEN_EXPIRED"
    assert late_bet["balance"] == 800 * 1000
    win = await aggregator.call("transaction/win", player.win(2 * EUR, bet["transaction_uuid"]))
    assert win["status"] == "RS_OK"
    rollback = await aggregator.call("transaction/rollback", player.rollback(other["transaction_uuid"]))
    assert rollback["status"] == "RS_OK"
    # a retry of a bet accepted before the expiry still gets its original answer
    assert (await aggregator.call("transaction/bet", {**bet, "request_uuid": str(uuid.uuid4())}))["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 1_000 - 100 + 200


async def test_not_enough_money_carries_the_balance_and_stays_refused(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    from tests.conftest import fund

    player = await seat(balance=250)
    bet = player.bet(3 * EUR)
    answer = await aggregator.call("transaction/bet", bet)
    assert answer["status"] == "RS_ERROR_NOT_ENOUGH_MONEY"
    assert answer["balance"] == 250 * 1000
    await fund(rt, player.player_id, "10.00 EUR")
    retry = await aggregator.call("transaction/bet", {**bet, "request_uuid": str(uuid.uuid4())})
    assert retry["status"] == "RS_ERROR_NOT_ENOUGH_MONEY"  # refusals are remembered
    win = await aggregator.call("transaction/win", player.win(EUR, bet["transaction_uuid"]))
    assert win["status"] == "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"
    undo = await aggregator.call("transaction/rollback", player.rollback(bet["transaction_uuid"]))
    assert undo["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 1_250


async def test_signatures_are_checked_over_the_raw_bytes(
    aggregator: Aggregator, seat: Any, rt: Any, stranger_key: Any
) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(EUR)
    raw = json.dumps(bet).encode()
    missing = await aggregator.send("transaction/bet", raw)
    assert missing["status"] == "RS_ERROR_INVALID_SIGNATURE"
    assert missing["balance"] == 0
    wrong_key = await aggregator.call("transaction/bet", bet, key=stranger_key)
    assert wrong_key["status"] == "RS_ERROR_INVALID_SIGNATURE"
    changed = raw.replace(b'"amount": 100000', b'"amount": 900000')
    assert changed != raw
    tampered = await aggregator.send("transaction/bet", changed, {"X-Hub88-Signature": sign(aggregator.key, raw)})
    assert tampered["status"] == "RS_ERROR_INVALID_SIGNATURE"
    garbage = await aggregator.send("transaction/bet", raw, {"X-Hub88-Signature": "not base64 !!"})
    assert garbage["status"] == "RS_ERROR_INVALID_SIGNATURE"
    # the same bytes re-serialised differently (spacing) are another message: the signature must match them
    compact = json.dumps(bet, separators=(",", ":")).encode()
    assert (await aggregator.send("transaction/bet", compact, {"X-Hub88-Signature": sign(aggregator.key, raw)}))[
        "status"
    ] == "RS_ERROR_INVALID_SIGNATURE"
    unknown = Aggregator(aggregator.http, aggregator.key, code="nobody")
    assert (await unknown.call("transaction/bet", bet))["status"] == "RS_ERROR_INVALID_PARTNER"
    assert await cash(rt, player.player_id) == 1_000
    ok = await aggregator.send("transaction/bet", compact, {"X-Hub88-Signature": sign(aggregator.key, compact)})
    assert ok["status"] == "RS_OK"


async def test_malformed_bodies_and_wrong_types_are_refused(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)

    async def status_of(raw: bytes) -> str:
        answer = await aggregator.send("transaction/bet", raw, {"X-Hub88-Signature": sign(aggregator.key, raw)})
        return str(answer["status"])

    assert await status_of(b"{not json") == "RS_ERROR_WRONG_SYNTAX"
    assert await status_of(b"[1, 2]") == "RS_ERROR_WRONG_SYNTAX"
    assert await status_of(b"") == "RS_ERROR_WRONG_SYNTAX"
    bet = player.bet(EUR)
    missing = {k: v for k, v in bet.items() if k != "transaction_uuid"}
    assert await status_of(json.dumps(missing).encode()) == "RS_ERROR_WRONG_SYNTAX"
    for wrong in (
        {"amount": "100000"},
        {"amount": 1000.5},
        {"amount": 100000.0},
        {"amount": True},
        {"amount": -100000},
        {"round_closed": "yes"},
        {"user": 42},
        {"meta": "x"},
        {"amount": 100001},
    ):  # 1.00001 EUR is not a whole cent: not representable
        assert await status_of(json.dumps({**bet, **wrong}).encode()) == "RS_ERROR_WRONG_TYPES", wrong
    assert await status_of(json.dumps(bet).encode().replace(b"100000", b"NaN", 1)) == "RS_ERROR_WRONG_SYNTAX"
    assert await cash(rt, player.player_id) == 1_000


async def test_bet_refusals_wrong_currency_unknown_game_invalid_token_disabled_user(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=1_000)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, currency="SEK")))[
        "status"
    ] == "RS_ERROR_WRONG_CURRENCY"
    assert (await aggregator.call("transaction/bet", player.bet(EUR, currency="ZZZ")))[
        "status"
    ] == "RS_ERROR_WRONG_CURRENCY"
    assert (await aggregator.call("transaction/bet", player.bet(EUR, game_code="nope")))[
        "status"
    ] == "RS_ERROR_INVALID_GAME"
    assert (await aggregator.call("transaction/bet", player.bet(EUR, game_code="retired")))[
        "status"
    ] == "RS_ERROR_INVALID_GAME"
    assert (await aggregator.call("transaction/bet", player.bet(EUR, token="unknown")))[
        "status"
    ] == "RS_ERROR_INVALID_TOKEN"
    other = await seat(balance=1_000)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, token=other.token)))[
        "status"
    ] == "RS_ERROR_INVALID_TOKEN"
    assert (await aggregator.call("user/balance", player.base(token="unknown")))["status"] == "RS_ERROR_INVALID_TOKEN"
    assert (await aggregator.call("transaction/bet", player.bet(600 * EUR)))["status"] == "RS_ERROR_LIMIT_REACHED"
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET status = 'blocked' WHERE id = :id"), {"id": player.player_id})
    disabled = await aggregator.call("transaction/bet", player.bet(EUR))
    assert disabled["status"] == "RS_ERROR_USER_DISABLED"
    assert disabled["balance"] == 1_000 * 1000
    assert await cash(rt, player.player_id) == 1_000


async def test_a_repeated_request_uuid_gets_the_same_answer(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    from tests.conftest import fund

    player = await seat(balance=1_000)
    request = player.base(token=player.token)
    first = await aggregator.call("user/balance", request)
    await fund(rt, player.player_id, "5.00 EUR")
    assert await aggregator.call("user/balance", request) == first
    fresh = await aggregator.call("user/balance", {**request, "request_uuid": str(uuid.uuid4())})
    assert fresh["balance"] == 1_500 * 1000


async def test_demo_play_touches_no_wallet(aggregator: Aggregator, rt: Any) -> None:
    body = {
        "user": None,
        "token": None,
        "request_uuid": str(uuid.uuid4()),
        "transaction_uuid": str(uuid.uuid4()),
        "round": "demo-1",
        "round_closed": True,
        "game_code": "slot-fortune",
        "currency": "XXX",
        "amount": 5 * EUR,
    }
    answer = await aggregator.call("transaction/bet", body)
    assert answer["status"] == "RS_OK"
    assert answer["currency"] == "XXX"
    assert (await aggregator.call("user/balance", {"request_uuid": str(uuid.uuid4()), "currency": "XXX"}))[
        "status"
    ] == "RS_OK"
    async with rt.database.session() as db:
        rows = (
            await db.execute(
                text(
                    "SELECT (SELECT count(*) FROM provider_transactions) + (SELECT count(*) FROM provider_calls) "
                    "+ (SELECT count(*) FROM ledger_transactions)"
                )
            )
        ).scalar_one()
    assert rows == 0


def test_amounts_convert_exactly_between_hub88_units_and_minor_units() -> None:
    import pytest

    from integrations.hub88 import Refused

    assert to_minor(356_000, "EUR") == 356
    assert to_minor(100_000, "JPY") == 1
    assert to_minor(1, "BTC") == 1_000
    assert to_minor(7, "USDT") == 70
    assert to_units(356, "EUR") == 356_000
    assert to_units(1_999, "BTC") == 1  # finer than Hub88 units: rounded down, never shown as more
    for units, currency in ((356_001, "EUR"), (150_000, "JPY")):
        with pytest.raises(Refused):
            to_minor(units, currency)


async def test_a_bet_stays_a_lean_path(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    """DESIGN §7: the provider wallet is a few Core statements in one transaction, no ORM unit of work."""
    player = await seat(balance=1_000)
    await aggregator.call("transaction/bet", player.bet(EUR))  # warms the account caches
    await aggregator.call("transaction/bet", player.bet(EUR))
    with recorded_statements(rt) as statements:
        answer = await aggregator.call("transaction/bet", player.bet(EUR))
    assert answer["status"] == "RS_OK"
    # provider · context · locks · state (with the RG gate's inputs) · ledger (lock, transaction, postings:
    # two rows, one executemany, balance, outbox) · RG activity counter · round · record · call log
    assert len(statements) <= 14, "\n".join(statements)
    assert not any(s.startswith("SELECT game_providers") for s in statements)  # Core statements, no ORM loads


async def test_the_live_server_serves_the_contract_over_real_http(
    live_server: str, hub88_provider: Any, seat: Any, aggregator_key: Any, rt: Any
) -> None:
    """What a real aggregator (and the demo provider) sees: a separate `croupier serve` process."""
    import httpx

    player = await seat(balance=1_000)
    async with httpx.AsyncClient(base_url=live_server, timeout=10) as http:
        remote = Aggregator(http, aggregator_key[0])
        bet = player.bet(2 * EUR)
        assert (await remote.call("transaction/bet", bet))["balance"] == 800 * 1000
        answer = await remote.call("transaction/win", player.win(5 * EUR, bet["transaction_uuid"]))
        assert (answer["status"], answer["balance"]) == ("RS_OK", 1_300 * 1000)
    assert await cash(rt, player.player_id) == 1_300


SET_AVAILABILITY = """
mutation($input: SetGameAvailabilityInput!) {
  setGameAvailability(input: $input) { errors { code } }
}"""


async def test_a_game_switched_off_stops_bets_in_open_sessions_but_pays_their_wins(
    aggregator: Aggregator, seat: Any, rt: Any, gql: Any, make_staff: Any
) -> None:
    from strawberry import relay

    from models.games import Game

    player = await seat(balance=1_000)
    async with rt.database.session() as db:
        game = (await db.execute(select(Game).where(Game.code == GAME))).scalar_one()
        country = (
            await db.execute(text("SELECT country FROM players WHERE id = :id"), {"id": player.player_id})
        ).scalar_one()
    admin = await make_staff("brand_admin")

    async def switch(enabled: bool, countries: list[str]) -> None:
        body = await gql(
            SET_AVAILABILITY,
            {
                "input": {
                    "gameId": str(relay.GlobalID("Game", str(game.id))),
                    "enabled": enabled,
                    "disabledCountries": countries,
                    "reason": "RTP under review",
                }
            },
            token=admin.token,
        )
        assert body["data"]["setGameAvailability"]["errors"] == [], body

    bet = player.bet(1 * EUR, round_ref="r-open")
    assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
    await switch(False, [])
    refused = await aggregator.call("transaction/bet", player.bet(1 * EUR, round_ref="r-next"))
    assert refused["status"] == "RS_ERROR_INVALID_GAME"
    assert refused["balance"] == 9 * EUR  # refused with the balance, nothing moved
    win = await aggregator.call("transaction/win", player.win(2 * EUR, bet["transaction_uuid"], round_ref="r-open"))
    assert win["status"] == "RS_OK"  # the open round still settles
    await switch(True, [country])
    assert (await aggregator.call("transaction/bet", player.bet(1 * EUR, round_ref="r-2")))[
        "status"
    ] == "RS_ERROR_INVALID_GAME"
    await switch(True, ["ZZ"] if country != "ZZ" else ["YY"])
    assert (await aggregator.call("transaction/bet", player.bet(1 * EUR, round_ref="r-3")))["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 1_000 - 1_00 + 2_00 - 1_00
