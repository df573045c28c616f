"""Commission runs through the services: lines from the projections under the deal in force each day,
negative carry-over per deal, CPA once ever, second tier, four-eyes approval, booking in the ledger."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import text

from core.errors import DomainError
from models.affiliate_runs import RunState
from services.affiliates.runs import approval, drafts, reads, settlement
from tests.affiliate_runs.conftest import Affiliates, Table, at_noon, close_month, finance

FLAT_25 = {"revshare": {"kind": "flat", "rate_ppm": 250_000}}
FLAT_40 = {"revshare": {"kind": "flat", "rate_ppm": 400_000}}
THRESHOLDS = {"EUR": "1000.00"}


async def make_run(rt: Any, brand: Any, month: tuple[Any, Any]) -> Any:
    async with rt.database.transaction() as db:
        run, _ = await drafts.create_run(db, finance(brand), brand_id=brand.id, start=month[0], end=month[1])
    return run


async def lines(rt: Any, run_id: Any) -> list[Any]:
    async with rt.database.session() as db:
        found = (await db.execute(reads.lines_of(run_id))).scalars().all()
    return sorted(found, key=lambda line: (line.kind, str(line.affiliate_id), line.first_day or month_start(line)))


def month_start(line: Any) -> Any:
    return line.first_day


async def test_a_deal_change_mid_month_splits_the_players_days(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> None:
    partner = await affiliates.partner("alpha")
    first = await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_25), month[0] - timedelta(days=40))
    second = await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_40), month[0] + timedelta(days=10))
    player = await make_player()
    await affiliates.attribute(player.uuid, partner, sub_id="spring")
    at_noon(month[0] + timedelta(days=2))
    await table.play(player.uuid, stake=10_000, win=2_000)  # NGR 80.00 under the first deal
    at_noon(month[0] + timedelta(days=12))
    await table.play(player.uuid, stake=5_000, bonus_cost=1_000)  # NGR 40.00 under the second
    await table.project()
    close_month(month)

    run = await make_run(rt, brand, month)

    found = await lines(rt, run.id)
    assert [
        (line.deal_id, line.stakes, line.wins, line.bonus_cost, line.ngr, line.rate_ppm, line.revshare)
        for line in found
    ] == [
        (first, 10_000, 2_000, 0, 8_000, 250_000, 2_000),
        (second, 5_000, 0, 1_000, 4_000, 400_000, 1_600),
    ]
    assert {line.sub_id for line in found} == {"spring"}
    assert (found[0].first_day, found[1].first_day) == (month[0] + timedelta(days=2), month[0] + timedelta(days=12))


async def test_negative_carry_over_is_kept_per_deal_and_only_when_the_deal_says_so(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> None:
    carrying = await affiliates.partner("carrying")
    forgetting = await affiliates.partner("forgetting")
    plan = await affiliates.plan("revshare", FLAT_25)
    await affiliates.deal(carrying, plan, month[0], carry_over=True)
    await affiliates.deal(forgetting, plan, month[0], carry_over=False)
    winner_a, winner_b = await make_player(), await make_player()
    await affiliates.attribute(winner_a.uuid, carrying)
    await affiliates.attribute(winner_b.uuid, forgetting)
    at_noon(month[0] + timedelta(days=1))
    for player in (winner_a, winner_b):
        await table.play(player.uuid, stake=1_000, win=6_000)  # NGR -50.00
    await table.project()
    next_month = drafts.month_of(month[1] + timedelta(days=1))
    at_noon(next_month[0] + timedelta(days=1))
    for player in (winner_a, winner_b):
        await table.play(player.uuid, stake=8_000)  # NGR +80.00
    await table.project()
    first = await make_run(rt, brand, month)
    async with rt.database.transaction() as db:
        await approval.approve_run(db, finance(brand), run_id=first.id, thresholds=THRESHOLDS)
    close_month(next_month)

    second = await make_run(rt, brand, next_month)

    async with rt.database.session() as db:
        sums = {row.affiliate_id: row for row in (await reads.deals_of(db, [first.id, second.id]))[second.id]}
        before = {row.affiliate_id: row for row in (await reads.deals_of(db, [first.id]))[first.id]}
    assert (before[carrying].carry_out, before[forgetting].carry_out) == (-5_000, 0)
    assert (sums[carrying].carry_in, sums[carrying].base, sums[carrying].revshare) == (-5_000, 3_000, 750)
    assert (sums[forgetting].carry_in, sums[forgetting].base, sums[forgetting].revshare) == (0, 8_000, 2_000)


async def test_a_cpa_is_paid_once_ever_and_only_when_qualified(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, month: tuple[Any, Any]
) -> None:
    partner = await affiliates.partner("cpa")
    deal = await affiliates.deal(partner, await affiliates.plan("cpa", {"amount": 5_000}), month[0])
    qualified, withheld = await make_player(), await make_player()
    for player in (qualified, withheld):
        await affiliates.attribute(player.uuid, partner, sub_id="s1")
    at_noon(month[0] + timedelta(days=3))
    await affiliates.qualify(qualified.uuid, partner, deal, 5_000)
    await affiliates.qualify(withheld.uuid, partner, deal, 5_000, status="withheld")
    close_month(month)

    run = await make_run(rt, brand, month)
    found = await lines(rt, run.id)
    assert [(line.player_id, line.cpa, line.cpa_amount, line.ngr) for line in found] == [
        (qualified.uuid, True, 5_000, 0)
    ]
    async with rt.database.transaction() as db:
        await approval.approve_run(db, finance(brand), run_id=run.id, thresholds=THRESHOLDS)
    next_month = drafts.month_of(month[1] + timedelta(days=1))
    close_month(next_month)
    later = await make_run(rt, brand, next_month)
    assert await lines(rt, later.id) == []  # paid once: not again in the next run


async def test_a_discarded_draft_gives_its_cpas_back_to_the_next_run(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, month: tuple[Any, Any]
) -> None:
    partner = await affiliates.partner("cpa2")
    deal = await affiliates.deal(partner, await affiliates.plan("cpa", {"amount": 5_000}), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner)
    at_noon(month[0] + timedelta(days=3))
    await affiliates.qualify(player.uuid, partner, deal, 5_000)
    close_month(month)
    run = await make_run(rt, brand, month)
    with pytest.raises(DomainError) as overlapping:
        await make_run(rt, brand, month)
    assert overlapping.value.code == "INVALID_STATE"

    async with rt.database.transaction() as db:
        discarded = await drafts.discard_run(db, finance(brand), run_id=run.id, reason="deal entered late")
    again = await make_run(rt, brand, month)

    assert discarded.state == RunState.DISCARDED
    assert [(line.player_id, line.cpa_amount) for line in await lines(rt, again.id)] == [(player.uuid, 5_000)]


async def test_a_parent_earns_its_second_tier_on_a_sub_partners_commission(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> None:
    parent = await affiliates.partner("parent")
    child = await affiliates.partner("child", parent=parent)
    await affiliates.deal(parent, await affiliates.plan("revshare", {**FLAT_25, "second_tier_ppm": 100_000}), month[0])
    child_deal = await affiliates.deal(child, await affiliates.plan("hybrid", {**FLAT_25, "amount": 2_000}), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, child)
    at_noon(month[0] + timedelta(days=5))
    await table.play(player.uuid, stake=20_000, win=4_000)  # NGR 160.00: 40.00 revenue share
    await affiliates.qualify(player.uuid, child, child_deal, 2_000)
    await table.project()
    close_month(month)

    run = await make_run(rt, brand, month)

    found = await lines(rt, run.id)
    tier = [line for line in found if line.kind == "second_tier"]
    assert [(line.affiliate_id, line.sub_affiliate_id, line.second_tier_base, line.second_tier) for line in tier] == [
        (parent, child, 6_000, 600)
    ]
    mine = [line for line in found if line.kind == "player"]
    assert [(line.revshare, line.cpa_amount) for line in mine] == [(4_000, 2_000)]


async def test_above_the_threshold_two_different_finance_people_approve(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any]
) -> None:
    partner = await affiliates.partner("big")
    await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_40), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner)
    at_noon(month[0] + timedelta(days=1))
    await table.play(player.uuid, stake=500_000)  # 2,000.00 of commission: above 1,000.00
    await table.project()
    close_month(month)
    run = await make_run(rt, brand, month)
    first, second = finance(brand), finance(brand)

    async with rt.database.transaction() as db:
        once = await approval.approve_run(db, first, run_id=run.id, thresholds=THRESHOLDS)
    with pytest.raises(DomainError) as again:
        async with rt.database.transaction() as db:
            await approval.approve_run(db, first, run_id=run.id, thresholds=THRESHOLDS)
    async with rt.database.transaction() as db:
        twice = await approval.approve_run(db, second, run_id=run.id, thresholds=THRESHOLDS)

    assert (once.awaiting_second_approval, once.needed) == (True, 2)
    assert again.value.code == "APPROVAL_REQUIRED"
    assert (twice.awaiting_second_approval, twice.run.state) == (False, RunState.APPROVED)
    async with rt.database.session() as db:
        actions = (await db.execute(text("SELECT action FROM audit_log ORDER BY seq"))).scalars().all()
    assert [a for a in actions if a.startswith("affiliate_run")] == [
        "affiliate_run.create",
        "affiliate_run.first_approval",
        "affiliate_run.approve",
    ]


async def test_a_booked_run_owes_each_partner_its_total_and_pays_it_out_once(
    rt: Any, brand: Any, make_player: Any, affiliates: Affiliates, table: Table, month: tuple[Any, Any], psp: Any
) -> None:
    partner = await affiliates.partner("payee")
    await affiliates.deal(partner, await affiliates.plan("revshare", FLAT_25), month[0])
    player = await make_player()
    await affiliates.attribute(player.uuid, partner)
    at_noon(month[0] + timedelta(days=1))
    await table.play(player.uuid, stake=12_000, win=2_000)  # NGR 100.00 → 25.00
    await table.project()
    close_month(month)
    run = await make_run(rt, brand, month)
    viewer = finance(brand)
    with pytest.raises(DomainError):
        await settlement.book_run(rt, viewer, run_id=run.id)  # not approved yet
    async with rt.database.transaction() as db:
        await approval.approve_run(db, viewer, run_id=run.id, thresholds=THRESHOLDS)

    booked = await settlement.book_run(rt, viewer, run_id=run.id)
    assert booked.state == RunState.BOOKED
    assert await payable(rt, partner) == 2_500
    paid = await settlement.pay_run(rt, viewer, run_id=run.id)
    assert [(o.amount, o.status) for o in paid] == [(2_500, "paid")]
    assert await payable(rt, partner) == 0
    with pytest.raises(DomainError):
        await settlement.pay_run(rt, viewer, run_id=run.id)  # paid: nothing sent again
    assert len(await psp.transactions()) == 1
    async with rt.database.session() as db:
        state = await db.scalar(text("SELECT state FROM affiliate_runs WHERE id = :r"), {"r": run.id})
        events = (
            await db.execute(
                text(
                    "SELECT topic, key AS subject, payload AS data FROM outbox_events "
                    "WHERE topic LIKE 'affiliate.%' ORDER BY id"
                )
            )
        ).all()
    assert state == "paid"
    assert [(e.topic, e.subject, e.data["amount"]) for e in events] == [
        ("affiliate.commission_booked", f"affiliate:{partner}", 2_500),
        ("affiliate.payout_paid", f"affiliate:{partner}", 2_500),
    ]


async def payable(rt: Any, partner: Any) -> int:
    async with rt.database.session() as db:
        found = await db.scalar(
            text(
                "SELECT coalesce(sum(p.amount), 0) FROM ledger_postings p "
                "JOIN ledger_accounts a ON a.id = p.account_id "
                "WHERE a.purpose = 'affiliate_payable' AND a.owner_id = :owner"
            ),
            {"owner": f"affiliate:{partner}"},
        )
    return int(found)
