"""A rollback takes back only what its bet put into a pot that is still there (issue 18): after the pot it fed
dropped, nothing comes out of the next pot (the part is forgone: the house's loss, on the stake's row and the
pool's day); a bet whose contribution the cap clipped takes back no more than it gave; the books and the
commitments still verify."""

from __future__ import annotations

from typing import Any

from services.jackpots.admin import LevelSpec
from tests.jackpots.conftest import bet
from tests.ledger.test_ledger import run_ledger_verify

SEED, CAP, ALL = 1_000, 10_000, 1_000_000  # every cent of a stake goes to the pot, so the figures are plain


async def _history(rt: Any, pool_id: Any) -> Any:
    from services.jackpots import views

    async with rt.database.session() as db:
        return await views.history(db, pool_id)


async def _stake(jackpots: Any, tx: str) -> Any:
    return await jackpots.conn.fetchrow(
        "SELECT given, forgone, rolled_back FROM jackpot_stakes WHERE reference = $1", f"hub88:{tx}"
    )


async def test_rollbacks_after_a_drop_and_a_clip_take_nothing_from_the_next_pot(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    jackpot = await create(levels=[LevelSpec("grand", SEED, ALL, "amount", CAP)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game(balance=500_000)
    point = await jackpots.secret_point(pool.id, 1)
    first = max(1, (point - SEED) // 2)  # below the point (but for a point of seed + 1)
    small = await bet(aggregator, seat, first)
    clipped = await bet(aggregator, seat, CAP)  # takes the pot to its cap, past any point: clipped, and drops
    await jackpots.drain()
    [win] = await jackpots.wins(pool.id)
    assert (win["generation"], win["amount"]) == (1, CAP)
    clipped_gave = CAP - SEED - first
    assert (await _stake(jackpots, clipped))["forgone"] == 0
    given = await _stake(jackpots, clipped)
    assert str(pool.id) in given["given"]  # [generation 1, what it put in after the clip]
    assert (await jackpots.pool(pool.id))["amount"] == SEED  # the next pot: its seed
    for tx in (small, clipped):
        answer = await aggregator.call("transaction/rollback", seat.rollback(tx))
        assert answer["status"] == "RS_OK", answer
    await jackpots.drain()
    row = await jackpots.pool(pool.id)
    assert (row["amount"], row["generation"]) == (SEED, 2)  # never below its seed because of the old pot
    assert ((await _stake(jackpots, small))["forgone"], (await _stake(jackpots, clipped))["forgone"]) == (
        first,
        clipped_gave,  # what the clipped bet gave, not its whole stake's share
    )
    history = await _history(rt, pool.id)
    [day] = history.days
    assert (day.contributed, day.taken_back, day.forgone, day.rollbacks) == (CAP - SEED, 0, CAP - SEED, 2)
    assert history.adds_up()
    from services.jackpots import views

    async with rt.database.session() as db:
        [checked] = await views.verify(db, jackpot.id)
    assert checked.ok, checked.problems
    clean = run_ledger_verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr


async def test_a_rollback_in_the_same_pot_takes_back_what_its_bet_gave_and_a_seedless_pot_never_goes_below_zero(
    rt: Any, brand: Any, aggregator: Any, player_at_game: Any, create: Any, jackpots: Any
) -> None:
    """No seed: the old rule (the stake's share, taken from the pot as it is now) took a rollback of a bet that
    fed a dropped pot out of the fresh, empty one: below zero."""
    jackpot = await create(levels=[LevelSpec("grand", 0, ALL, "amount", 5_000)], brands=[brand.id])
    pool = jackpot.pools[0]
    seat = await player_at_game(balance=500_000)
    dropped = await bet(aggregator, seat, 5_000)  # the cap: drops
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == 0
    kept = await bet(aggregator, seat, 1)
    undone = await bet(aggregator, seat, 2)
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == 3
    for tx in (dropped, undone):
        assert (await aggregator.call("transaction/rollback", seat.rollback(tx)))["status"] == "RS_OK"
    await jackpots.drain()
    assert (await jackpots.pool(pool.id))["amount"] == 1  # the same pot's bet taken back; the dropped one forgone
    assert ((await _stake(jackpots, undone))["forgone"], (await _stake(jackpots, dropped))["forgone"]) == (0, 5_000)
    assert kept
    assert (await _history(rt, pool.id)).adds_up()
    clean = run_ledger_verify()
    assert clean.returncode == 0, clean.stdout + clean.stderr
