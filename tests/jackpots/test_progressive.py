"""A progressive jackpot through the public surface: Hub88 bets grow the pot (the `jackpots` consumer books
the contributions), it drops on the stake that takes it past its committed point, pays once, reseeds with a
new commitment, and its history adds up; rollbacks take contributions back; redelivery changes nothing."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from core.errors import DomainError
from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet, hub88
from tests.providers.conftest import cash

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_jackpot_commitment.py"
SEED, CAP, RATE = 1_000, 2_000, 100_000  # 10.00 EUR seed, must drop by 20.00 EUR, 10% of each stake


async def _script(*args: str) -> tuple[int | None, str]:
    """The standalone verification script, as anyone would run it."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await process.communicate()
    return process.returncode, out.decode()


async def _history(rt: Any, pool_id: Any) -> Any:
    from services.jackpots import views

    async with rt.database.session() as db:
        return await views.history(db, pool_id)


async def test_the_pot_grows_with_bets_and_drops_at_its_committed_point_paying_once(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any, tmp_path: Path
) -> None:
    jackpot = await create(levels=[LevelSpec("grand", SEED, RATE, "amount", CAP)], brands=[brand.id])
    pool = jackpot.pools[0]
    assert (pool.amount, pool.generation, len(pool.commitment)) == (SEED, 1, 64)
    point = await jackpots.secret_point(pool.id, 1)
    assert SEED < point <= CAP
    seat = await player_at_game(balance=100_000)

    # One bet of 0.09 EUR: 0.009 EUR contributed, below a cent: nothing booked, all of it carried.
    await bet(aggregator, seat, 9)
    await jackpots.drain()
    row = await jackpots.pool(pool.id)
    assert (row["amount"], row["remainder"]) == (SEED, 900_000)

    # 10.00 EUR bets (1.00 each) until the drop: the bet that takes the pot to the point or past it wins it.
    before = await cash(rt, seat.player_id)
    bets_to_drop = 0
    amount = SEED
    remainder = 900_000
    while True:
        bets_to_drop += 1
        contribution, remainder = divmod(remainder + 1000 * RATE, 1_000_000)
        if amount + contribution >= point:
            won = min(amount + contribution, CAP)
            break
        amount += contribution
    for _ in range(bets_to_drop):
        await bet(aggregator, seat, 1000)
    await jackpots.drain()

    [win] = await jackpots.wins(pool.id)
    assert (win["generation"], win["amount"], win["player_id"], win["drop_point"]) == (1, won, seat.player_id, point)
    assert win["amount_before"] < point <= win["amount_after"] <= CAP
    assert await cash(rt, seat.player_id) == before - 1000 * bets_to_drop + won
    row = await jackpots.pool(pool.id)
    assert (row["generation"], row["amount"]) == (2, SEED)  # reseeded, with a new commitment
    # Two more bets feed the next pot, staying below its point (the test reads the secret to stay there).
    step = (await jackpots.secret_point(pool.id, 2) - SEED - 1) // 2
    extra = 2 if step else 0  # a point right above the seed (a chance in 500): no room for more bets
    for _ in range(extra):
        await bet(aggregator, seat, step * 10)
    await jackpots.drain()
    grown = SEED + 2 * step
    assert (await jackpots.pool(pool.id))["amount"] == grown

    # Nothing changes on a second drain, nor when the consumer's processed ids are forgotten and the bets
    # are applied again (the stakes' rows keep each bet to one contribution).
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == grown
    await jackpots.conn.execute("DELETE FROM consumer_processed WHERE consumer = 'jackpots'")
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == grown
    assert len(await jackpots.wins(pool.id)) == 1

    history = await _history(rt, pool.id)
    assert history.adds_up()
    assert [s.generation for s in history.seeds] == [1, 2]
    assert sum(d.bets for d in history.days) == bets_to_drop + 1 + extra

    from services.jackpots import views

    async with rt.database.session() as db:
        [checked] = await views.verify(db, jackpot.id)
        commitments = await views.commitments(db, pool.id)
    assert checked.ok, checked.problems
    assert [(c.generation, c.drop_point is not None) for c in commitments] == [(2, False), (1, True)]
    revealed = commitments[1]
    code, out = await _script(
        revealed.commitment, str(revealed.drop_point), str(revealed.salt),
        "--before", str(win["amount_before"]), "--after", str(win["amount_after"]),
    )  # fmt: skip
    assert (code, out.strip()) == (0, "ok")
    code, _ = await _script(revealed.commitment, str(revealed.drop_point + 1), str(revealed.salt))
    assert code == 1
    drops = tmp_path / "drops.json"  # what `croupier jackpots verify --json` prints
    drops.write_text(json.dumps([checked.as_dict()]))
    code, out = await _script("--json", str(drops))
    assert (code, out.strip()) == (0, "grand pot 1: ok")


async def test_a_rolled_back_bet_takes_its_contribution_back(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("grand", SEED, 10_000, "amount", 10**15)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game()
    kept = await bet(aggregator, seat, 5_000)  # 50.00 EUR at 1%: 0.50
    undone = await bet(aggregator, seat, 3_333)  # 33.33 EUR: 0.3333
    await jackpots.drain()
    assert ((await jackpots.pool(pool.id))["amount"], (await jackpots.pool(pool.id))["remainder"]) == (
        SEED + 83,
        330_000,
    )
    answer = await aggregator.call("transaction/rollback", seat.rollback(undone))
    assert answer["status"] == "RS_OK", answer
    await jackpots.drain()
    row = await jackpots.pool(pool.id)
    # exactly what 33.33 put in (0.33) taken back; its fraction stays in the pool's carry
    assert (row["amount"], row["remainder"]) == (SEED + 50, 330_000)
    [day] = (await _history(rt, pool.id)).days
    assert (day.contributed, day.taken_back, day.bets, day.rollbacks) == (83, 33, 2, 1)
    assert (await _history(rt, pool.id)).adds_up()
    stake = await jackpots.conn.fetchrow(
        "SELECT rolled_back FROM jackpot_stakes WHERE reference = $1", f"hub88:{undone}"
    )
    assert stake["rolled_back"] is True
    assert kept


async def test_bets_outside_the_eligible_games_contribute_nothing(
    brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(
        levels=[LevelSpec("grand", SEED, RATE, "amount", CAP)], brands=[brand.id], games=["another-game"]
    )
    seat = await player_at_game()
    await bet(aggregator, seat, 1000)
    await jackpots.drain()
    assert (await jackpots.pool(jackpot.pools[0].id))["amount"] == SEED
    assert hub88(1) == 1000


async def test_a_paused_jackpot_takes_nothing_until_resumed(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    from authz.subjects import SYSTEM
    from services.jackpots import admin

    jackpot = await create(levels=[LevelSpec("grand", SEED, RATE, "amount", CAP)], brands=[brand.id])
    pool = jackpot.pools[0]
    async with rt.database.transaction() as db:
        paused = await admin.configure_jackpot(db, jackpot.id, actor=SYSTEM, status="paused", reason="maintenance")
    assert paused.status == "paused"
    seat = await player_at_game()
    await bet(aggregator, seat, 1000)
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == SEED
    async with rt.database.transaction() as db:
        await admin.configure_jackpot(db, jackpot.id, actor=SYSTEM, status="active", reason="back")
        closed = await admin.configure_jackpot(db, jackpot.id, actor=SYSTEM, status="closed", reason="end")
    assert closed.status == "closed"
    with pytest.raises(DomainError) as refused:
        async with rt.database.transaction() as db:
            await admin.configure_jackpot(db, jackpot.id, actor=SYSTEM, status="active")
    assert refused.value.code.value == "INVALID_STATE"


async def test_a_rollback_applied_before_its_bet_keeps_the_late_bet_out(
    brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    """The stream can bring an older event after a newer one (a redelivery, the sweep): here the bet's event is
    held back (marked processed) while its rollback is applied, then let through."""
    jackpot = await create(levels=[LevelSpec("grand", SEED, RATE, "amount", CAP)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game()
    tx = await bet(aggregator, seat, 1000)
    assert (await aggregator.call("transaction/rollback", seat.rollback(tx)))["status"] == "RS_OK"
    bet_event = await jackpots.conn.fetchval("SELECT id FROM outbox_events WHERE topic = 'ledger.game_bet'")
    await jackpots.conn.execute(
        "INSERT INTO consumer_processed (consumer, event_id) VALUES ('jackpots', $1)", bet_event
    )
    await jackpots.drain()
    await jackpots.conn.execute(
        "DELETE FROM consumer_processed WHERE consumer = 'jackpots' AND event_id = $1", bet_event
    )
    await jackpots.drain()
    row = await jackpots.pool(pool.id)
    assert (row["amount"], row["remainder"]) == (SEED, 0)
    stake = await jackpots.conn.fetchrow("SELECT stake_base, rolled_back FROM jackpot_stakes")
    assert (stake["stake_base"], stake["rolled_back"]) == (0, True)
