"""The sweep flags sub-ids whose players are linked accounts, come from one device, or deposit and leave
without play; a flag withholds the sub-id's qualified CPAs, once, and `cpa_hold_reason` withholds those
that qualify while it is open."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
from sqlalchemy import text

from services.affiliates import fraud
from services.affiliates.fraud_rules import Thresholds
from tests.affiliate_fraud.conftest import (
    RULES,
    Partner,
    attribute,
    day,
    days_ago,
    flags,
    make_partner,
    qualify,
    statuses,
    sweep,
)
from tests.conftest import DATABASE_URL
from tests.risk.conftest import Signals, registered

DEVICE = "dev-farm-0000001"


async def one_device_farm(rt: Any, gql: Any, signals: Signals, partner: Partner, sub_id: str) -> list[uuid.UUID]:
    """Three accounts registered from one device (the real risk consumer links them), all sent by `sub_id`."""
    players = [(await registered(gql, f"farm{n}-{sub_id}@example.com", device=DEVICE)).uuid for n in range(3)]
    await signals.drain()
    for player in players:
        await attribute(rt, partner, player, sub_id)
    return players


async def events(rt: Any, topic: str) -> list[dict[str, Any]]:
    async with rt.database.session() as db:
        rows = await db.execute(text("SELECT payload FROM outbox_events WHERE topic = :t ORDER BY id"), {"t": topic})
        return [r.payload if isinstance(r.payload, dict) else json.loads(r.payload) for r in rows]


async def test_linked_players_from_one_device_flag_their_sub_id_and_withhold_its_unpaid_cpas(
    rt: Any, gql: Any, signals: Signals, partner: Partner
) -> None:
    farm = await one_device_farm(rt, gql, signals, partner, "s1")
    honest = (await registered(gql, "honest@example.com", device="dev-honest-0001")).uuid
    await attribute(rt, partner, honest, "s2")
    await qualify(rt, partner, farm[0])
    await qualify(rt, partner, honest)

    raised = await sweep(rt)

    [flag] = await flags(rt)
    assert raised == [flag.id]
    assert (flag.sub_id, flag.status, flag.reasons) == ("s1", "open", ["linked_accounts", "one_device"])
    assert set(flag.player_ids) == set(farm)
    assert flag.withheld == 1
    linked = flag.evidence["linked_accounts"]["players"]
    assert {p["player_id"] for p in linked} == {str(p) for p in farm}
    assert all("device" in p["detail"] for p in linked)
    assert DEVICE not in json.dumps(flag.evidence)  # the device id is masked
    assert await statuses(rt) == {farm[0]: "withheld", honest: "qualified"}
    [event] = await events(rt, "affiliate.subid_flagged")
    assert event == {
        "flag_id": str(flag.id),
        "affiliate_id": str(partner.id),
        "brand_id": str(partner.brand_id),
        "sub_id": "s1",
        "checks": ["linked_accounts", "one_device"],
        "players": 3,
        "withheld": 1,
    }
    async with rt.database.session() as db:
        audit = (
            await db.execute(
                text("SELECT actor_type, target_id FROM audit_log WHERE action = 'affiliate.subid_flagged'")
            )
        ).all()
    assert [(a.actor_type, a.target_id) for a in audit] == [("system", str(flag.id))]

    # Who qualifies on the flagged sub-id meanwhile is withheld; the honest sub-id is not.
    async with rt.database.session() as db:
        reason = await fraud.cpa_hold_reason(db, partner.id, "s1", farm[1])
        assert reason is not None
        assert "pending review" in reason
        assert "linked_accounts" in reason
        assert await fraud.cpa_hold_reason(db, partner.id, "s2", honest) is None
    conn = await asyncpg.connect(DATABASE_URL)  # the CPA consumer's connection
    try:
        assert await fraud.cpa_hold_reason(conn, partner.id, "s1", farm[2]) == reason
        assert await fraud.cpa_hold_reason(conn, partner.id, None, honest) is None
    finally:
        await conn.close()


async def test_the_same_evidence_raises_one_flag_however_many_sweeps_run(
    rt: Any, gql: Any, signals: Signals, partner: Partner
) -> None:
    farm = await one_device_farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, farm[0])

    first, second = await asyncio.gather(sweep(rt), sweep(rt))
    assert len(first + second) == 1
    assert await sweep(rt) == []
    assert len(await flags(rt)) == 1
    assert len(await events(rt, "affiliate.subid_flagged")) == 1


async def test_a_cpa_qualified_beside_the_flag_is_withheld_by_the_next_sweep(
    rt: Any, gql: Any, signals: Signals, partner: Partner
) -> None:
    farm = await one_device_farm(rt, gql, signals, partner, "s1")
    await sweep(rt)
    # The CPA consumer's transaction did not see the flag (it committed beside the sweep's).
    await qualify(rt, partner, farm[1])
    assert await sweep(rt) == []
    assert (await statuses(rt))[farm[1]] == "withheld"
    [flag] = await flags(rt)
    assert flag.withheld == 1


async def test_players_below_the_thresholds_flag_nothing(rt: Any, gql: Any, signals: Signals, partner: Partner) -> None:
    farm = await one_device_farm(rt, gql, signals, partner, "s1")
    await qualify(rt, partner, farm[0])
    strict = Thresholds(linked_min_players=4, device_min_players=4)
    assert await sweep(rt, strict) == []
    assert await flags(rt) == []
    assert await statuses(rt) == {farm[0]: "qualified"}


async def test_players_who_deposit_and_leave_without_play_flag_their_sub_id(
    rt: Any, make_player: Any, partner: Partner, brand: Any
) -> None:
    leavers = [(await make_player()).uuid for _ in range(3)]
    player = (await make_player()).uuid
    for p in [*leavers, player]:
        await attribute(rt, partner, p, "bonus-hunt")
    await day(rt, leavers[0], brand.id, days_ago(2), deposits=2000)
    await day(rt, leavers[0], brand.id, days_ago(1), withdrawals=2000)  # deposited, withdrew, never bet
    await day(rt, leavers[1], brand.id, days_ago(20), deposits=2000)  # deposited, nothing for 20 days
    await day(rt, leavers[2], brand.id, days_ago(9), deposits=2000)
    await day(rt, leavers[2], brand.id, days_ago(1), bets=5)  # bet, but only after the window
    await day(rt, player, brand.id, days_ago(3), deposits=2000, bets=40)
    await qualify(rt, partner, player)

    [flag_id] = await sweep(rt)

    [flag] = await flags(rt)
    assert (flag.id, flag.sub_id, flag.reasons) == (flag_id, "bonus-hunt", ["deposit_and_leave"])
    assert set(flag.player_ids) == set(leavers)
    evidence = flag.evidence["deposit_and_leave"]
    assert evidence["detail"].startswith("3 of 4 depositing players placed no bet within 7 days")
    details = {p["player_id"]: p["detail"] for p in evidence["players"]}
    assert details[str(leavers[0])].endswith("no bet, withdrew")
    assert details[str(leavers[1])].endswith("no bet, nothing since")
    # The player who played is not evidence, but their CPA waits with the sub-id's.
    assert await statuses(rt) == {player: "withheld"}


async def test_a_depositor_still_within_the_window_is_not_counted_as_leaving(
    rt: Any, make_player: Any, partner: Partner, brand: Any
) -> None:
    players = [(await make_player()).uuid for _ in range(3)]
    for p in players:
        await attribute(rt, partner, p, "fresh")
        await day(rt, p, brand.id, days_ago(2), deposits=2000)  # no bet yet, no withdrawal: may still play
    assert await sweep(rt) == []
    await day(rt, players[0], brand.id, days_ago(1), withdrawals=2000)
    await day(rt, players[1], brand.id, days_ago(1), withdrawals=2000)
    assert await sweep(rt) == []  # two of three: below `min_players`
    await day(rt, players[2], brand.id, days_ago(0), withdrawals=2000)
    assert len(await sweep(rt)) == 1


async def test_sub_ids_are_per_partner_and_brand(rt: Any, gql: Any, signals: Signals, partner: Partner) -> None:
    other = await make_partner(rt, partner.brand_id, code="other")
    farm = [(await registered(gql, f"x{n}@example.com", device=DEVICE)).uuid for n in range(3)]
    await signals.drain()
    await attribute(rt, partner, farm[0], "s1")
    await attribute(rt, other, farm[1], "s1")
    await attribute(rt, other, farm[2], None)
    # Each partner's sub-id holds one linked player: below the threshold of two for both.
    assert await sweep(rt, RULES) == []
    loose = Thresholds(linked_min_players=1, device_min_players=3)
    raised = await sweep(rt, loose)
    assert len(raised) == 3
    assert {(f.affiliate_id, f.sub_id) for f in await flags(rt)} == {
        (partner.id, "s1"),
        (other.id, "s1"),
        (other.id, ""),  # the players a partner sent without a sub-id
    }


# The columns of the commission runs' tables (services/affiliates/runs, migration 0046) this test writes: stand-ins
# are created for it where that part is not installed, and dropped after.
_STAND_INS = (
    "CREATE TABLE affiliate_runs (id uuid PRIMARY KEY, brand_id uuid NOT NULL, period_start date NOT NULL, "
    "period_end date NOT NULL, state varchar(16) NOT NULL)",
    "CREATE TABLE affiliate_run_lines (id bigserial PRIMARY KEY, run_id uuid NOT NULL, affiliate_id uuid NOT NULL, "
    "kind varchar(16) NOT NULL, player_id uuid, currency varchar(8) NOT NULL, cpa boolean NOT NULL, "
    "cpa_amount bigint NOT NULL DEFAULT 0)",
)


async def put_on_a_run(rt: Any, partner: Partner, player_id: uuid.UUID, state: str) -> None:
    async with rt.database.transaction() as db:
        run_id = uuid.uuid4()
        await db.execute(
            text(
                "INSERT INTO affiliate_runs (id, brand_id, period_start, period_end, state) "
                "VALUES (:id, :brand, current_date - 30, current_date - 1, :state)"
            ),
            {"id": run_id, "brand": partner.brand_id, "state": state},
        )
        await db.execute(
            text(
                "INSERT INTO affiliate_run_lines (run_id, affiliate_id, kind, player_id, currency, cpa, cpa_amount) "
                "VALUES (:run, :partner, 'player', :player, 'EUR', true, 5000)"
            ),
            {"run": run_id, "partner": partner.id, "player": player_id},
        )


async def test_a_cpa_a_commission_run_took_is_never_withheld(
    rt: Any, gql: Any, signals: Signals, partner: Partner
) -> None:
    async with rt.database.session() as db:
        installed = await db.scalar(text("SELECT to_regclass('affiliate_run_lines') IS NOT NULL"))
    if not installed:
        async with rt.database.transaction() as db:
            for statement in _STAND_INS:
                await db.execute(text(statement))
    try:
        farm = await one_device_farm(rt, gql, signals, partner, "s1")
        for player in farm:
            await qualify(rt, partner, player)
        await put_on_a_run(rt, partner, farm[0], "paid")
        await put_on_a_run(rt, partner, farm[1], "draft")

        [flag_id] = await sweep(rt)

        assert await statuses(rt) == {farm[0]: "qualified", farm[1]: "qualified", farm[2]: "withheld"}
        [flag] = await flags(rt)
        assert (flag.id, flag.withheld) == (flag_id, 1)
    finally:
        async with rt.database.transaction() as db:
            if installed:
                await db.execute(text("DELETE FROM affiliate_run_lines"))
                await db.execute(text("DELETE FROM affiliate_runs"))
            else:
                await db.execute(text("DROP TABLE affiliate_run_lines, affiliate_runs"))


async def test_new_evidence_joins_the_open_flag_without_a_second_event(
    rt: Any, gql: Any, signals: Signals, partner: Partner
) -> None:
    farm = await one_device_farm(rt, gql, signals, partner, "s1")
    [flag_id] = await sweep(rt)
    late = (await registered(gql, "late@example.com", device=DEVICE)).uuid
    await signals.drain()
    await attribute(rt, partner, late, "s1")
    await qualify(rt, partner, late)

    assert await sweep(rt) == []

    [flag] = await flags(rt)
    assert flag.id == flag_id
    assert set(flag.player_ids) == {*farm, late}
    assert flag.evidence["one_device"]["detail"] == "4 players seen with one device (…000001)"
    assert len(flag.evidence["one_device"]["players"]) == 4
    assert await statuses(rt) == {late: "withheld"}
    assert len(await events(rt, "affiliate.subid_flagged")) == 1


async def test_the_sweep_runs_from_the_command_line(rt: Any, gql: Any, signals: Signals, partner: Partner) -> None:
    from tests.test_audit import run_cli

    await one_device_farm(rt, gql, signals, partner, "s1")
    code, output = await run_cli("risk", "affiliate-sweep")
    assert code == 0, output
    [flag] = await flags(rt)
    assert output.strip().splitlines()[-2:] == [str(flag.id), "1 sub-id(s) flagged"]
    code, output = await run_cli("risk", "affiliate-sweep")
    assert output.strip().splitlines()[-1] == "0 sub-id(s) flagged"
