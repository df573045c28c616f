"""Review of the money side (helper revmoney): each test first failed on main."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import DomainError
from services.affiliates import fraud, plans
from services.affiliates.runs import approval, drafts, maths
from tests.affiliate_runs.conftest import Affiliates, Table, at_noon, close_month, finance

FLAT_25 = {"revshare": {"kind": "flat", "rate_ppm": 250_000}}
THRESHOLDS = {"EUR": "1000.00"}


async def _run(rt: Any, brand: Any, start: Any, end: Any) -> Any:
    async with rt.database.transaction() as db:
        run, _ = await drafts.create_run(db, finance(brand), brand_id=brand.id, start=start, end=end)
    return run


async def test_a_run_for_a_period_before_an_existing_run_is_refused(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> None:
    """A run made after a later one would take the carry-over the later run already took (the loss deducted
    twice) and leave its own carry-out to nobody: runs of a brand go forward only."""
    partner = await affiliates.partner("carry")
    await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_25), month[0], carry_over=True)
    player = await make_player()
    await affiliates.attribute(player.uuid, partner)
    at_noon(month[0] + timedelta(days=1))
    await table.play(player.uuid, stake=1_000, win=6_000)  # NGR -50.00 in the first run's period
    at_noon(month[0] + timedelta(days=24))
    await table.play(player.uuid, stake=8_000)  # NGR +80.00 in the third
    await table.project()
    close_month(month)
    first = await _run(rt, brand, month[0], month[0] + timedelta(days=9))
    async with rt.database.transaction() as db:
        await approval.approve_run(db, finance(brand), run_id=first.id, thresholds=THRESHOLDS)
    third = await _run(rt, brand, month[0] + timedelta(days=20), month[1])
    async with rt.database.transaction() as db:
        await approval.approve_run(db, finance(brand), run_id=third.id, thresholds=THRESHOLDS)

    with pytest.raises(DomainError) as backwards:
        await _run(rt, brand, month[0] + timedelta(days=10), month[0] + timedelta(days=19))
    assert backwards.value.code == "INVALID_STATE"


TIERS = [{"from_ngr": 0, "rate_ppm": 333_333}, {"from_ngr": 7, "rate_ppm": 700_000}]


@pytest.mark.parametrize("kind", ["flat", "tiered", "ladder"])
def test_the_plan_and_the_run_pay_the_same_terms_to_the_same_cent(kind: str) -> None:
    """One parser of terms (plans.parse; the runs' own reader is gone) and one arithmetic."""
    spec: dict[str, Any] = {"kind": "flat", "rate_ppm": 333_333} if kind == "flat" else {"kind": kind, "tiers": TIERS}
    plan = plans.parse("revshare", {"revshare": spec}).revshare
    assert plan is not None
    for ngr in range(1, 400):
        sums = maths.settle_deal(plan, ngr=ngr, carry_in=0, negative_carry_over=False)
        assert (ngr, plan.share(ngr).amount) == (ngr, sums.revshare)  # ngr 8 differed by a cent on main


async def test_a_cpa_withheld_while_a_draft_takes_it_is_not_both_withheld_and_on_the_run(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, month: tuple[Any, Any]
) -> None:
    """A flag's withholding and a draft's reading of the CPAs, side by side: on main neither saw the other's
    uncommitted work, both committed, and a withheld CPA stood on a run (to be paid)."""
    partner = await affiliates.partner("raced")
    deal = await affiliates.deal(partner, await affiliates.plan("cpa", {"amount": 5_000}), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner, sub_id="s1")
    at_noon(month[0] + timedelta(days=3))
    await affiliates.qualify(player.uuid, partner, deal, 5_000)
    close_month(month)

    async def flag() -> list[Any]:
        async with rt.database.transaction() as db:
            return await fraud.withhold(db, (partner, brand.id, "s1"), uuid.uuid4(), ["same_device"])

    async with rt.database.transaction() as db:
        run, _ = await drafts.create_run(db, finance(brand), brand_id=brand.id, start=month[0], end=month[1])
        flagging = asyncio.create_task(flag())
        await asyncio.sleep(0.5)  # the flag's transaction runs (on main: commits) meanwhile
    withheld = await flagging

    async with rt.database.session() as db:
        status = await db.scalar(
            text("SELECT status FROM affiliate_qualifications WHERE player_id = :p"), {"p": player.uuid}
        )
        on_run = await db.scalar(
            text("SELECT count(*) FROM affiliate_run_lines WHERE run_id = :r AND cpa"), {"r": run.id}
        )
    assert (status, on_run, withheld) == ("qualified", 1, [])  # the run took it first: the run decides it
