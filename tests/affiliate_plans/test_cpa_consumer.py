"""The `affiliate-cpa` consumer, driven as the server's runner drives it: attributed players qualify once when
their first deposit and net cash wagering meet the rule of their partner's deal within the window; the deal in
force on the qualifying day sets the amount; a flagged sub-id withholds; redelivered and reordered events decide
the same; a replay qualifies nobody twice."""

from __future__ import annotations

import random
from datetime import timedelta
from typing import Any

import pytest

from core.clock import clock
from core.consumers import replay
from services.affiliates import fraud
from tests.affiliate_plans.conftest import (
    Cpa,
    attribute,
    create_deal,
    create_plan,
    deposit,
    gid_uuid,
    roll_back,
    seated,
    stake,
)

QUALIFIED = ("affiliate.qualified", "affiliate.withheld")


@pytest.fixture
async def on_cpa(gql: Any, manager: Any, partner: Any) -> dict[str, Any]:
    """Partner acme on royal under CPA 50.00 EUR: first deposit ≥ 20.00, wagering ≥ 100.00, within 30 days."""
    plan = (await create_plan(gql, manager.token))["plan"]
    deal = await create_deal(gql, manager.token, plan["id"])
    assert deal["errors"] == [], deal
    return deal["deal"]


async def test_a_player_qualifies_once_both_thresholds_are_met(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await attribute(partner, player.uuid, sub_id="spring")
    await deposit(rt, player, "25.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    await stake(aggregator, seat, 6000)
    await cpa.drain()
    assert await cpa.qualifications() == []  # 60.00 of 100.00 wagered
    await stake(aggregator, seat, 4000)
    await cpa.drain()
    [row] = await cpa.qualifications()
    assert (row["player_id"], row["affiliate_id"], row["deal_id"]) == (player.uuid, partner.id, gid_uuid(on_cpa["id"]))
    assert (row["status"], row["amount"], row["currency"], row["reason"]) == ("qualified", 5000, "EUR", None)
    [event] = await cpa.published(*QUALIFIED)
    assert event.type == "affiliate.qualified"
    assert event.subject == f"player:{player.uuid}"
    assert event.brand == str(partner.brand_id)
    assert event.data["sub_id"] == "spring"
    assert event.data["amount"] == 5000
    assert row["event_id"] == (await cpa.published("ledger.game_bet"))[-1].id  # the stake that met the rule
    await stake(aggregator, seat, 10_000)  # more play changes nothing: once, ever
    await cpa.drain()
    assert len(await cpa.qualifications()) == 1
    assert len(await cpa.published(*QUALIFIED)) == 1


async def test_the_first_deposit_counts_not_a_later_bigger_one(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await attribute(partner, player.uuid)
    await deposit(rt, player, "10.00 EUR")
    await deposit(rt, player, "500.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    await stake(aggregator, seat, 20_000)
    await cpa.drain()
    assert await cpa.qualifications() == []


async def test_a_rolled_back_stake_is_not_wagering(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await attribute(partner, player.uuid)
    await deposit(rt, player, "50.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    bet = await stake(aggregator, seat, 5000)
    await roll_back(aggregator, seat, bet)
    await stake(aggregator, seat, 5000)
    await cpa.drain()
    assert await cpa.qualifications() == []  # 100.00 staked, 50.00 of it given back
    await stake(aggregator, seat, 5000)
    await cpa.drain()
    assert [r["status"] for r in await cpa.qualifications()] == ["qualified"]


async def test_redelivered_and_reordered_events_decide_the_same(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await attribute(partner, player.uuid)
    await deposit(rt, player, "30.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    for cents in (3000, 3000, 4000, 2000):  # the third stake reaches 100.00
        await stake(aggregator, seat, cents)
    events = await cpa.published("ledger.deposit", "ledger.game_bet", player_id=player.uuid)
    assert [e.type for e in events] == ["ledger.deposit"] + ["ledger.game_bet"] * 4
    meeting = events[3]
    shuffled = events[:]
    random.Random(19).shuffle(shuffled)
    for batch in ([shuffled[0]], shuffled[1:3], shuffled[::-1], shuffled):  # out of order, then all again
        await cpa.runner.apply(cpa.conn, list(reversed(batch)))
    await cpa.drain()  # and the stream and the sweep deliver them once more
    [row] = await cpa.qualifications()
    assert (row["event_id"], row["qualified_at"]) == (meeting.id, meeting.time)
    assert len(await cpa.published(*QUALIFIED)) == 1
    assert await cpa.conn.fetchval("SELECT count(*) FROM affiliate_cpa_activity") == 5


async def test_the_deal_in_force_on_the_qualifying_day_sets_the_amount(
    rt: Any, gql: Any, cpa: Cpa, manager: Any, make_player: Any, partner: Any, on_cpa: dict[str, Any],
    aggregator: Any, hub88_provider: Any,
) -> None:  # fmt: skip
    richer = await create_plan(gql, manager.token, code="cpa-80", cpa={
        "amount": "80.00", "minFirstDeposit": "20.00", "minWagering": "150.00", "withinDays": 30,
    })  # fmt: skip
    tomorrow = clock.now().date() + timedelta(days=1)
    later = await create_deal(gql, manager.token, richer["plan"]["id"], on=tomorrow)
    assert later["errors"] == [], later
    player = await make_player()
    await attribute(partner, player.uuid)
    await deposit(rt, player, "40.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    await stake(aggregator, seat, 9000)
    await cpa.drain()
    assert await cpa.qualifications() == []
    # Tomorrow the 80.00 deal is in force: 90.00 + 30.00 meets the old rule, not the new one (150.00).
    now = clock.now()
    clock.advance(timedelta(days=1) - timedelta(hours=now.hour, minutes=now.minute) + timedelta(minutes=5))
    await stake(aggregator, seat, 3000)
    await cpa.drain()
    assert await cpa.qualifications() == []
    await stake(aggregator, seat, 3000)
    await cpa.drain()
    [row] = await cpa.qualifications()
    assert (row["deal_id"], row["amount"]) == (gid_uuid(later["deal"]["id"]), 8000)
    assert row["qualified_at"].date() == tomorrow


async def test_nothing_qualifies_after_the_window(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any
) -> None:
    player = await make_player()
    await attribute(partner, player.uuid)
    seat = await seated(rt, hub88_provider, player)
    clock.advance(timedelta(days=30, minutes=1))
    await deposit(rt, player, "30.00 EUR")
    await stake(aggregator, seat, 20_000)
    await cpa.drain()
    assert await cpa.qualifications() == []


async def test_a_flagged_sub_id_withholds_the_cpa(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    asked: list[tuple[Any, ...]] = []

    async def flagged(conn: Any, affiliate_id: Any, sub_id: str | None, player_id: Any) -> str | None:
        asked.append((affiliate_id, sub_id, player_id))
        return "sub-id fraudy flagged: linked accounts" if sub_id == "fraudy" else None

    monkeypatch.setattr(fraud, "cpa_hold_reason", flagged)  # afffraud's module decides; the contract is this call
    player = await make_player()
    await attribute(partner, player.uuid, sub_id="fraudy")
    await deposit(rt, player, "20.00 EUR")
    seat = await seated(rt, hub88_provider, player)
    await stake(aggregator, seat, 10_000)
    await cpa.drain()
    [row] = await cpa.qualifications()
    assert (row["status"], row["reason"]) == ("withheld", "sub-id fraudy flagged: linked accounts")
    [event] = await cpa.published(*QUALIFIED)
    assert (event.type, event.data["reason"]) == ("affiliate.withheld", "subid_flagged")
    assert asked == [(partner.id, "fraudy", player.uuid)]


async def test_unattributed_players_and_revshare_deals_earn_no_cpa(
    rt: Any, gql: Any, cpa: Cpa, manager: Any, make_player: Any, brand: Any, aggregator: Any, hub88_provider: Any
) -> None:
    from tests.affiliate_plans.conftest import insert_partner

    revshare = await create_plan(gql, manager.token, code="rev", kind="REVSHARE", cpa=None,
                                 revshare={"kind": "FLAT", "ratePpm": 300_000})  # fmt: skip
    partner = await insert_partner(rt, brand.id, "revco")
    assert (await create_deal(gql, manager.token, revshare["plan"]["id"], partner="revco"))["errors"] == []
    organic, referred = await make_player(), await make_player()
    await attribute(partner, referred.uuid)
    for player in (organic, referred):
        await deposit(rt, player, "50.00 EUR")
        await stake(aggregator, await seated(rt, hub88_provider, player), 20_000)
    await cpa.drain()
    assert await cpa.qualifications() == []
    players = await cpa.conn.fetch("SELECT DISTINCT player_id FROM affiliate_cpa_activity")
    assert [r["player_id"] for r in players] == [referred.uuid]  # only attributed players are followed


async def test_a_replay_qualifies_nobody_twice(
    rt: Any, cpa: Cpa, make_player: Any, partner: Any, on_cpa: dict[str, Any], aggregator: Any, hub88_provider: Any
) -> None:
    done, pending = await make_player(), await make_player()
    for player in (done, pending):
        await attribute(partner, player.uuid)
        await deposit(rt, player, "20.00 EUR")
    await stake(aggregator, await seated(rt, hub88_provider, done), 10_000)
    await stake(aggregator, await seated(rt, hub88_provider, pending), 5_000)
    await cpa.drain()
    before = await cpa.qualifications()
    activity = await cpa.conn.fetch("SELECT * FROM affiliate_cpa_activity ORDER BY event_id")
    await replay(cpa.runner, cpa.conn)
    assert await cpa.qualifications() == before
    assert [r["player_id"] for r in before] == [done.uuid]
    assert await cpa.conn.fetch("SELECT * FROM affiliate_cpa_activity ORDER BY event_id") == activity
    assert len(await cpa.published(*QUALIFIED)) == 1
