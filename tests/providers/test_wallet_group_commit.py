"""Group commit of the one call (services/provider_wallet/group_commit.py, sql/wallet/wallet_play_batch_v2.sql),
against the real database: a batch decides each call as the one call would, one after the other; a refusal or an
error is its own call's; two batchers on overlapping players never deadlock; a caller that leaves or a lost
connection touches nobody else's result."""

from __future__ import annotations

import asyncio
import random
import uuid
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from sqlalchemy import text

from core.db import Database
from services.provider_wallet import Kind, one_call
from services.provider_wallet.group_commit import STALL_SECONDS, Batcher
from tests.conftest import recorded_statements
from tests.providers.conftest import Seat, cash
from tests.providers.test_wallet_functions import DIALECT, _command, _house, _play, _rows

ALONE = 1_000


def _batcher(engine: Any, batches: int = 1) -> Batcher:
    return Batcher(engine, one_call.PLAY, batches=batches, max_calls=64)


async def _together(batcher: Batcher, calls: list[dict[str, Any]]) -> list[Any]:
    """Every call asked for in one turn of the event loop: one batch (the test checks `sent`)."""
    return await asyncio.gather(*(batcher.play(call) for call in calls), return_exceptions=True)


def _outcomes(rows: list[Any]) -> list[tuple[str, int | None]]:
    return [(row.outcome, row.balance) for row in rows]


async def test_a_batch_writes_what_the_calls_alone_write(rt: Any, seat: Any, hub88_provider: Any) -> None:
    alone = [await seat(balance=ALONE) for _ in range(4)]
    batched = [await seat(balance=ALONE) for _ in range(4)]
    await _house(rt, alone[0])

    def plays(player: Seat) -> list[Any]:
        bet = _command(hub88_provider, player, Kind.BET, 300)
        won = _command(hub88_provider, player, Kind.WIN, 500, reference_uuid=bet.transaction_uuid, round_closed=True)
        second = replace(_command(hub88_provider, player, Kind.BET, 100), round_ref="r-2")
        return [(bet, Kind.BET), (won, Kind.WIN), (second, Kind.BET)]

    for player in alone:
        for command, kind in plays(player):
            assert (await _play(rt, one_call.params(command, DIALECT, kind)))[0] == "done"
    batcher = _batcher(rt.database.engine)
    steps = [plays(player) for player in batched]
    for step in range(3):  # each step one batch of every player's call, players interleaved
        found = await _together(batcher, [one_call.params(c, DIALECT, k) for c, k in (s[step] for s in steps)])
        assert {row.outcome for row in found} == {"done"}
    assert list(batcher.sent) == [4, 4, 4]
    assert batcher.retried == 0
    for one, other in zip(alone, batched, strict=True):
        assert await cash(rt, other.player_id) == await cash(rt, one.player_id) == ALONE - 300 + 500 - 100
        assert await _rows(rt, other.player_id) == await _rows(rt, one.player_id)


async def test_calls_of_one_player_and_one_transaction_in_a_batch_see_each_other(
    rt: Any, seat: Any, hub88_provider: Any
) -> None:
    player = await seat(balance=ALONE)
    await _house(rt, player)
    first = _command(hub88_provider, player, Kind.BET, 100)
    again = replace(first, request_uuid=str(uuid.uuid4()))  # the same transaction uuid, another request
    second = _command(hub88_provider, player, Kind.BET, 200)
    repeated = replace(second, transaction_uuid=str(uuid.uuid4()))  # the same request uuid, another transaction
    batcher = _batcher(rt.database.engine)
    found = await _together(batcher, [one_call.params(c, DIALECT, Kind.BET) for c in (first, again, second, repeated)])
    assert list(batcher.sent) == [4]
    # one after the other: the second bet sees the first's balance; the repeats find the first's rows
    assert _outcomes(found) == [("done", 900), ("fallback", None), ("done", 700), ("fallback", None)]
    assert await cash(rt, player.player_id) == 700


async def test_a_refusal_in_the_middle_of_a_batch_is_its_own(
    rt: Any, seat: Any, hub88_provider: Any, aggregator: Any
) -> None:
    rich, poor, other = await seat(balance=ALONE), await seat(balance=50), await seat(balance=ALONE)
    await _house(rt, rich)
    calls = [_command(hub88_provider, p, Kind.BET, 100) for p in (rich, poor, other)]
    batcher = _batcher(rt.database.engine)
    found = await _together(batcher, [one_call.params(c, DIALECT, Kind.BET) for c in calls])
    assert _outcomes(found) == [("done", 900), ("fallback", None), ("done", 900)]
    assert await cash(rt, poor.player_id) == 50
    # end to end: the refused bet is answered by the Python path; its neighbours by the batch
    answers = await asyncio.gather(*(aggregator.call("transaction/bet", p.bet(100_000)) for p in (rich, poor, other)))
    assert [a["status"] for a in answers] == ["RS_OK", "RS_ERROR_NOT_ENOUGH_MONEY", "RS_OK"]
    assert [a["balance"] for a in answers] == [800_000, 50_000, 800_000]


async def test_the_games_refusals_in_a_batch_are_each_calls_own(rt: Any, seat: Any, hub88_provider: Any) -> None:
    """wallet_play_v2's refusals (the game's min and max bet, its certification, its withdrawal) in one batch: each
    call its own row, the others decided around it as if alone, one after the other."""
    plain, abroad, same = await seat(balance=ALONE), await seat(balance=ALONE), await seat(balance=ALONE)
    await _house(rt, plain)
    earlier = _command(hub88_provider, same, Kind.BET, 100)
    assert await _play(rt, one_call.params(earlier, DIALECT, Kind.BET)) == ("done", 900)
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE players SET country = 'GB' WHERE id = :p"), {"p": abroad.player_id})
        await db.execute(text("UPDATE games SET jurisdictions = ARRAY['MT', 'SE'] WHERE code = 'slot-fortune'"))
    calls = [
        (_command(hub88_provider, plain, Kind.BET, 100), Kind.BET),
        (_command(hub88_provider, plain, Kind.BET, 9), Kind.BET),  # below the min bet (0.10)
        (_command(hub88_provider, abroad, Kind.BET, 100), Kind.BET),  # not certified in GB
        (_command(hub88_provider, same, Kind.BET, 50_001), Kind.BET),  # above the max bet (500.00)
        (_command(hub88_provider, plain, Kind.BET, 200), Kind.BET),
        (_command(hub88_provider, same, Kind.WIN, 7, reference_uuid=earlier.transaction_uuid), Kind.WIN),
    ]
    batcher = _batcher(rt.database.engine)
    found = await _together(batcher, [one_call.params(c, DIALECT, k) for c, k in calls])
    assert list(batcher.sent) == [6]
    assert batcher.retried == 0
    assert [(row.outcome, row.balance, row.refusal) for row in found] == [
        ("done", 900, None),
        ("refused", 900, "LIMIT_REACHED"),  # the balance the call before it left
        ("refused", ALONE, "NOT_CERTIFIED"),
        ("refused", 900, "LIMIT_REACHED"),
        ("done", 700, None),
        ("done", 907, None),
    ]
    async with rt.database.session() as db:
        logged = (
            await db.execute(
                text("SELECT request_uuid, response ->> 'status' FROM provider_calls WHERE request_uuid = ANY(:r)"),
                {"r": [c.request_uuid for c, _ in calls]},
            )
        ).all()
    assert dict(logged) == {
        c.request_uuid: status
        for (c, _), status in zip(
            calls,
            ["RS_OK", "RS_ERROR_LIMIT_REACHED", "RS_ERROR_LIMIT_REACHED", "RS_ERROR_LIMIT_REACHED", "RS_OK", "RS_OK"],
            strict=True,
        )
    }
    assert [await cash(rt, p.player_id) for p in (plain, abroad, same)] == [700, ALONE, 907]

    # The game withdrawn: a batch refuses the new bet and still pays the earlier bet's second win.
    async with rt.database.transaction() as db:
        await db.execute(text("UPDATE games SET enabled = false, withdrawn_at = now() WHERE code = 'slot-fortune'"))
    found = await _together(
        batcher,
        [
            one_call.params(_command(hub88_provider, plain, Kind.BET, 100), DIALECT, Kind.BET),
            one_call.params(
                _command(hub88_provider, same, Kind.WIN, 3, reference_uuid=earlier.transaction_uuid), DIALECT, Kind.WIN
            ),
        ],
    )
    assert [(row.outcome, row.balance, row.refusal) for row in found] == [
        ("refused", 700, "INVALID_GAME"),
        ("done", 910, None),
    ]


async def test_an_error_in_one_call_of_a_batch_fails_that_call_alone(rt: Any, seat: Any, hub88_provider: Any) -> None:
    players = [await seat(balance=ALONE) for _ in range(3)]
    await _house(rt, players[0])
    calls = [one_call.params(_command(hub88_provider, p, Kind.BET, 100), DIALECT, Kind.BET) for p in players]
    calls[1] = {**calls[1], "units_mul": 2**62}  # its answer's balance overflows a bigint: the statement fails
    batcher = _batcher(rt.database.engine)
    found = await _together(batcher, calls)
    assert list(batcher.sent) == [3]
    assert batcher.retried == 1  # rolled back whole, then each call alone
    assert _outcomes([found[0], found[2]]) == [("done", 900), ("done", 900)]
    assert isinstance(found[1], asyncpg.PostgresError)
    assert found[1].sqlstate == one_call.OUT_OF_RANGE  # what the one call alone raises: the Python path decides
    assert [await cash(rt, p.player_id) for p in players] == [900, ALONE, 900]


async def test_a_lone_call_that_fails_is_sent_once(rt: Any, seat: Any, hub88_provider: Any) -> None:
    """A call that finds a slot free is exactly the one call: its error is raised to it, not sent a second time."""
    player = await seat(balance=ALONE)
    await _house(rt, player)
    call = {**one_call.params(_command(hub88_provider, player, Kind.BET, 100), DIALECT, Kind.BET), "units_mul": 2**62}
    batcher = _batcher(rt.database.engine)
    with recorded_statements(rt) as statements, pytest.raises(asyncpg.PostgresError) as failed:
        await batcher.play(call)
    assert failed.value.sqlstate == one_call.OUT_OF_RANGE
    assert list(batcher.sent) == [1]
    assert batcher.retried == 0
    assert len([s for s in statements if "wallet_play_v2(" in s]) == 1
    assert await cash(rt, player.player_id) == ALONE


async def test_a_caller_that_leaves_takes_only_its_own_call(rt: Any, seat: Any, hub88_provider: Any) -> None:
    held, *players = [await seat(balance=ALONE) for _ in range(4)]
    await _house(rt, held)
    batcher = _batcher(rt.database.engine)
    calls = [one_call.params(_command(hub88_provider, p, Kind.BET, 100), DIALECT, Kind.BET) for p in (held, *players)]
    async with rt.database.engine.connect() as blocker:  # holds the first player's cash row: its call waits
        await blocker.execute(
            text("SELECT 1 FROM ledger_accounts WHERE owner_id = :p AND purpose = 'cash' FOR UPDATE"),
            {"p": str(held.player_id)},
        )
        first = asyncio.create_task(batcher.play(calls[0]))
        for _ in range(1_000):  # until the first call went (alone: the slot was free) and waits for the row
            if batcher.sent:
                break
            await asyncio.sleep(0.01)
        waiting = [asyncio.create_task(batcher.play(call)) for call in calls[1:]]
        await asyncio.sleep(0.05)
        waiting[1].cancel()
        await blocker.rollback()
    assert (await first).outcome == "done"
    assert [(await w).outcome for w in (waiting[0], waiting[2])] == ["done", "done"]
    assert waiting[1].cancelled()
    assert list(batcher.sent) == [1, 2]
    assert [await cash(rt, p.player_id) for p in players] == [900, ALONE, 900]


async def test_a_batcher_stopped_while_it_resends_a_failed_batch_leaves_no_caller_waiting(
    rt: Any, seat: Any, hub88_provider: Any
) -> None:
    players = [await seat(balance=ALONE) for _ in range(3)]
    await _house(rt, players[0])
    calls = [one_call.params(_command(hub88_provider, p, Kind.BET, 100), DIALECT, Kind.BET) for p in players]
    calls[0] = {**calls[0], "units_mul": 2**62}  # fails the batch: its calls are then sent alone
    batcher = _batcher(rt.database.engine)
    async with rt.database.engine.connect() as blocker:
        # the last call's request uuid, logged by a transaction still open: the batch fails before it reaches that
        # call; sent alone, the call waits on the log's unique index
        last = calls[2]
        await blocker.execute(
            text("SELECT wallet_log_call_v1(:id, :provider, :endpoint, :request, :tx, :raw, '{}', now())"),
            {"id": uuid.uuid4(), **{name: last[name] for name in ("provider", "endpoint", "request", "tx", "raw")}},
        )
        callers = [asyncio.create_task(batcher.play(call)) for call in calls]
        for _ in range(1_000):  # until the batch failed and its second call, sent alone, is done
            if callers[1].done():
                break
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.1)
        (sending,) = batcher._running  # the process stops: its tasks are cancelled
        sending.cancel()
        found = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), timeout=10)
        await blocker.rollback()
    assert list(batcher.sent) == [3]
    assert batcher.retried == 1
    assert isinstance(found[0], asyncpg.PostgresError)
    assert found[1].outcome == "done"
    assert isinstance(found[2], ConnectionError)  # answered (as a database failure), not left waiting


async def test_a_lost_connection_fails_every_caller_of_the_batch_as_alone(
    rt: Any, seat: Any, hub88_provider: Any
) -> None:
    player = await seat(balance=ALONE)
    nowhere = Database(str(rt.database.engine.url.set(port=1).render_as_string(hide_password=False)))
    try:
        calls = [one_call.params(_command(hub88_provider, player, Kind.BET, 100), DIALECT, Kind.BET) for _ in range(3)]
        with pytest.raises(Exception) as alone:
            await one_call.play(nowhere.engine, _command(hub88_provider, player, Kind.BET, 100), DIALECT, Kind.BET)
        batcher = _batcher(nowhere.engine)
        found = await _together(batcher, calls)
    finally:
        await nowhere.dispose()
    assert list(batcher.sent) == [3]
    assert [type(error) for error in found] == [alone.type] * 3
    assert await cash(rt, player.player_id) == ALONE


async def test_two_batchers_on_overlapping_players_never_deadlock(rt: Any, seat: Any, hub88_provider: Any) -> None:
    players = [await seat(balance=100_000) for _ in range(5)]
    await _house(rt, players[0])
    other = Database(rt.database.engine.url.render_as_string(hide_password=False), pool_size=4, max_overflow=0)
    batchers = [_batcher(rt.database.engine, batches=2), _batcher(other.engine, batches=2)]
    shuffle = random.Random(15)
    try:

        async def hammer(batcher: Batcher) -> list[Any]:
            order = [p for p in players for _ in range(12)]
            shuffle.shuffle(order)
            calls = [one_call.params(_command(hub88_provider, p, Kind.BET, 10), DIALECT, Kind.BET) for p in order]
            return await asyncio.wait_for(asyncio.gather(*(batcher.play(c) for c in calls)), timeout=60)

        found = await asyncio.gather(*(hammer(b) for b in batchers))
    finally:
        await other.dispose()
    assert {row.outcome for rows in found for row in rows} == {"done"}
    assert [b.retried for b in batchers] == [0, 0]  # no batch rolled back: no deadlock was detected
    assert max(size for b in batchers for size in b.sent) > 1
    assert [await cash(rt, p.player_id) for p in players] == [100_000 - 24 * 10] * 5
    from tests.conftest import DATABASE_URL, REDIS_URL
    from tests.faults import books

    books.ledger_verify(DATABASE_URL, REDIS_URL)


async def test_a_held_cash_row_holds_up_only_its_own_batch(rt: Any, seat: Any, hub88_provider: Any) -> None:
    """Found by review: both slots waiting on one player's locked cash row left every other call of the process
    waiting as long as the lock was held. A batch in flight past STALL_SECONDS gives up its slot."""
    held, free = await seat(balance=ALONE), await seat(balance=ALONE)
    await _house(rt, held)
    batcher = _batcher(rt.database.engine, batches=2)

    def bet(seat_: Seat) -> dict[str, Any]:
        return one_call.params(_command(hub88_provider, seat_, Kind.BET, 100), DIALECT, Kind.BET)

    async with rt.database.engine.connect() as blocker:
        await blocker.execute(
            text("SELECT 1 FROM ledger_accounts WHERE owner_id = :player AND purpose = 'cash' FOR UPDATE"),
            {"player": str(held.player_id)},
        )
        stuck = [asyncio.create_task(batcher.play(bet(held))) for _ in range(2)]  # each alone: both slots
        await asyncio.sleep(STALL_SECONDS + 0.2)
        answered = await asyncio.wait_for(batcher.play(bet(free)), timeout=5)
        assert answered.outcome == "done"
        assert not any(task.done() for task in stuck)  # still waiting for the lock, as they must
        await blocker.rollback()
    found = await asyncio.wait_for(asyncio.gather(*stuck), timeout=10)
    assert [row.outcome for row in found] == ["done", "done"]
    assert await cash(rt, held.player_id) == ALONE - 200
    assert await cash(rt, free.player_id) == ALONE - 100
