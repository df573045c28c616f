"""Adversarial review of the one call (sql/wallet/wallet_play_v2.sql, services/provider_wallet/one_call.py): inputs
and states where it must answer what the Python path answers, through the signed Hub88 endpoints."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text

from services.provider_wallet import one_call
from tests.conftest import fund
from tests.providers.conftest import Aggregator, Seat, cash, open_session

EUR = 100_000  # one euro in Hub88 units
YEN = 100_000  # one yen in Hub88 units


class Counted:
    """one_call.play wrapped: whether each call it saw was decided there (True) or fell back (False)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.decided: list[bool] = []
        self.original = one_call.play
        monkeypatch.setattr(one_call, "play", self)

    async def __call__(self, *args: Any) -> Any:
        result = await self.original(*args)
        self.decided.append(result is not None)
        return result


def _without(body: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in keys}


async def test_a_user_python_reads_as_a_uuid_is_answered_as_the_python_path_answers(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`uuid.UUID` reads 'urn:uuid:…' (the Python path finds the player); PostgreSQL's uuid does not: the one call
    must not turn such a request into an HTTP 500."""

    async def bet(player: Seat) -> dict[str, Any]:
        return await aggregator.call("transaction/bet", player.bet(EUR, user=f"urn:uuid:{player.user}"))

    python_player, sql_player = await seat(balance=1_000), await seat(balance=1_000)
    await aggregator.call("transaction/bet", python_player.bet(0, round_ref="warm"))  # the house account exists
    with monkeypatch.context() as patched:
        patched.setattr(one_call, "eligible", lambda *args: False)
        by_python = await bet(python_player)
    by_sql = await bet(sql_player)
    assert by_python["status"] == "RS_OK"
    assert _without(by_sql, "user", "request_uuid") == _without(by_python, "user", "request_uuid")
    assert await cash(rt, sql_player.player_id) == await cash(rt, python_player.player_id) == 900


async def test_a_balance_beyond_bigint_in_hub88_units_is_answered_not_a_500(
    aggregator: Aggregator, seat: Any, rt: Any, hub88_provider: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A yen is 100 000 Hub88 units: a yen balance above 92 233 720 368 547 overflows a bigint in the function's
    answer body (`v_after * p_units_mul`), where Python's int does not. The Python path answers it."""
    counted = Counted(monkeypatch)
    euro = await seat(balance=0)
    await fund(rt, euro.player_id, 10**15, "JPY")  # an account in yen of a euro player: the brand offers no yen
    player = Seat(
        euro.user, euro.player_id, await open_session(rt, hub88_provider, euro.player_id, currency="JPY"), "JPY"
    )
    await aggregator.call("transaction/bet", player.bet(YEN, round_ref="warm"))  # the house account in yen
    counted.decided.clear()
    answer = await aggregator.call("transaction/bet", player.bet(YEN))
    assert answer["status"] == "RS_OK"
    assert answer["balance"] == (10**15 - 2) * YEN
    assert counted.decided == [False]  # nothing written by the one call: the Python path decided
    assert await cash(rt, player.player_id, "JPY") == 10**15 - 2


async def test_the_rg_day_is_the_player_s_local_day_on_both_paths(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At 03:00 UTC it is still yesterday in Toronto: both paths count the stake and the win on the player's
    local day (the profile's timezone), not the UTC one."""
    from datetime import timedelta

    from core.clock import clock
    from services.rg.profiles import profile

    now = clock.now()
    clock.advance(timedelta(hours=(3 - now.hour) % 24 or 24, minutes=-now.minute))  # the next 03:xx UTC
    try:
        python_player, sql_player = await seat(balance=1_000), await seat(balance=1_000)
        async with rt.database.transaction() as db:
            await db.execute(
                text("UPDATE players SET jurisdiction = 'ON' WHERE id = ANY(CAST(:ids AS uuid[]))"),
                {"ids": [python_player.player_id, sql_player.player_id]},
            )
        await aggregator.call("transaction/bet", python_player.bet(0, round_ref="warm"))  # the house account exists

        async def play(player: Seat) -> None:
            placed = player.bet(EUR)
            assert (await aggregator.call("transaction/bet", placed))["status"] == "RS_OK"
            won = player.win(2 * EUR, placed["transaction_uuid"])
            assert (await aggregator.call("transaction/win", won))["status"] == "RS_OK"

        with monkeypatch.context() as patched:
            patched.setattr(one_call, "eligible", lambda *args: False)
            await play(python_player)
        counted = Counted(monkeypatch)
        await play(sql_player)
        assert counted.decided == [True, True]
        local = profile("ON").local_day(clock.now())
        assert local != clock.now().date()
        async with rt.database.session() as db:
            days = {
                row.player_id: (row.day, row.wagered, row.won)
                for row in (
                    await db.execute(
                        text(
                            "SELECT player_id, day, wagered, won FROM rg_activity_days "
                            "WHERE player_id = ANY(CAST(:ids AS uuid[]))"
                        ),
                        {"ids": [python_player.player_id, sql_player.player_id]},
                    )
                ).all()
            }
        assert days == {python_player.player_id: (local, 100, 200), sql_player.player_id: (local, 100, 200)}
    finally:
        clock.reset()


async def test_wins_racing_the_rollbacks_of_their_bets_pay_only_standing_bets_and_keep_the_books(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A win (the one call, locking its own key then the cash row) races the rollback of its bet (the Python
    path, locking the bet's key then the cash row): whichever takes the cash row first, a win is paid only on
    a bet still standing (the one call reads the bet again after its lock), and the ledger stays clean."""
    import asyncio

    from tests.ledger.test_ledger import assert_ledger_clean

    counted = Counted(monkeypatch)
    player = await seat(balance=1_000)
    await aggregator.call("transaction/bet", player.bet(0, round_ref="warm"))
    bets = [player.bet(EUR, round_ref=f"r-{n}") for n in range(6)]
    for placed in bets:
        assert (await aggregator.call("transaction/bet", placed))["status"] == "RS_OK"
    assert await cash(rt, player.player_id) == 400
    counted.decided.clear()
    calls = []
    for n, placed in enumerate(bets):
        win = aggregator.call("transaction/win", player.win(3 * EUR, placed["transaction_uuid"], round_ref=f"r-{n}"))
        undo = aggregator.call("transaction/rollback", player.rollback(placed["transaction_uuid"], round_ref=f"r-{n}"))
        calls += [win, undo] if n % 2 else [undo, win]  # each order, raced
    answers = await asyncio.gather(*calls)
    assert {a["status"] for a in answers} <= {"RS_OK", "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"}
    async with rt.database.session() as db:
        paid = (
            await db.execute(
                text(
                    "SELECT count(*) FILTER (WHERE kind = 'win' AND status = 'RS_OK'), "
                    "count(*) FILTER (WHERE kind = 'rollback' AND status = 'RS_OK') FROM provider_transactions "
                    "WHERE player_id = :p"
                ),
                {"p": player.player_id},
            )
        ).one()
    won, undone = paid
    assert undone == 6  # a bet is rolled back whether or not its win landed first
    assert await cash(rt, player.player_id) == 1_000 + 300 * won  # every stake back, the wins of standing bets
    assert counted.decided.count(True) == won  # each paid win decided in one call; the refused ones in Python
    await assert_ledger_clean(rt)


# States the one call must leave to the Python path (which refuses them or decides them otherwise), set up in SQL.
BET_FALLBACKS = {
    "a self-exclusion in force": "INSERT INTO rg_exclusions (id, player_id, kind, starts_at, source) "
    "VALUES (gen_random_uuid(), :player, 'self_exclusion', now() - interval '1 minute', 'player')",
    "a blocked player": "UPDATE players SET status = 'blocked' WHERE id = :player",
    "an expired game session": "UPDATE game_sessions SET expires_at = now() - interval '1 second' WHERE token = :token",
    "an ended game session": "UPDATE game_sessions SET ended_at = now() WHERE token = :token",
    "a demo session": "UPDATE game_sessions SET mode = 'demo' WHERE token = :token",
    "a max bet written as a number": "UPDATE games SET max_bet = '{\"EUR\": 1}' WHERE provider_id = :provider",
    "a min bet written as a number": "UPDATE games SET min_bet = '{\"EUR\": 1}' WHERE provider_id = :provider",
    "a jurisdiction that requires a limit": "UPDATE players SET jurisdiction = 'SE' WHERE id = :player",
    "a rollback that came first": "INSERT INTO provider_transactions (id, provider_id, transaction_uuid, kind, "
    "reference_transaction_uuid, request_hash, status, player_id, amount, rolled_back, raw_request, response, "
    "created_at) VALUES (gen_random_uuid(), :provider, 'rb-' || :tx, 'rollback', :tx, 'h', 'RS_OK', :player, 0, "
    "false, '{}', '{}', now())",
}


# The game switched off, which the one call refuses itself (wallet_play_v2) as the Python path does: INVALID_GAME,
# only the call logged.
BET_GAME_OFF = {
    "a game switched off": "UPDATE games SET enabled = false WHERE provider_id = :provider",
    "a game switched off for the player's country": "UPDATE games SET countries = ARRAY['SE'] "
    "WHERE provider_id = :provider",
    "a game switched off for the brand": "INSERT INTO brand_games (brand_id, game_id, enabled, disabled_countries) "
    "SELECT p.brand_id, g.id, false, '{}' FROM players p, games g WHERE p.id = :player AND g.provider_id = :provider",
    "a game switched off for the brand in the player's country": "INSERT INTO brand_games (brand_id, game_id, "
    "enabled, disabled_countries) SELECT p.brand_id, g.id, true, ARRAY[p.country] FROM players p, games g "
    "WHERE p.id = :player AND g.provider_id = :provider",
}


REFUSED_IN_THE_CALL = ("refused", 1_000, "INVALID_GAME")


@pytest.mark.parametrize(
    ("case", "sql", "expected"),
    [(case, sql, ("fallback", None, None)) for case, sql in sorted(BET_FALLBACKS.items())]
    + [(case, sql, REFUSED_IN_THE_CALL) for case, sql in sorted(BET_GAME_OFF.items())],
)
async def test_a_bet_the_python_path_refuses_is_left_to_it_or_refused_alike_in_the_one_call(
    rt: Any, seat: Any, hub88_provider: Any, case: str, sql: str, expected: tuple[str, int | None, str | None]
) -> None:
    from services.provider_wallet import Kind
    from tests.providers.test_wallet_functions import DIALECT, _command, _counts, _decide, _house

    player = await seat(balance=1_000)
    await _house(rt, player)
    command = _command(hub88_provider, player, Kind.BET, 100)
    async with rt.database.transaction() as db:
        await db.execute(
            text(sql),
            {
                "player": player.player_id,
                "token": player.token,
                "provider": hub88_provider.id,
                "tx": command.transaction_uuid,
            },
        )
    before = await _counts(rt)
    assert await _decide(rt, one_call.params(command, DIALECT, Kind.BET)) == expected, case
    after = await _counts(rt)
    written = {t: after[t] - before[t] for t in after if after[t] != before[t]}
    assert written == ({"provider_calls": 1} if expected == REFUSED_IN_THE_CALL else {})  # a fallback writes nothing
    assert await cash(rt, player.player_id) == 1_000


async def test_a_win_of_a_rolled_back_or_foreign_or_other_currency_bet_is_never_decided_in_the_one_call(
    rt: Any, seat: Any, hub88_provider: Any
) -> None:
    from dataclasses import replace

    from services import provider_wallet
    from services.provider_wallet import Kind
    from tests.providers.test_wallet_functions import DIALECT, _command, _counts, _house, _play

    player, other = await seat(balance=1_000), await seat(balance=1_000)
    await fund(rt, player.player_id, 1_000, "SEK")
    krona = Seat(
        player.user, player.player_id, await open_session(rt, hub88_provider, player.player_id, currency="SEK"), "SEK"
    )
    await _house(rt, player)
    await _house(rt, krona)
    bets = [_command(hub88_provider, p, Kind.BET, 100) for p in (player, player, other, krona)]
    for placed in bets:
        assert (await _play(rt, one_call.params(placed, DIALECT, Kind.BET)))[0] == "done"
    undo = replace(
        _command(hub88_provider, player, Kind.ROLLBACK, 0, reference_uuid=bets[0].transaction_uuid),
        endpoint="/transaction/rollback",
    )
    assert (await provider_wallet.rollback(rt, undo, DIALECT)).result.status.value == "OK"
    wins = {
        "a rolled-back bet": _command(hub88_provider, player, Kind.WIN, 50, reference_uuid=bets[0].transaction_uuid),
        "another player's bet": _command(hub88_provider, player, Kind.WIN, 50, reference_uuid=bets[2].transaction_uuid),
        "a bet in another currency": _command(
            hub88_provider, player, Kind.WIN, 50, reference_uuid=bets[3].transaction_uuid
        ),
        "a win naming its round, not its bet": _command(hub88_provider, player, Kind.WIN, 50),
        "a transaction uuid used before (its bet's)": replace(
            _command(hub88_provider, player, Kind.WIN, 50, reference_uuid=bets[1].transaction_uuid),
            transaction_uuid=bets[1].transaction_uuid,  # a known transaction: the replay's
        ),
    }
    before, money = await _counts(rt), await cash(rt, player.player_id)
    for case, won in wins.items():
        assert await _play(rt, one_call.params(won, DIALECT, Kind.WIN)) == ("fallback", None), case
    assert await _counts(rt) == before
    assert await cash(rt, player.player_id) == money


async def test_bets_racing_their_own_rollbacks_move_money_once_or_not_at_all(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bet (the one call) and its rollback (the Python path) lock the same key: a rollback first leaves the bet
    refused (the one call falls back on its marker), a bet first is undone. Either way the cash is whole."""
    import asyncio

    from tests.ledger.test_ledger import assert_ledger_clean

    counted = Counted(monkeypatch)
    player = await seat(balance=1_000)
    await aggregator.call("transaction/bet", player.bet(0, round_ref="warm"))
    counted.decided.clear()
    calls = []
    for n in range(6):
        placed = player.bet(EUR, round_ref=f"r-{n}")
        undo = aggregator.call("transaction/rollback", player.rollback(placed["transaction_uuid"], round_ref=f"r-{n}"))
        stake = aggregator.call("transaction/bet", placed)
        calls += [stake, undo] if n % 2 else [undo, stake]
    answers = await asyncio.gather(*calls)
    assert {a["status"] for a in answers} <= {"RS_OK", "RS_ERROR_TRANSACTION_DOES_NOT_EXIST"}
    async with rt.database.session() as db:
        refused = (
            await db.execute(
                text(
                    "SELECT count(*) FROM provider_transactions WHERE player_id = :p AND kind = 'bet' "
                    "AND status = 'RS_ERROR_TRANSACTION_DOES_NOT_EXIST'"
                ),
                {"p": player.player_id},
            )
        ).scalar_one()
    assert counted.decided.count(True) == 6 - refused  # a bet that came first was decided in one call
    assert await cash(rt, player.player_id) == 1_000
    await assert_ledger_clean(rt)


@pytest.mark.parametrize(
    "reference",
    [
        "ctl\x01\x08\x0c\x0d\x1f",
        "del\x7f",
        "slash/and<html>&'",
        "\\u0041",
    ],
)
async def test_the_ledger_fingerprint_is_python_s_for_every_ascii_character(rt: Any, reference: str) -> None:
    """Every ASCII character the one call is offered must be escaped as json.dumps escapes it."""
    from services import ledger
    from services.ledger import Entry, Leg

    a, b = uuid.uuid4(), uuid.uuid4()
    entry = Entry("k", "game_bet", (Leg(a, -1), Leg(b, 1)), "provider", None, None, None, "t", reference)
    async with rt.database.session() as db:
        found = (
            await db.execute(
                text(
                    "SELECT ledger_fingerprint_v1('game_bet', NULL, NULL, 't', :rid, "
                    "CAST(:accounts AS uuid[]), CAST(:amounts AS bigint[]))"
                ),
                {"rid": reference, "accounts": [a, b], "amounts": [-1, 1]},
            )
        ).scalar_one()
    assert found == ledger.fingerprint(entry)


async def test_a_transaction_uuid_with_a_delete_character_gets_python_s_ledger_request_hash(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """json.dumps escapes DEL (0x7f) as \\u007f, PostgreSQL's to_json does not: such a reference is not one the
    SQL fingerprint states exactly, so the ledger row's request hash must still be `ledger.fingerprint`'s."""
    from services import ledger
    from services.ledger import Entry, Leg

    player = await seat(balance=1_000)
    await aggregator.call("transaction/bet", player.bet(EUR, round_ref="warm"))  # opens the house account
    tx = f"del\x7f{uuid.uuid4()}"
    counted = Counted(monkeypatch)
    assert (await aggregator.call("transaction/bet", player.bet(EUR, tx=tx)))["status"] == "RS_OK"
    async with rt.database.session() as db:
        row = (
            await db.execute(
                text("SELECT * FROM ledger_transactions WHERE idempotency_key = :k"), {"k": f"provider:hub88:{tx}"}
            )
        ).one()
        legs = (
            await db.execute(
                text("SELECT account_id, amount FROM ledger_postings WHERE transaction_id = :id ORDER BY id"),
                {"id": row.id},
            )
        ).all()
    entry = Entry(
        row.idempotency_key,
        row.kind,
        tuple(Leg(leg.account_id, leg.amount) for leg in legs),
        row.actor_type,
        row.actor_id,
        row.brand_id,
        row.player_id,
        row.reference_type,
        row.reference_id,
    )
    assert row.reference_id == f"hub88:{tx}"
    assert counted.decided in ([True], [])  # decided in one call, or not offered to it
    assert row.request_hash == ledger.fingerprint(entry)
