"""The wallet's PostgreSQL functions (sql/wallet/), called directly against the real database: what the one
call decides and writes for a new bet and win, the bets it refuses itself (the game's own rules: switched off or
withdrawn, not certified in the player's country, outside its min or max bet), that everything else it leaves
untouched for the Python path, and that its rows are the ones the Python path writes (the same answer, ledger
request hash, event payload, call log)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import text

from core import prepared
from core.money import parse_amount
from integrations.hub88 import Hub88Dialect
from models.ledger import AccountPurpose
from services import ledger, wallet
from services.ledger import Entry, Leg
from services.provider_wallet import Kind, ProviderRef, WalletCommand, one_call
from tests.providers.conftest import GAME, HUB88, Aggregator, Seat, cash, one_call_decisions

EUR = 100_000  # one euro in Hub88 units
DIALECT = Hub88Dialect()
WRITTEN = (
    "ledger_transactions",
    "ledger_postings",
    "outbox_events",
    "rg_activity_days",
    "game_rounds",
    "provider_transactions",
    "provider_calls",
)


async def _play(rt: Any, params: dict[str, Any]) -> tuple[str, int | None]:
    outcome, balance, _ = await _decide(rt, params)
    return outcome, balance


async def _decide(rt: Any, params: dict[str, Any]) -> tuple[str, int | None, str | None]:
    async with rt.database.transaction() as db:
        found = await prepared.one(db, one_call.PLAY, params)
    return found.outcome, found.balance, found.refusal


async def _counts(rt: Any) -> dict[str, int]:
    async with rt.database.session() as db:
        return {t: (await db.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in WRITTEN}


async def _house(rt: Any, seat: Seat) -> uuid.UUID:
    async with rt.database.transaction() as db:
        brand_id = (
            await db.execute(text("SELECT brand_id FROM players WHERE id = :id"), {"id": seat.player_id})
        ).scalar_one()
        return await wallet.operator_account(db, brand_id, AccountPurpose.HOUSE_REVENUE, seat.currency)


def _command(provider: Any, seat: Seat, kind: Kind, amount: int, **extra: Any) -> WalletCommand:
    return WalletCommand(
        provider=ProviderRef(provider.id, HUB88),
        endpoint=f"/transaction/{kind.value}",
        raw_request=b'{"raw": true}',
        request_uuid=str(uuid.uuid4()),
        user=seat.user,
        token=seat.token,
        transaction_uuid=str(uuid.uuid4()),
        round_ref="r-1",
        game_code=GAME,
        currency=seat.currency,
        amount=amount,
        **extra,
    )


@pytest.mark.parametrize(
    "reference",
    ["hub88:6f1c", 'quote " and back\\slash', "tab\tand\nnew line", None],
)
async def test_the_ledger_fingerprint_is_pythons(rt: Any, reference: str | None) -> None:
    a, b = uuid.uuid4(), uuid.uuid4()
    entries = [
        Entry(
            "k",
            "game_bet",
            (Leg(a, -100), Leg(b, 100)),
            "provider",
            None,
            uuid.uuid4(),
            uuid.uuid4(),
            "provider_transaction",
            reference,
        ),
        Entry("k", "game_win", (Leg(b, -7), Leg(a, 5), Leg(a, 2)), "provider", None, None, None, None, reference),
    ]
    async with rt.database.session() as db:
        for entry in entries:
            found = (
                await db.execute(
                    text(
                        "SELECT ledger_fingerprint_v1(:kind, :brand, :player, :rtype, :rid, "
                        "CAST(:accounts AS uuid[]), CAST(:amounts AS bigint[]))"
                    ),
                    {
                        "kind": entry.kind,
                        "brand": entry.brand_id,
                        "player": entry.player_id,
                        "rtype": entry.reference_type,
                        "rid": entry.reference_id,
                        "accounts": [leg.account_id for leg in entry.legs],
                        "amounts": [leg.amount for leg in entry.legs],
                    },
                )
            ).scalar_one()
            assert found == ledger.fingerprint(entry)


@pytest.mark.parametrize(
    ("written", "currency"),
    [
        ("500.00", "EUR"),
        ("500", "EUR"),
        (" 5.5 ", "EUR"),
        ("0.001", "EUR"),
        ("abc", "EUR"),
        ("1e3", "EUR"),
        ("0", "EUR"),
        ("10000000000000.00", "EUR"),
        ("10000000000000.01", "EUR"),
        ("5000", "JPY"),
        ("5.5", "JPY"),
        ("0.00000001", "BTC"),
    ],
)
async def test_a_max_bet_reads_as_parse_amount_reads_it(rt: Any, written: str, currency: str) -> None:
    from core.money import CURRENCIES

    try:
        expected: int | None = parse_amount(written, currency, allow_zero=True)
    except Exception:
        expected = None
    async with rt.database.session() as db:
        found = (
            await db.execute(
                text("SELECT wallet_max_bet_v1(:t, :e)"), {"t": written, "e": CURRENCIES[currency].exponent}
            )
        ).scalar_one()
    assert found == expected


async def test_a_bet_and_its_win_are_decided_in_one_call(rt: Any, seat: Any, hub88_provider: Any) -> None:
    player = await seat(balance=1_000)
    house = await _house(rt, player)
    bet = _command(hub88_provider, player, Kind.BET, 100)
    params = one_call.params(bet, DIALECT, Kind.BET)
    assert await _play(rt, params) == ("done", 900)
    assert await cash(rt, player.player_id) == 900

    async with rt.database.session() as db:
        tx = (
            await db.execute(text("SELECT * FROM ledger_transactions WHERE id = :id"), {"id": params["ids"][0]})
        ).one()
        postings = (
            await db.execute(
                text(
                    "SELECT account_id, amount, balance_after FROM ledger_postings WHERE transaction_id = :id "
                    "ORDER BY id"
                ),
                {"id": tx.id},
            )
        ).all()
        stored = (
            await db.execute(
                text("SELECT * FROM provider_transactions WHERE transaction_uuid = :tx"), {"tx": bet.transaction_uuid}
            )
        ).one()
        call = (
            await db.execute(
                text("SELECT response FROM provider_calls WHERE request_uuid = :r"), {"r": bet.request_uuid}
            )
        ).scalar_one()
        event = (await db.execute(text("SELECT * FROM outbox_events ORDER BY id DESC LIMIT 1"))).one()
        day = (
            await db.execute(
                text("SELECT wagered, won FROM rg_activity_days WHERE player_id = :p"), {"p": player.player_id}
            )
        ).one()
    cash_account = postings[0].account_id
    assert [(p.amount, p.balance_after) for p in postings] == [(-100, 900), (100, None)]
    assert postings[1].account_id == house
    assert (tx.idempotency_key, tx.kind, tx.status) == (
        f"provider:{HUB88}:{bet.transaction_uuid}",
        "game_bet",
        "committed",
    )
    assert tx.request_hash == ledger.fingerprint(
        Entry(
            tx.idempotency_key,
            "game_bet",
            (Leg(cash_account, -100), Leg(house, 100)),
            "provider",
            hub88_provider.id,
            tx.brand_id,
            player.player_id,
            "provider_transaction",
            f"{HUB88}:{bet.transaction_uuid}",
        )
    )
    body = {
        "user": player.user,
        "status": "RS_OK",
        "request_uuid": bet.request_uuid,
        "currency": "EUR",
        "balance": 900 * 1000,
    }
    assert stored.response == body
    assert call == body
    assert (stored.status, stored.balance_after, stored.ledger_transaction_id) == ("RS_OK", 900, tx.id)
    assert event.topic == "ledger.game_bet"
    assert event.key == f"player:{player.player_id}"
    assert event.payload == {
        "transaction_id": str(tx.id),
        "kind": "game_bet",
        "player_id": str(player.player_id),
        "currency": "EUR",
        "cash": -100,
        "bonus": 0,
        "pending": 0,
        "balances": {"cash": 900},
        "reference_type": "provider_transaction",
        "reference_id": f"{HUB88}:{bet.transaction_uuid}",
        "game": GAME,
        "provider": HUB88,
        "round": "r-1",
        "provider_reference": None,
    }
    assert (day.wagered, day.won) == (100, 0)

    won = _command(hub88_provider, player, Kind.WIN, 250, reference_uuid=bet.transaction_uuid, round_closed=True)
    assert await _play(rt, one_call.params(won, DIALECT, Kind.WIN)) == ("done", 1_150)
    lost = _command(hub88_provider, player, Kind.WIN, 0, reference_uuid=bet.transaction_uuid)
    before = await _counts(rt)
    assert await _play(rt, one_call.params(lost, DIALECT, Kind.WIN)) == ("done", 1_150)
    after = await _counts(rt)
    assert {t: after[t] - before[t] for t in WRITTEN if after[t] != before[t]} == {
        "provider_transactions": 1,
        "provider_calls": 1,  # a win of nothing: no money, the round already open
    }
    async with rt.database.session() as db:
        rounds = (await db.execute(text("SELECT total_bet, total_win, status FROM game_rounds"))).all()
    assert [tuple(r) for r in rounds] == [(100, 250, "closed")]


Setup = Callable[[Any, Seat, WalletCommand], Any]


async def _known_request(rt: Any, seat: Seat, command: WalletCommand) -> WalletCommand:
    async with rt.database.transaction() as db:
        await db.execute(
            text(
                "INSERT INTO provider_calls (id, provider_id, endpoint, request_uuid, raw_request, response, "
                "http_status, created_at) VALUES (gen_random_uuid(), :p, :e, :r, '{}', '{}', 200, now())"
            ),
            {"p": command.provider.id, "e": command.endpoint, "r": command.request_uuid},
        )
    return command


async def _rg_limit(rt: Any, seat: Seat, command: WalletCommand) -> WalletCommand:
    from models.rg import RgLimit

    async with rt.database.transaction() as db:
        db.add(RgLimit(player_id=seat.player_id, kind="wager", period="day", amount=100_000, currency="EUR"))
    return command


async def _as_is(rt: Any, seat: Seat, command: WalletCommand) -> WalletCommand:
    return command


async def _unreadable_min_bet(rt: Any, seat: Seat, command: WalletCommand) -> WalletCommand:
    await _game(rt, 'UPDATE games SET min_bet = \'{"EUR": "0.001"}\' WHERE code = :game')
    return command


async def _game(rt: Any, sql: str) -> None:
    async with rt.database.transaction() as db:
        await db.execute(text(sql), {"game": GAME})


@pytest.mark.parametrize(
    ("case", "kind", "amount", "setup", "change"),
    [
        ("a repeated call", Kind.BET, 100, _known_request, {}),
        ("not enough money", Kind.BET, 1_001, _as_is, {}),
        ("an RG limit", Kind.BET, 100, _rg_limit, {}),
        ("a min bet that does not read (logged, let through)", Kind.BET, 100, _unreadable_min_bet, {}),
        ("another player's token", Kind.BET, 100, _as_is, {"token": "nobody"}),
        ("a currency the player has no account in", Kind.BET, 100, _as_is, {"currency": "SEK"}),
        ("a win of no bet", Kind.WIN, 100, _as_is, {"reference_uuid": "never-seen"}),
    ],
)
async def test_what_the_call_does_not_decide_it_leaves_to_python_untouched(
    rt: Any,
    seat: Any,
    hub88_provider: Any,
    case: str,
    kind: Kind,
    amount: int,
    setup: Setup,
    change: dict[str, Any],
) -> None:
    player = await seat(balance=1_000)
    await _house(rt, player)
    command = await setup(rt, player, replace(_command(hub88_provider, player, kind, amount), **change))
    before = await _counts(rt)
    assert await _play(rt, one_call.params(command, DIALECT, kind)) == ("fallback", None), case
    assert await _counts(rt) == before
    assert await cash(rt, player.player_id) == 1_000


# The game's own rules the one call decides itself (bet.py `_unplayable`): the fixture's game has a min bet of 0.10
# and a max bet of 500.00 EUR (10 and 50,000 minor units) and declares no certification.
GAME_REFUSALS: dict[str, tuple[str | None, int, str, str]] = {
    "a game a catalogue sync withdrew": (
        "UPDATE games SET enabled = false, withdrawn_at = now() WHERE code = :game",
        100,
        "INVALID_GAME",
        "RS_ERROR_INVALID_GAME",
    ),
    "a game no longer certified in the player's country (MT)": (
        "UPDATE games SET jurisdictions = ARRAY['SE', 'FI'] WHERE code = :game",
        100,
        "NOT_CERTIFIED",
        "RS_ERROR_LIMIT_REACHED",
    ),
    "a stake above the game's max bet": (None, 50_001, "LIMIT_REACHED", "RS_ERROR_LIMIT_REACHED"),
    "a stake below the game's min bet": (None, 9, "LIMIT_REACHED", "RS_ERROR_LIMIT_REACHED"),
    "below a min bet a sync raised": (
        'UPDATE games SET min_bet = \'{"EUR": "2.00"}\' WHERE code = :game',
        199,
        "LIMIT_REACHED",
        "RS_ERROR_LIMIT_REACHED",
    ),
}


@pytest.mark.parametrize("case", sorted(GAME_REFUSALS))
async def test_a_bet_the_games_rules_refuse_is_refused_in_the_one_call(
    rt: Any, seat: Any, hub88_provider: Any, case: str
) -> None:
    change, amount, refusal, code = GAME_REFUSALS[case]
    player = await seat(balance=100_000)
    await _house(rt, player)
    if change is not None:
        await _game(rt, change)
    bet = _command(hub88_provider, player, Kind.BET, amount)
    before = await _counts(rt)
    assert await _decide(rt, one_call.params(bet, DIALECT, Kind.BET)) == ("refused", 100_000, refusal), case
    after = await _counts(rt)
    assert {t: after[t] - before[t] for t in WRITTEN if after[t] != before[t]} == {"provider_calls": 1}
    async with rt.database.session() as db:
        logged = (
            await db.execute(
                text("SELECT response FROM provider_calls WHERE request_uuid = :r"), {"r": bet.request_uuid}
            )
        ).scalar_one()
    assert logged == {
        "user": player.user,
        "status": code,
        "request_uuid": bet.request_uuid,
        "currency": "EUR",
        "balance": 100_000 * 1000,
    }
    assert await cash(rt, player.player_id) == 100_000


@pytest.mark.parametrize(
    ("case", "change", "amount"),
    [
        ("certified in the player's country", "UPDATE games SET jurisdictions = ARRAY['MT'] WHERE code = :game", 100),
        ("no certification declared: not restricted", None, 100),
        ("exactly the min bet", None, 10),
        ("exactly the max bet", None, 50_000),
        ("a zero stake is no stake: below no min", None, 0),
        (
            "a currency the limits do not name",
            "UPDATE games SET min_bet = '{\"SEK\": \"1\"}', max_bet = '{}' WHERE code = :game",
            1,
        ),
    ],
)
async def test_a_bet_the_games_rules_allow_is_decided_in_the_one_call(
    rt: Any, seat: Any, hub88_provider: Any, case: str, change: str | None, amount: int
) -> None:
    player = await seat(balance=100_000)
    await _house(rt, player)
    if change is not None:
        await _game(rt, change)
    bet = _command(hub88_provider, player, Kind.BET, amount)
    assert await _decide(rt, one_call.params(bet, DIALECT, Kind.BET)) == ("done", 100_000 - amount, None), case


async def test_a_win_of_a_bet_on_a_withdrawn_or_decertified_game_is_paid_in_the_one_call(
    rt: Any, seat: Any, hub88_provider: Any
) -> None:
    player = await seat(balance=1_000)
    await _house(rt, player)
    bets = [_command(hub88_provider, player, Kind.BET, 100) for _ in range(2)]
    for placed, left in zip(bets, (900, 800), strict=True):
        assert await _play(rt, one_call.params(placed, DIALECT, Kind.BET)) == ("done", left)
    await _game(
        rt,
        "UPDATE games SET enabled = false, withdrawn_at = now(), jurisdictions = ARRAY['SE'], "
        'min_bet = \'{"EUR": "100.00"}\' WHERE code = :game',
    )
    won = _command(hub88_provider, player, Kind.WIN, 1, reference_uuid=bets[0].transaction_uuid, round_closed=True)
    assert await _decide(rt, one_call.params(won, DIALECT, Kind.WIN)) == ("done", 801, None)  # below any min: a win
    assert await cash(rt, player.player_id) == 801


async def test_a_known_transaction_is_left_to_the_replay(rt: Any, seat: Any, hub88_provider: Any) -> None:
    player = await seat(balance=1_000)
    await _house(rt, player)
    bet = _command(hub88_provider, player, Kind.BET, 100)
    assert (await _play(rt, one_call.params(bet, DIALECT, Kind.BET)))[0] == "done"
    before = await _counts(rt)
    again = replace(bet, request_uuid=str(uuid.uuid4()))
    assert await _play(rt, one_call.params(again, DIALECT, Kind.BET)) == ("fallback", None)
    assert await _counts(rt) == before


async def test_a_changed_provider_row_is_stale_and_writes_nothing(rt: Any, seat: Any, hub88_provider: Any) -> None:
    player = await seat(balance=1_000)
    await _house(rt, player)
    bet = _command(hub88_provider, player, Kind.BET, 100)
    bet = replace(bet, provider=replace(bet.provider, version="1"))  # not the row's xmin
    before = await _counts(rt)
    assert await _play(rt, one_call.params(bet, DIALECT, Kind.BET)) == ("stale", None)
    assert await _counts(rt) == before


# A player's rows, less what differs by construction (ids, times, request and transaction uuids).
ROWS = {
    "transactions": """
SELECT kind, status, amount, currency, balance_after, rolled_back, response - 'request_uuid' - 'user' AS response,
       ledger_transaction_id IS NOT NULL AS booked, round_id IS NOT NULL AS in_round
FROM provider_transactions WHERE player_id = :p ORDER BY created_at""",
    "ledger": """
SELECT kind, status, details - 'reference', details ? 'reference', actor_type, reference_type
FROM ledger_transactions WHERE player_id = :p ORDER BY created_at""",
    "events": """
SELECT topic, schema_version, payload - 'transaction_id' - 'player_id' - 'reference_id' - 'provider_reference',
       payload ? 'provider_reference'
FROM outbox_events WHERE key = 'player:' || :p AND topic LIKE 'ledger.game_%' ORDER BY id""",
    "days": "SELECT currency, wagered, won FROM rg_activity_days WHERE player_id = :p",
    "rounds": """
SELECT round_ref, status, total_bet, total_win, game_id IS NOT NULL, session_id IS NOT NULL
FROM game_rounds WHERE player_id = :p ORDER BY round_ref""",
}


async def _rows(rt: Any, player_id: uuid.UUID) -> dict[str, list[tuple[Any, ...]]]:
    async with rt.database.session() as db:
        return {
            part: [tuple(r) for r in (await db.execute(text(sql), {"p": str(player_id)})).all()]
            for part, sql in ROWS.items()
        }


async def test_the_one_call_writes_what_the_python_path_writes(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def play(player: Seat) -> list[str]:
        answers = []
        for n, (amount, win) in enumerate([(EUR, 2 * EUR), (3 * EUR, 0), (EUR, EUR // 2)]):
            bet = player.bet(amount, round_ref=f"r-{n}")
            answers.append(json.dumps(await aggregator.call("transaction/bet", bet)))
            won = player.win(win, bet["transaction_uuid"], round_ref=f"r-{n}")
            answers.append(json.dumps(await aggregator.call("transaction/win", won)))
        return answers

    python_player, sql_player = await seat(balance=1_000), await seat(balance=1_000)
    await aggregator.call("transaction/bet", python_player.bet(0, round_ref="warm"))  # the house account exists
    with monkeypatch.context() as patched:
        patched.setattr(one_call, "eligible", lambda *args: False)
        by_python = await play(python_player)
    played: list[Any] = []
    original = one_call.play

    async def counted(*args: Any) -> Any:
        decided = await original(*args)
        played.append(decided is not None)
        return decided

    monkeypatch.setattr(one_call, "play", counted)
    by_sql = await play(sql_player)
    assert played == [True] * 6  # every call decided in one call
    strip = [(python_player.user, "U"), (sql_player.user, "U")]

    def neutral(answers: list[str]) -> list[dict[str, Any]]:
        out = []
        for answer in answers:
            for old, new in strip:
                answer = answer.replace(old, new)
            body = json.loads(answer)
            body.pop("request_uuid")
            out.append(body)
        return out

    assert neutral(by_sql) == neutral(by_python)
    assert await cash(rt, sql_player.player_id) == await cash(rt, python_player.player_id)
    python_rows, sql_rows = await _rows(rt, python_player.player_id), await _rows(rt, sql_player.player_id)
    python_rows["transactions"] = python_rows["transactions"][1:]  # the warm-up bet
    python_rows["rounds"] = [r for r in python_rows["rounds"] if r[0] != "warm"]
    for part in python_rows:
        assert sql_rows[part] == python_rows[part], part


async def test_racing_calls_through_the_one_call_move_money_once_and_never_below_zero(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    decided: list[bool] = []
    original = one_call.play

    async def counted(*args: Any) -> Any:
        result = await original(*args)
        decided.append(result is not None)
        return result

    monkeypatch.setattr(one_call, "play", counted)
    player = await seat(balance=1_000)
    await aggregator.call("transaction/bet", player.bet(EUR, round_ref="warm"))  # opens the house account
    decided.clear()
    bet = player.bet(3 * EUR)
    answers = await asyncio.gather(
        *(aggregator.call("transaction/bet", {**bet, "request_uuid": str(uuid.uuid4())}) for _ in range(8))
    )
    assert {(a["status"], a["balance"]) for a in answers} == {("RS_OK", 600 * 1000)}
    assert decided.count(True) == 1  # one decided it; the others, waiting on its key, were replayed in Python
    assert await cash(rt, player.player_id) == 600

    decided.clear()
    bets = [player.bet(2 * EUR, round_ref=f"r-{n}") for n in range(6)]  # 12.00 asked of 6.00
    answers = await asyncio.gather(*(aggregator.call("transaction/bet", b) for b in bets))
    accepted = [a for a in answers if a["status"] == "RS_OK"]
    assert len(accepted) == 3
    assert {a["status"] for a in answers if a["status"] != "RS_OK"} == {"RS_ERROR_NOT_ENOUGH_MONEY"}
    assert decided.count(True) == 3  # the accepted ones in one call each, the refusals in Python
    assert sorted(a["balance"] for a in accepted) == [0, 200 * 1000, 400 * 1000]
    assert await cash(rt, player.player_id) == 0


@pytest.mark.parametrize("case", sorted(GAME_REFUSALS))
async def test_a_refusal_in_the_one_call_answers_and_logs_what_the_python_path_does(
    aggregator: Aggregator, seat: Any, rt: Any, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    change, amount, _, code = GAME_REFUSALS[case]
    python_player, sql_player = await seat(balance=100_000), await seat(balance=100_000)
    await aggregator.call("transaction/bet", python_player.bet(0, round_ref="warm"))  # the house account exists
    if change is not None:
        await _game(rt, change)
    with monkeypatch.context() as patched:
        patched.setattr(one_call, "eligible", lambda *args: False)
        by_python = await aggregator.call("transaction/bet", python_player.bet(amount * 1000))
    decided = one_call_decisions(monkeypatch)
    by_sql = await aggregator.call("transaction/bet", sql_player.bet(amount * 1000))
    assert decided == [GAME_REFUSALS[case][2]]  # refused in the one call, no Python transaction after it

    def neutral(body: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k not in ("user", "request_uuid")}

    assert neutral(by_sql) == neutral(by_python) == {"status": code, "currency": "EUR", "balance": 100_000 * 1000}
    async with rt.database.session() as db:
        logged = [
            neutral(
                (
                    await db.execute(
                        text("SELECT response FROM provider_calls WHERE request_uuid = :r"),
                        {"r": answer["request_uuid"]},
                    )
                ).scalar_one()
            )
            for answer in (by_python, by_sql)
        ]
    assert logged[0] == logged[1] == neutral(by_sql)
    assert (await _rows(rt, sql_player.player_id))["transactions"] == []  # a refusal records no transaction
    assert await cash(rt, sql_player.player_id) == await cash(rt, python_player.player_id) == 100_000
