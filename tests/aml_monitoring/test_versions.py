"""A new version of the rules: stored, backtested over the stored history beside the live version (re-runs
double nothing), then activated (audited, announced) and used by the consumer from its next batch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from authz.subjects import Viewer
from services.aml.monitoring import backtest, rules, versions
from tests.aml_monitoring.conftest import Monitoring

STRICTER = rules.DEFAULT_FILE.read_text().replace(
    'margin_percent = "10"     # a deposit within 10 % under it counts\ncount = 3',
    'margin_percent = "10"     # a deposit within 10 % under it counts\ncount = 2',
)


@pytest.fixture
def stricter(tmp_path: Path) -> rules.Version:
    assert rules.DEFAULT_FILE.read_text() != STRICTER
    path = tmp_path / "v2.toml"
    path.write_text(STRICTER.replace('note = "Shipped defaults"', 'note = "Structuring from two deposits"'))
    return rules.read_file(path)


async def backtest_rows(monitoring: Monitoring, run_id: Any) -> list[dict[str, Any]]:
    rows = await monitoring.conn.fetch(
        "SELECT version, event_id, outcome, change, player_id FROM aml_backtest_alerts WHERE run_id = $1 "
        "ORDER BY version, event_id",
        run_id,
    )
    return [dict(r) for r in rows]


async def test_a_new_version_is_backtested_then_activated(
    rt: Any, make_player: Any, deposit: Any, monitoring: Monitoring, stricter: rules.Version
) -> None:
    two, three = await make_player(), await make_player()
    for amount in ("1900.00", "1950.00"):
        await deposit(two, amount)
    for amount in ("1900.00", "1950.00", "1999.00"):
        await deposit(three, amount)
    await monitoring.drain()
    [live_alert] = await monitoring.alerts()
    assert live_alert["player_id"] == three.uuid
    assert live_alert["version"] == 1

    async with rt.database.transaction() as db:
        stored = await versions.add(db, stricter, actor=Viewer(), reason="tighter structuring")
    assert (stored.number, stored.live) == (2, False)

    result = await backtest.run(monitoring.conn, version=2)
    assert (result.version, result.baseline) == (2, 1)
    assert result.summary["baseline"]["by_rule"] == {"structuring": 1}
    assert result.summary["candidate"] == {
        "alerts": 2,
        "by_rule": {"structuring": 2},
        "by_outcome": {"review": 2},
    }
    assert result.summary["changes"] == {"new": 2, "removed": 1, "changed": 0, "same": 0}
    two_ids = await monitoring.event_id("payment.succeeded", player_id=str(two.uuid))
    three_ids = await monitoring.event_id("payment.succeeded", player_id=str(three.uuid))
    rows = await backtest_rows(monitoring, result.run_id)
    assert [(r["version"], r["event_id"], r["change"]) for r in rows] == [
        (1, three_ids[2], "removed"),  # the live version's alert: v2 raised earlier, then cooled down
        *sorted([(2, two_ids[1], "new"), (2, three_ids[1], "new")], key=lambda r: r[1]),
    ]
    # Nothing live moved: the same one alert, no new announcement.
    assert [a["id"] for a in await monitoring.alerts()] == [live_alert["id"]]

    again = await backtest.run(monitoring.conn, version=2)
    assert again.run_id == result.run_id
    assert again.summary == result.summary
    assert await backtest_rows(monitoring, result.run_id) == rows
    assert await monitoring.conn.fetchval("SELECT runs FROM aml_backtest_runs WHERE id = $1", result.run_id) == 2
    assert await monitoring.conn.fetchval("SELECT count(*) FROM aml_backtest_runs") == 1

    async with rt.database.transaction() as db:
        live = await versions.activate(db, 2, actor=Viewer(), reason="backtested: run " + str(result.run_id))
    assert live.live
    activated = await monitoring.event_id("aml.scenario_activated")
    assert len(activated) == 1
    audit = await monitoring.conn.fetchrow(
        "SELECT action, before, after, reason FROM audit_log WHERE action = 'aml.monitoring_version_activated'"
    )
    assert audit is not None
    assert audit["reason"].startswith("backtested")

    newcomer = await make_player()
    for amount in ("1900.00", "1950.00"):
        await deposit(newcomer, amount)
    await monitoring.drain()
    latest = (await monitoring.alerts())[-1]
    assert (latest["player_id"], latest["version"]) == (newcomer.uuid, 2)

    async with rt.database.transaction() as db:
        with pytest.raises(versions.AlreadyLive):
            await versions.activate(db, 2, actor=Viewer(), reason="again")


async def test_a_backtest_of_the_live_version_finds_what_the_consumer_raised(
    make_player: Any, deposit: Any, monitoring: Monitoring
) -> None:
    player = await make_player()
    for amount in ("1900.00", "1950.00", "1999.00", "12000.00"):
        await deposit(player, amount)
    await monitoring.drain()
    live = {(a["event_id"], a["outcome"]) for a in await monitoring.alerts()}
    assert len(live) == 2
    result = await backtest.run(monitoring.conn, version=1)
    rows = await backtest_rows(monitoring, result.run_id)
    assert {(r["event_id"], r["outcome"]) for r in rows} == live
    assert {r["change"] for r in rows} == {"same"}


async def test_bad_versions_are_refused_with_the_field(tmp_path: Path) -> None:
    for broken, field in (
        ('weight = 40\nthreshold = "10000.00"', "threshold"),
        ("ladder = [", "file"),
        ('{ score = 80, outcome = "block_and_review" }', "scenario"),
    ):
        path = tmp_path / "bad.toml"
        text = rules.DEFAULT_FILE.read_text()
        replaced = {
            "threshold": text.replace('threshold = "10000.00"', 'threshold = "10000.001"'),
            "file": text.replace("ladder = [", "ladder = [[", 1),
            "scenario": text.replace('{ score = 80, outcome = "block_and_review" }', '{ score = 30, outcome = "x" }'),
        }[field]
        assert replaced != text, broken
        path.write_text(replaced)
        with pytest.raises(rules.InvalidRules) as refused:
            rules.read_file(path)
        assert refused.value.field == field


async def test_a_backtest_range_warms_up_before_it_and_counts_only_inside(
    make_player: Any, deposit: Any, monitoring: Monitoring
) -> None:
    from core.clock import clock

    player = await make_player()
    for amount in ("1900.00", "1950.00"):
        await deposit(player, amount)
    middle = clock.now()
    await deposit(player, "1999.00")  # the third: the live version's alert
    await monitoring.drain()
    [alert] = await monitoring.alerts()

    inside = await backtest.run(monitoring.conn, version=1, start=middle)
    assert inside.summary["candidate"]["alerts"] == 1  # the two deposits before `start` were read (warm-up)
    rows = await backtest_rows(monitoring, inside.run_id)
    assert [(r["event_id"], r["change"]) for r in rows] == [(alert["event_id"], "same")]
    before = await backtest.run(monitoring.conn, version=1, end=middle)
    assert before.summary["candidate"]["alerts"] == 0
    assert before.run_id != inside.run_id
    assert before.events < inside.events
