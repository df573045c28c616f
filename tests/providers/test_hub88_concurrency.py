"""Concurrency as the aggregator produces it: retries racing their originals (1 s timeouts), bets and
wins of one player at once, rollback storms (up to 500 retries each). What the client saw acknowledged
is checked against the ledger; the books are verified after every test (conftest)."""

from __future__ import annotations

import asyncio
import random
import uuid
from typing import Any

from sqlalchemy import text

from tests.providers.conftest import Aggregator, cash

EUR = 100_000


async def test_concurrent_identical_retries_move_money_once(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=1_000)
    bet = player.bet(3 * EUR)
    answers = await asyncio.gather(
        *(aggregator.call("transaction/bet", {**bet, "request_uuid": str(uuid.uuid4())}) for _ in range(12))
    )
    assert {a["status"] for a in answers} == {"RS_OK"}
    assert {a["balance"] for a in answers} == {700 * 1000}
    win = player.win(5 * EUR, bet["transaction_uuid"])
    answers = await asyncio.gather(*(aggregator.call("transaction/win", win) for _ in range(12)))
    assert {a["status"] for a in answers} == {"RS_OK"}
    assert await cash(rt, player.player_id) == 1_200


async def test_concurrent_bets_and_wins_on_one_player_match_the_model(
    aggregator: Aggregator, seat: Any, rt: Any
) -> None:
    player = await seat(balance=2_000)  # 20 EUR: not enough for every bet
    rng = random.Random(7)
    bets = [player.bet(rng.choice([1, 2, 3]) * EUR, round_ref=f"r-{i}") for i in range(40)]
    answers = await asyncio.gather(*(aggregator.call("transaction/bet", b) for b in bets))
    accepted = [b for b, a in zip(bets, answers, strict=True) if a["status"] == "RS_OK"]
    refused = [a for a in answers if a["status"] != "RS_OK"]
    assert {a["status"] for a in refused} <= {"RS_ERROR_NOT_ENOUGH_MONEY"}
    assert all(a["balance"] >= 0 for a in answers)
    staked = sum(b["amount"] for b in accepted) // 1000
    assert staked <= 2_000
    assert await cash(rt, player.player_id) == 2_000 - staked

    wins = [player.win(2 * EUR, b["transaction_uuid"], round_ref=b["round"]) for b in accepted]
    more_bets = [player.bet(EUR, round_ref=f"s-{i}") for i in range(20)]
    calls = [aggregator.call("transaction/win", w) for w in wins] + [
        aggregator.call("transaction/bet", b) for b in more_bets
    ]
    answers = await asyncio.gather(*calls)
    assert all(a["status"] == "RS_OK" for a in answers[: len(wins)])
    later = [b for b, a in zip(more_bets, answers[len(wins) :], strict=True) if a["status"] == "RS_OK"]
    expected = 2_000 - staked + 200 * len(wins) - 100 * len(later)
    assert await cash(rt, player.player_id) == expected
    async with rt.database.session() as db:
        negative = (await db.execute(text("SELECT count(*) FROM ledger_postings WHERE balance_after < 0"))).scalar_one()
    assert negative == 0


async def test_a_rollback_storm_undoes_each_bet_exactly_once(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    players = [await seat(balance=1_000) for _ in range(2)]
    placed: list[tuple[Any, dict[str, Any]]] = []
    for player in players:
        for i in range(4):
            bet = player.bet(EUR, round_ref=f"{player.user}-{i}")
            assert (await aggregator.call("transaction/bet", bet))["status"] == "RS_OK"
            placed.append((player, bet))
    unknown = [(players[0], players[0].bet(EUR)) for _ in range(3)]  # rolled back before they are ever sent
    rollbacks: list[dict[str, Any]] = []
    for player, bet in placed + unknown:
        same = player.rollback(bet["transaction_uuid"])
        rollbacks += [same] * 4  # the aggregator's retries of one rollback
        rollbacks += [player.rollback(bet["transaction_uuid"]) for _ in range(2)]  # other rollbacks of it
    random.Random(3).shuffle(rollbacks)
    answers = await asyncio.gather(
        *(aggregator.call("transaction/rollback", {**r, "request_uuid": str(uuid.uuid4())}) for r in rollbacks)
    )
    assert {a["status"] for a in answers} == {"RS_OK"}
    for player in players:
        assert await cash(rt, player.player_id) == 1_000
    late = await asyncio.gather(*(aggregator.call("transaction/bet", bet) for _, bet in unknown))
    assert {a["status"] for a in late} == {"RS_ERROR_TRANSACTION_DOES_NOT_EXIST"}
    assert await cash(rt, players[0].player_id) == 1_000


async def test_a_bet_racing_its_rollback_nets_to_nothing(aggregator: Aggregator, seat: Any, rt: Any) -> None:
    player = await seat(balance=5_000)
    pairs = [player.bet(EUR, round_ref=f"race-{i}") for i in range(15)]
    calls = []
    for bet in pairs:
        calls += [
            aggregator.call("transaction/bet", bet),
            aggregator.call("transaction/rollback", player.rollback(bet["transaction_uuid"])),
        ]
    answers = await asyncio.gather(*calls)
    assert all(a["status"] in ("RS_OK", "RS_ERROR_TRANSACTION_DOES_NOT_EXIST") for a in answers)
    assert all(a["status"] == "RS_OK" for a in answers[1::2])  # rollbacks always succeed
    assert await cash(rt, player.player_id) == 5_000


async def test_two_replicas_serve_the_same_players_at_once(rt: Any, client: Any, live_server: str) -> None:
    """This process and `live_server` share the database and Redis; the aggregator's calls (and the
    racing retries of one call) alternate between them. Every acknowledged call is in the books once."""
    import httpx

    from bench import world
    from tests.conftest import DATABASE_URL, REDIS_URL
    from tests.faults import books
    from tests.faults.load import Aggregator

    place = await world.build(rt, players=6, balance=30_00)
    aggregator = Aggregator(place.key, [client, httpx.AsyncClient(base_url=live_server, timeout=10)])
    try:
        log = await aggregator.play(place.seats, rounds=8, balance=30_00)
    finally:
        await aggregator.replicas[1].aclose()
    assert dict(log.failures) == {}
    books.ledger_verify(DATABASE_URL, REDIS_URL)
    assert await books.problems(DATABASE_URL, log) == []
