"""Paying a booked run out through the demo PSP when it declines or times out after paying: the partner is paid
exactly once; and what a partner reads of its commissions (`partner_commissions`): its own rows only."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from services.affiliates.runs import approval, reads, settlement
from tests.affiliate_runs.conftest import Affiliates, Table, at_noon, close_month, finance
from tests.affiliate_runs.test_runs import THRESHOLDS, make_run, payable

FLAT_25 = {"revshare": {"kind": "flat", "rate_ppm": 250_000}}


async def booked_run(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> tuple[Any, uuid.UUID]:
    """A run owing one partner 25.00 EUR, approved and booked."""
    partner = await affiliates.partner(f"payee{uuid.uuid4().hex[:6]}")
    await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_25), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner)
    at_noon(month[0] + timedelta(days=1))
    await table.play(player.uuid, stake=10_000)
    await table.project()
    close_month(month)
    run = await make_run(rt, brand, month)
    async with rt.database.transaction() as db:
        await approval.approve_run(db, finance(brand), run_id=run.id, thresholds=THRESHOLDS)
    await settlement.book_run(rt, finance(brand), run_id=run.id)
    return run, partner


async def test_a_declined_payout_fails_and_is_sent_again_as_a_new_attempt(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any], psp: Any
) -> None:
    run, partner = await booked_run(rt, brand, make_player, affiliates, table, month)
    await psp.configure("bankwire", payout="decline")

    failed = await settlement.pay_run(rt, finance(brand), run_id=run.id)
    assert [(o.status, o.failure) for o in failed] == [("failed", "account_closed")]
    assert await payable(rt, partner) == 2_500  # still owed

    await psp.configure("bankwire", payout="succeed")
    paid = await settlement.pay_run(rt, finance(brand), run_id=run.id)

    assert [o.status for o in paid] == ["paid"]
    assert await payable(rt, partner) == 0
    sent = await psp.transactions()
    assert sorted(t["status"] for t in sent) == ["declined", "succeeded"]
    assert len({t["reference"] for t in sent}) == 2  # two attempts, two references


async def test_a_payout_whose_answer_was_lost_is_asked_about_not_paid_twice(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any], psp: Any
) -> None:
    run, partner = await booked_run(rt, brand, make_player, affiliates, table, month)
    await psp.configure("bankwire", payout="charge_then_timeout", timeout_seconds=5)

    unknown = await settlement.pay_run(rt, finance(brand), run_id=run.id)
    assert [o.status for o in unknown] == ["sending"]  # the PSP paid; we do not know it yet
    assert await payable(rt, partner) == 2_500

    await psp.configure("bankwire", payout="succeed")
    paid = await settlement.pay_run(rt, finance(brand), run_id=run.id)

    assert [o.status for o in paid] == ["paid"]
    assert await payable(rt, partner) == 0
    assert len(await psp.transactions()) == 1  # asked, not sent again


async def test_a_partner_reads_its_own_commissions_by_sub_id_and_nothing_of_another(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> None:
    parent = await affiliates.partner("ownparent")
    mine = await affiliates.partner("mine", parent=parent)
    theirs = await affiliates.partner("theirs")
    await affiliates.deal(parent, await affiliates.plan("revshare", {**FLAT_25, "second_tier_ppm": 100_000}), month[0])
    plan = await affiliates.plan("revshare", FLAT_25)
    for partner in (mine, theirs):
        await affiliates.deal(partner, plan, month[0])
    players = [await make_player() for _ in range(3)]
    await affiliates.attribute(players[0].uuid, mine, sub_id="a")
    await affiliates.attribute(players[1].uuid, mine, sub_id="b")
    await affiliates.attribute(players[2].uuid, theirs, sub_id="a")
    at_noon(month[0] + timedelta(days=2))
    for player, stake in zip(players, (10_000, 20_000, 40_000), strict=True):
        await table.play(player.uuid, stake=stake)
    await table.project()
    close_month(month)
    run = await make_run(rt, brand, month)
    async with rt.database.session() as db:  # a draft's figures may still change: not shown to partners
        assert await reads.partner_commissions(db, mine, month[0], month[1]) == []
    async with rt.database.transaction() as db:
        await approval.approve_run(db, finance(brand), run_id=run.id, thresholds=THRESHOLDS)

    async with rt.database.session() as db:
        own = await reads.partner_commissions(db, mine, month[0], month[1])
        parents = await reads.partner_commissions(db, parent, month[0], month[1])
        nobody = await reads.partner_commissions(db, uuid.uuid4(), month[0], month[1])

    assert [(r.brand, r.sub_id, r.revshare, r.cpa, r.second_tier, r.total, r.currency, r.run_state) for r in own] == [
        ("royal", "a", 2_500, 0, 0, 2_500, "EUR", "approved"),
        ("royal", "b", 5_000, 0, 0, 5_000, "EUR", "approved"),
    ]
    assert [(r.sub_id, r.second_tier, r.total) for r in parents] == [(None, 750, 750)]  # 10 % of mine's 75.00
    assert nobody == []
