"""Journeys end to end through the public surface: marketing builds them in GraphQL, players register,
deposit and win, the `crm-journeys` consumer decides and the clock worker runs the steps — every action
checked by suppression first, with caps and quiet hours in the player's own time zone, each run logged."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from strawberry import relay

from core.clock import clock
from core.consumers import replay
from tests.conftest import fund
from tests.crm_journeys.conftest import SELF_EXCLUDE, SEND, Journeys, welcome

BONUS_RULES = {"max_bonus": {"EUR": "50.00"}, "wagering_multiplier": 2, "max_bet": {"EUR": "5.00"}}
CREATE_CAMPAIGN = """
mutation($input: CreateBonusCampaignInput!) {
  createBonusCampaign(input: $input) { campaign { id } errors { code } } }"""
CAMPAIGN_STATUS = """
mutation($input: SetBonusCampaignStatusInput!) { setBonusCampaignStatus(input: $input) { errors { code } } }"""


async def test_a_registration_runs_the_welcome_journey_step_by_step_and_exactly_once(
    journeys: Journeys, reachable: Any
) -> None:
    await journeys.create(
        welcome(
            SEND,
            {"kind": "wait", "minutes": 60},
            {"kind": "condition", "test": "has_not_deposited"},
            {"kind": "send", "channel": "inbox", "template": "first-deposit-nudge"},
            {"kind": "tag", "tag": "welcomed"},
        )
    )
    ann = await reachable()
    await journeys.decide()
    [run] = await journeys.runs(ann.uuid)
    assert (run["status"], run["reason"], run["step"]) == ("active", None, 0)
    assert run["event_id"] is not None
    assert run["decided_at"] >= run["event_at"]

    # The decision is made once: a redelivery (a replay of the whole outbox) decides nothing new.
    await replay(journeys.runner, journeys.conn)
    assert len(await journeys.runs(ann.uuid)) == 1

    assert await journeys.step() == 1
    queued = await journeys.messages(ann.uuid)
    assert [(m["template"], m["channel"], m["status"], m["source_kind"]) for m in queued] == [
        ("welcome", "email", "queued", "journey")
    ]
    assert await journeys.step() == 0  # waiting an hour
    clock.advance(timedelta(minutes=61))
    assert await journeys.step() == 1
    assert [m["template"] for m in await journeys.messages(ann.uuid)] == ["welcome", "first-deposit-nudge"]
    assert await journeys.steps(ann.uuid) == [
        ("send", "done", None),
        ("wait", "waiting", None),
        ("condition", "done", None),
        ("send", "done", None),
        ("tag", "done", None),
    ]
    [run] = await journeys.runs(ann.uuid)
    assert (run["status"], run["ended_at"] is not None) == ("completed", True)
    assert await journeys.conn.fetchval("SELECT tag FROM crm_player_tags WHERE player_id = $1", ann.uuid) == "welcomed"


async def test_a_condition_that_fails_ends_the_run(journeys: Journeys, reachable: Any, rt: Any) -> None:
    await journeys.create(
        welcome({"kind": "wait", "minutes": 30}, {"kind": "condition", "test": "has_not_deposited"}, SEND)
    )
    bea = await reachable()
    await journeys.decide()
    await journeys.step()
    await fund(rt, bea, "20.00 EUR", deposit=True)
    clock.advance(timedelta(minutes=31))
    await journeys.step()
    assert await journeys.steps(bea.uuid) == [("wait", "waiting", None), ("condition", "exited", "CONDITION_NOT_MET")]
    assert [(r["status"], r["reason"]) for r in await journeys.runs(bea.uuid)] == [("exited", "CONDITION_NOT_MET")]
    assert await journeys.messages(bea.uuid) == []


async def test_a_mixed_audience_only_the_reachable_get_anything_and_the_log_says_why(
    journeys: Journeys, reachable: Any, make_player: Any, gql: Any, rt: Any
) -> None:
    marketing = journeys.token
    made = await gql(
        CREATE_CAMPAIGN,
        {"input": {"name": "Welcome match", "kind": "DEPOSIT_MATCH", "rules": BONUS_RULES}},
        token=marketing,
    )
    campaign = made["data"]["createBonusCampaign"]["campaign"]["id"]
    await gql(CAMPAIGN_STATUS, {"input": {"campaignId": campaign, "status": "ACTIVE"}}, token=marketing)
    campaign_id = str(relay.GlobalID.from_id(campaign).node_id)
    await journeys.create(welcome(SEND, {"kind": "offer", "campaign_id": campaign_id}))

    eligible = await reachable()
    excluded = await reachable()
    assert (await gql(SELF_EXCLUDE, token=excluded.token))["data"]["selfExclude"]["errors"] == []
    silent = await make_player()  # no marketing consent at all
    await journeys.decide()
    assert await journeys.step() == 3

    assert [m["template"] for m in await journeys.messages(eligible.uuid)] == ["welcome"]
    assert await journeys.steps(eligible.uuid) == [("send", "done", None), ("offer", "done", None)]
    offered = await journeys.conn.fetchval("SELECT status FROM player_bonuses WHERE player_id = $1", eligible.uuid)
    assert offered == "issued"  # a deposit match waits for the deposit

    for player, reason in ((excluded, "SELF_EXCLUDED"), (silent, "NO_CONSENT")):
        assert await journeys.messages(player.uuid) == []
        bonuses = await journeys.conn.fetchval("SELECT count(*) FROM player_bonuses WHERE player_id = $1", player.uuid)
        assert bonuses == 0
        assert await journeys.steps(player.uuid) == [("send", "suppressed", reason), ("offer", "suppressed", reason)]
        logged = await journeys.conn.fetch(
            "SELECT purpose, channel, reason, source_kind FROM crm_suppressions WHERE player_id = $1 ORDER BY id",
            player.uuid,
        )
        assert [tuple(r) for r in logged] == [
            ("message", "email", reason, "journey"),
            ("offer", None, reason, "journey"),
        ]


async def test_quiet_hours_hold_a_send_in_the_players_own_time_zone(journeys: Journeys, reachable: Any) -> None:
    # A window around the present hour in Kiritimati (UTC+14): there it is quiet, in UTC it is not.
    local = clock.now() + timedelta(hours=14)
    start, end = (local - timedelta(hours=1)).strftime("%H:%M"), (local + timedelta(hours=1)).strftime("%H:%M")
    await journeys.create(welcome(SEND, quiet_hours={"start": start, "end": end}))
    night = await reachable(time_zone="Pacific/Kiritimati")
    day = await reachable(time_zone="UTC")
    await journeys.decide()
    await journeys.step()

    assert [m["template"] for m in await journeys.messages(day.uuid)] == ["welcome"]
    assert await journeys.messages(night.uuid) == []
    assert await journeys.steps(night.uuid) == [("send", "deferred", "QUIET_HOURS")]
    [held] = await journeys.runs(night.uuid)
    assert held["status"] == "active"
    assert timedelta(minutes=59) < held["due_at"] - clock.now() <= timedelta(hours=1)

    clock.advance(timedelta(minutes=61))
    await journeys.step()
    assert [m["template"] for m in await journeys.messages(night.uuid)] == ["welcome"]
    assert [r["status"] for r in await journeys.runs(night.uuid)] == ["completed"]


async def test_big_wins_and_the_frequency_caps_per_journey_and_per_brand_day(
    journeys: Journeys, reachable: Any, rt: Any, play: Any
) -> None:
    await journeys.create(
        {
            "trigger": {"kind": "big_win", "min_amount": {"EUR": "500.00"}, "min_multiplier": 100},
            "cap": {"max_entries": 1, "per_days": 30},
            "quiet_hours": None,
            "steps": [{"kind": "send", "channel": "inbox", "template": f"big-win-{n}"} for n in range(4)],
        },
        name="Big win",
    )
    lucky = await reachable()
    await fund(rt, lucky, "50.00 EUR")
    await play(lucky, stake=100, won=200)  # 2 EUR on 1: not big
    await play(lucky, stake=100, won=15_000)  # 150 times the stake: big
    await play(lucky, stake=1000, won=60_000)  # 600 EUR: big, but the first run is still going
    await journeys.decide()
    runs = await journeys.runs(lucky.uuid)
    assert [(r["status"], r["reason"]) for r in runs] == [("active", None), ("skipped", "ALREADY_RUNNING")]
    await journeys.step()
    # The brand's daily cap (3 journey messages a player a day) skips the fourth send.
    assert [m["template"] for m in await journeys.messages(lucky.uuid)] == ["big-win-0", "big-win-1", "big-win-2"]
    assert (await journeys.steps(lucky.uuid))[-1] == ("send", "skipped", "FREQUENCY_CAP")

    clock.advance(timedelta(days=2))  # the run is over: the journey's own cap (once in 30 days) decides
    await play(lucky, stake=100, won=70_000)
    await journeys.decide()
    last = (await journeys.runs(lucky.uuid))[-1]
    assert (last["status"], last["reason"]) == ("skipped", "FREQUENCY_CAP")


async def test_an_entry_segment_and_a_move_to_a_segment(
    journeys: Journeys, reachable: Any, rt: Any, brand: Any
) -> None:
    entry, target = uuid.uuid4(), uuid.uuid4()
    async with rt.database.transaction() as db:
        for segment_id, name in ((entry, "VIP"), (target, "Welcomed VIPs")):
            await db.execute(
                text("INSERT INTO crm_segments (id, brand_id, name, kind) VALUES (:id, :brand, :name, 'static')"),
                {"id": segment_id, "brand": brand.id, "name": name},
            )
    await journeys.create(
        welcome(
            {"kind": "condition", "test": "in_segment", "segment_id": str(entry)},
            {"kind": "move_to_segment", "segment_id": str(target)},
            entry_segment_id=str(entry),
        )
    )
    outsider = await reachable()
    insider = await reachable()
    async with rt.database.transaction() as db:
        await db.execute(
            text("INSERT INTO crm_segment_members (segment_id, player_id) VALUES (:s, :p)"),
            {"s": entry, "p": insider.uuid},
        )
    await journeys.decide()
    assert [(r["status"], r["reason"]) for r in await journeys.runs(outsider.uuid)] == [("skipped", "NOT_IN_SEGMENT")]
    await journeys.step()
    assert await journeys.steps(insider.uuid) == [("condition", "done", None), ("move_to_segment", "done", None)]
    members = await journeys.conn.fetch("SELECT player_id FROM crm_segment_members WHERE segment_id = $1", target)
    assert [m["player_id"] for m in members] == [insider.uuid]


async def test_a_first_deposit_fires_once_and_a_time_trigger_reaches_those_who_never_deposited(
    journeys: Journeys, reachable: Any, rt: Any
) -> None:
    await journeys.create(
        {"trigger": {"kind": "first_deposit"}, "quiet_hours": None, "steps": [SEND]}, name="First deposit"
    )
    await journeys.create(
        {"trigger": {"kind": "no_deposit", "hours": 24}, "quiet_hours": None, "steps": [SEND]}, name="Nudge"
    )
    payer = await reachable()
    waiter, second_waiter = await reachable(), await reachable()
    await fund(rt, payer, "10.00 EUR", deposit=True)
    await fund(rt, payer, "15.00 EUR", deposit=True)
    await journeys.decide()
    assert [(r["status"], r["trigger_key"].split(":")[0]) for r in await journeys.runs(payer.uuid)] == [
        ("active", "event")
    ]
    await journeys.step()
    assert await journeys.runs(waiter.uuid) == []  # 24 hours have not passed

    clock.advance(timedelta(hours=25))
    await journeys.step()
    [nudged] = await journeys.runs(waiter.uuid)
    assert (nudged["trigger_key"], nudged["status"]) == (f"no_deposit:24h:{waiter.uuid}", "completed")
    [also] = await journeys.runs(second_waiter.uuid)  # the trigger reaches every player it fires for
    assert also["status"] == "completed"
    assert len(await journeys.runs(payer.uuid)) == 1  # deposited: the nudge is not for them
    await journeys.step()
    assert len(await journeys.runs(waiter.uuid)) == 1  # decided once


async def test_a_suppressed_player_is_never_exposed_to_the_journeys_experiment(
    journeys: Journeys, reachable: Any, gql: Any
) -> None:
    from tests.crm_experiments.conftest import START, create

    made = await create(gql, journeys.token, holdoutPpm=0)
    experiment = made["experiment"]["id"]
    assert (await gql(START, {"id": experiment}, token=journeys.token))["data"]["startExperiment"]["errors"] == []
    send = {**SEND, "variants": {"control": "welcome", "bold": "welcome-bold"}}
    await journeys.create(welcome(send, experiment_id=str(relay.GlobalID.from_id(experiment).node_id)))

    reached, excluded = await reachable(), await reachable()
    assert (await gql(SELF_EXCLUDE, token=excluded.token))["data"]["selfExclude"]["errors"] == []
    await journeys.decide()
    assert await journeys.step() == 2

    exposed = await journeys.conn.fetch("SELECT player_id FROM crm_experiment_assignments")
    assert [row["player_id"] for row in exposed] == [reached.uuid]
    assert await journeys.steps(excluded.uuid) == [("send", "suppressed", "SELF_EXCLUDED")]
