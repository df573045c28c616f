"""`croupier jackpots` from the command line (create, list, history, commitments, verify, win), and a
must-drop-by-time pot dropping on the first stake at or after its committed instant."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from core.clock import clock
from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet
from tests.test_audit import run_cli


async def test_a_jackpot_is_created_listed_paid_and_verified_from_the_command_line(
    rt: Any, brand: Any, player_at_game: Any
) -> None:
    code, out = await run_cli(
        "jackpots", "create", "royal-daily", "--name", "Royal Daily", "--brand", "royal", "--type", "fixed",
        "--level", "daily,seed=25.00,provider", "--reason", "launch",
    )  # fmt: skip
    assert code == 0, out
    lines = out.strip().splitlines()
    assert lines[-2].startswith("created local fixed jackpot royal-daily ")
    level, pool_id, pot, *_ = lines[-1].split("\t")
    assert (level, pot) == ("daily", "pot 25.00 EUR")

    seat = await player_at_game(balance=100)
    code, out = await run_cli(
        "jackpots", "win", pool_id, "--player", str(seat.player_id), "--provider", "hub88", "--reference", "w-1",
        "--generation", "1",
    )  # fmt: skip
    assert code == 0, out
    assert out.strip().splitlines()[-1].endswith("2500 -> 2500 EUR")
    code, out = await run_cli(
        "jackpots", "win", pool_id, "--player", str(seat.player_id), "--provider", "hub88", "--reference", "w-2",
        "--generation", "1",
    )  # fmt: skip
    assert code == 1
    assert "already won" in out
    code, out = await run_cli(
        "jackpots", "win", "not-a-pool", "--player", "x", "--provider", "hub88", "--reference", "w"
    )
    assert code == 2  # a usage error naming the argument, not a traceback
    assert "Traceback" not in out
    assert "Invalid value" in out

    code, out = await run_cli("jackpots", "list")
    assert code == 0, out
    assert "royal-daily" in out
    assert "generation 2" in out
    code, out = await run_cli("jackpots", "history", "royal-daily", "--json")
    assert code == 0, out
    [history] = json.loads(out[out.index("[") :])
    assert history["adds_up"] is True
    assert [w["amount"] for w in history["wins"]] == [2500]
    code, out = await run_cli("jackpots", "verify", "royal-daily")
    assert (code, out.strip().splitlines()[-1]) == (0, "0 drops checked, 0 wrong")  # a provider pot commits to nothing

    code, out = await run_cli("ledger", "verify")
    assert code == 0, out

    code, out = await run_cli("jackpots", "create", "bad", "--name", "Bad", "--brand", "royal", "--level", "x,rate=1%")
    assert code == 1
    assert "refused (INVALID_INPUT): levels:" in out

    from sqlalchemy import text

    async with rt.database.session() as db:
        trail = (await db.execute(text("SELECT action FROM audit_log WHERE action LIKE 'jackpot.%'"))).scalars().all()
    assert trail == ["jackpot.create"]


async def test_a_time_pot_drops_on_the_first_stake_at_or_after_its_committed_instant(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(
        levels=[LevelSpec("hourly", 1_000, 50_000, "time", drop_window_seconds=3600)], brands=[brand.id]
    )
    pool = jackpot.pools[0]
    point = await jackpots.secret_point(pool.id, 1)
    seat = await player_at_game()
    await bet(aggregator, seat, 1_000)  # before the instant (or exactly at it: then it drops)
    await jackpots.drain()
    early = await jackpots.wins(pool.id)
    clock.advance(timedelta(hours=2))  # past the window of whichever pot is open: the next stake drops it
    await bet(aggregator, seat, 1_000)
    await jackpots.drain()
    wins = await jackpots.wins(pool.id)
    assert len(wins) == len(early) + 1  # (the first stake drops the pot only if the instant fell on its second)
    assert int(wins[0]["won_at"].timestamp() * 1000) >= point
    if not early:
        assert wins[0]["amount"] == 1_000 + 50 + 50

    from services.jackpots import views

    async with rt.database.session() as db:
        checked = await views.verify(db, jackpot.id)
    assert [(c.generation, c.ok) for c in checked] == [(w["generation"], True) for w in wins], checked
