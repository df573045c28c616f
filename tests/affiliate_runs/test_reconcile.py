"""Property: a month's statement reconciles to the ledger's NGR to the cent.

Random play (stakes, wins, bonus cost) by a partner's players on random days of a month, under a deal that may
change mid-month, is booked through the ledger and projected by the reports consumer; the run's lines then add
up to exactly the NGR the ledger holds for those players that month (house_revenue and bonus_cost postings:
stakes in, wins out, bonus money given), and its deal sums to exactly its lines. Each example works on a new
partner, new players and the next month (the clock only moves forward), and discards its draft at the end.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from core.clock import clock
from services.affiliates.runs import drafts, reads
from tests.affiliate_runs.conftest import Affiliates, Table, at_noon, close_month, finance

_LEDGER_NGR = text("""
SELECT coalesce(sum(p.amount), 0) FROM ledger_transactions t
JOIN ledger_postings p ON p.transaction_id = t.id JOIN ledger_accounts a ON a.id = p.account_id
WHERE t.status = 'committed' AND t.player_id = ANY(CAST(:players AS uuid[]))
  AND t.created_at >= :since AND t.created_at < :until AND a.purpose IN ('house_revenue', 'bonus_cost')""")

plays = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=2),  # which player
        st.integers(min_value=0, max_value=27),  # day of the month
        st.integers(min_value=1, max_value=500_00),  # stake
        st.integers(min_value=0, max_value=900_00),  # win
        st.integers(min_value=0, max_value=50_00),  # bonus cost
    ),
    min_size=1,
    max_size=8,
)
terms = st.sampled_from(
    [
        {"revshare": {"kind": "flat", "rate_ppm": 250_000}},
        {"revshare": {"kind": "tiered", "tiers": [{"from_ngr": 0, "rate_ppm": 200_000},
                                                  {"from_ngr": 500_00, "rate_ppm": 350_000}]}},
        {"revshare": {"kind": "ladder", "tiers": [{"from_ngr": 0, "rate_ppm": 150_000},
                                                  {"from_ngr": 300_00, "rate_ppm": 450_000}]}},
    ]
)  # fmt: skip


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(played=plays, first=terms, second=terms, switch=st.integers(min_value=1, max_value=27))
async def test_a_months_lines_reconcile_to_the_ledgers_ngr_to_the_cent(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, played: list[Any],
    first: dict[str, Any], second: dict[str, Any], switch: int,
) -> None:  # fmt: skip
    month = drafts.month_of(drafts.month_of(clock.now().date())[1] + timedelta(days=1))
    partner = await affiliates.partner(f"p{uuid.uuid4().hex[:10]}")
    await affiliates.deal(partner, await affiliates.plan("revshare", first), month[0], carry_over=True)
    await affiliates.deal(partner, await affiliates.plan("revshare", second), month[0] + timedelta(days=switch))
    players = [(await make_player()).uuid for _ in range(3)]
    for player in players:
        await affiliates.attribute(player, partner, sub_id="prop")
    for who, day, stake, win, cost in sorted(played, key=lambda p: p[1]):
        at_noon(month[0] + timedelta(days=day))
        await table.play(players[who], stake=stake, win=win, bonus_cost=cost)
    await table.project()
    close_month(month)

    async with rt.database.transaction() as db:
        run, statement = await drafts.create_run(db, finance(brand), brand_id=brand.id, start=month[0], end=month[1])
        ledger_ngr = await db.scalar(
            _LEDGER_NGR,
            {"players": players, "since": datetime.combine(month[0], time(), UTC),
             "until": datetime.combine(month[1] + timedelta(days=1), time(), UTC)},
        )  # fmt: skip
        stored = (await db.execute(reads.lines_of(run.id, partner))).scalars().all()
        sums = (await reads.deals_of(db, [run.id]))[run.id]

    assert sum(line.ngr for line in stored) == ledger_ngr
    assert sum(line.stakes - line.wins - line.bonus_cost for line in stored) == ledger_ngr
    assert sum(line.revshare for line in stored) == sum(row.revshare for row in sums)
    assert sum(row.ngr for row in sums) == ledger_ngr
    assert len(stored) == len(statement.lines)
    async with rt.database.transaction() as db:
        await drafts.discard_run(db, finance(brand), run_id=run.id, reason="property test")
