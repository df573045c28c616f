"""What anyone may read of jackpots, in a fixed number of statements whatever their number: the list with every
pot (one statement), a pool's history (four), its commitments (one)."""

from __future__ import annotations

from typing import Any

from services.jackpots import admin, views
from services.jackpots.admin import LevelSpec
from tests.conftest import recorded_statements


async def test_the_list_and_a_pools_history_take_a_fixed_number_of_statements(
    rt: Any, brand: Any, other_brand: Any, create: Any
) -> None:
    levels = [LevelSpec("mini", 500, 10_000, "amount", 5_000), LevelSpec("grand", 50_000, 1_000, "amount", 500_000)]
    for n in range(3):
        await create(levels=levels, brands=[brand.id], code=f"local-{n}")
    await create(levels=levels, brands=[brand.id, other_brand.id], code="network", kind="network")

    async with rt.database.session() as db:
        await db.connection()
        with recorded_statements(rt) as statements:
            every = await admin.list_jackpots(db)
        assert len(statements) == 1, statements
        with recorded_statements(rt) as statements:
            northstar = await admin.list_jackpots(db, brand_id=other_brand.id)
        assert len(statements) == 1, statements
        pool = every[0].pools[1]
        with recorded_statements(rt) as statements:
            history = await views.history(db, pool.id)
            published = await views.commitments(db, pool.id)
        assert len(statements) == 6, statements  # pool, days, wins, seeds, refunds; commitments

    assert [j.code for j in every] == ["local-0", "local-1", "local-2", "network"]
    assert [[p.level for p in j.pools] for j in every] == [["mini", "grand"]] * 4
    assert [j.code for j in northstar] == ["network"]
    assert (history.pool.amount, [s.amount for s in history.seeds], history.adds_up()) == (50_000, [50_000], True)
    assert [(c.generation, c.drop_point, c.salt) for c in published] == [(1, None, None)]  # not revealed yet
    assert published[0].commitment == pool.commitment
