"""Provider-reported wins without a generation (issue 18): concurrent reports of different references pay one
pot, never the freshly seeded next one; a reference pays once whatever pool it names; a report without a
generation right after a win must name the pot it means."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from core.clock import clock
from services.jackpots.admin import UNNAMED_GRACE, LevelSpec
from tests.providers.conftest import cash

ALREADY_WON, REFUSED = "RS_ERROR_JACKPOT_ALREADY_WON", "RS_ERROR_JACKPOT_REFUSED"


def _body(pool: Any, seat: Any, reference: str, generation: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"pool_id": str(pool.id), "user": str(seat.player_id), "reference": reference}
    return body if generation is None else {**body, "generation": generation}


async def test_concurrent_reports_without_a_generation_pay_one_pot_not_the_next(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("mega", 20_000, 0, "provider")], brands=[brand.id], type_="fixed")
    pool = jackpot.pools[0]
    seats = [await player_at_game(balance=100) for _ in range(5)]
    answers = await asyncio.gather(
        *(aggregator.call("jackpot/win", _body(pool, seat, f"race-{n}")) for n, seat in enumerate(seats))
    )
    assert sorted(a["status"] for a in answers) == [ALREADY_WON] * 4 + ["RS_OK"], answers
    assert sorted([await cash(rt, seat.player_id) for seat in seats]) == [100, 100, 100, 100, 20_100]
    row = await jackpots.pool(pool.id)
    assert (row["generation"], row["amount"], row["won_total"]) == (2, 20_000, 20_000)  # the next pot untouched
    # A refused report sent again is refused again (nothing was recorded under its reference); the winner's
    # retry answers its win.
    [loser] = [n for n, a in enumerate(answers) if a["status"] == ALREADY_WON][:1]
    assert (await aggregator.call("jackpot/win", _body(pool, seats[loser], f"race-{loser}")))["status"] == ALREADY_WON
    [winner] = [n for n, a in enumerate(answers) if a["status"] == "RS_OK"]
    again = await aggregator.call("jackpot/win", _body(pool, seats[winner], f"race-{winner}"))
    assert (again["status"], again["win_id"]) == ("RS_OK", answers[winner]["win_id"])


async def test_a_report_without_a_generation_right_after_a_win_must_name_the_pot(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("mega", 20_000, 0, "provider")], brands=[brand.id], type_="fixed")
    pool = jackpot.pools[0]
    first, second, third = [await player_at_game(balance=100) for _ in range(3)]
    assert (await aggregator.call("jackpot/win", _body(pool, first, "w-1")))["status"] == "RS_OK"
    late = await aggregator.call("jackpot/win", _body(pool, second, "w-2"))  # the pot just won? or the new one?
    assert late["status"] == ALREADY_WON
    assert "generation 2" in late["message"]
    named = await aggregator.call("jackpot/win", _body(pool, second, "w-2", generation=2))
    assert (named["status"], named["generation"]) == ("RS_OK", 2)
    clock.advance(UNNAMED_GRACE + timedelta(seconds=1))
    later = await aggregator.call("jackpot/win", _body(pool, third, "w-3"))
    assert (later["status"], later["generation"]) == ("RS_OK", 3)
    assert [await cash(rt, s.player_id) for s in (first, second, third)] == [20_100] * 3


async def test_one_reference_reported_at_once_for_two_pools_pays_once(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(
        levels=[LevelSpec("mega", 20_000, 0, "provider"), LevelSpec("mini", 1_000, 0, "provider")],
        brands=[brand.id],
        type_="fixed",
    )
    mega, mini = jackpot.pools
    seat = await player_at_game(balance=100)
    answers = await asyncio.gather(
        aggregator.call("jackpot/win", _body(mega, seat, "same-ref", 1)),
        aggregator.call("jackpot/win", _body(mini, seat, "same-ref", 1)),
    )
    assert sorted(a["status"] for a in answers) == [REFUSED, "RS_OK"], answers
    paid = next(a for a in answers if a["status"] == "RS_OK")
    assert await cash(rt, seat.player_id) == 100 + paid["amount"]
    wins = await jackpots.conn.fetchval(
        "SELECT count(*) FROM jackpot_wins WHERE pool_id = ANY($1::uuid[])", [mega.id, mini.id]
    )
    assert wins == 1
