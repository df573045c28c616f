"""Adversarial review of the drop proofs: the standalone script, run on what `croupier jackpots verify --json`
prints, checks by itself that each drop came at its committed point, not only that the commitment hashes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet
from tests.jackpots.test_progressive import _script
from tests.test_audit import run_cli


async def test_the_standalone_script_finds_a_drop_off_its_committed_point_in_the_verify_json(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any, tmp_path: Path
) -> None:
    jackpot = await create(levels=[LevelSpec("grand", 1_000, 1_000_000, "amount", 2_000)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game()
    await bet(aggregator, seat, 2_000)  # all of it contributed: the pot reaches its cap and drops on this stake
    await jackpots.drain()
    [win] = await jackpots.wins(pool.id)
    drops = tmp_path / "drops.json"

    code, out = await run_cli("jackpots", "verify", jackpot.code, "--json")
    assert code == 0, out
    drops.write_text(out[out.index("[") :])
    assert await _script("--json", str(drops)) == (0, "grand pot 1: ok\n")

    # The record says the pot was already at its point before the winning stake: not where it was committed to.
    tampered = "UPDATE jackpot_wins SET amount_before = $2 WHERE id = $1"
    await jackpots.conn.execute(tampered, win["id"], win["drop_point"])
    code, out = await run_cli("jackpots", "verify", jackpot.code, "--json")
    assert code == 1, out  # the platform's own check sees it
    drops.write_text(out[out.index("[") :])
    code, said = await _script("--json", str(drops))  # and so must anyone's, from the published figures alone
    assert code == 1, said
    assert "did not cross the committed point" in said


async def test_ledger_verify_finds_a_tampered_pot_and_a_tampered_win(
    brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    """Coverage (no bug found): the two jackpot checks of `croupier ledger verify`, through the command line."""
    jackpot = await create(levels=[LevelSpec("grand", 1_000, 1_000_000, "amount", 2_000)], brands=[brand.id])
    pool_id = jackpot.pools[0].id
    await bet(aggregator, await player_at_game(), 2_000)  # reaches the cap: drops
    await jackpots.drain()
    [win] = await jackpots.wins(pool_id)
    assert (await run_cli("ledger", "verify"))[0] == 0

    await jackpots.conn.execute("UPDATE jackpot_pools SET amount = amount - 1 WHERE id = $1", pool_id)
    code, out = await run_cli("ledger", "verify")
    await jackpots.conn.execute("UPDATE jackpot_pools SET amount = amount + 1 WHERE id = $1", pool_id)
    assert (code, "jackpot pool differs from its ledger account" in out) == (1, True), out

    await jackpots.conn.execute("UPDATE jackpot_wins SET amount = amount + 1 WHERE id = $1", win["id"])
    code, out = await run_cli("ledger", "verify")
    await jackpots.conn.execute("UPDATE jackpot_wins SET amount = amount - 1 WHERE id = $1", win["id"])
    assert (code, "jackpot win differs from its ledger transaction" in out) == (1, True), out


async def test_verify_and_the_script_find_a_drop_point_outside_the_range_it_was_to_be_drawn_from(
    brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any, tmp_path: Path
) -> None:
    """A time pot must drop within its window: an instant committed outside [seeding, seeding + window] (here the
    published seeding moved two hours later, after the instant) breaks that promise even if the hash matches."""
    from datetime import timedelta

    from core.clock import clock

    jackpot = await create(
        levels=[LevelSpec("hourly", 1_000, 10_000, "time", drop_window_seconds=3600)], brands=[brand.id]
    )
    pool_id = jackpot.pools[0].id
    clock.advance(timedelta(hours=2))  # past the window: the next stake drops the pot
    await bet(aggregator, await player_at_game(), 1_000)
    await jackpots.drain()
    assert len(await jackpots.wins(pool_id)) == 1
    code, out = await run_cli("jackpots", "verify", jackpot.code, "--json")
    assert code == 0, out

    moved = "UPDATE jackpot_seeds SET seeded_at = seeded_at + interval '2 hours' WHERE pool_id = $1 AND generation = 1"
    await jackpots.conn.execute(moved, pool_id)
    code, out = await run_cli("jackpots", "verify", jackpot.code, "--json")
    assert code == 1, out
    drops = tmp_path / "drops.json"
    drops.write_text(out[out.index("[") :])
    code, said = await _script("--json", str(drops))
    assert code == 1, said
    assert "outside the range" in said
