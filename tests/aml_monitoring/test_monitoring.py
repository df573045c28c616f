"""Transaction monitoring through the public surface: deposits through the cashier's GraphQL and the demo
PSP, the consumer processes the stream, and the alerts explain themselves."""

from __future__ import annotations

import json
from typing import Any

from core import outbox
from core.consumers import Event, replay
from tests.aml_monitoring.conftest import Monitoring, snapshot


async def test_structuring_just_under_the_threshold_raises_an_explained_alert(
    make_player: Any, deposit: Any, monitoring: Monitoring
) -> None:
    player = await make_player()
    await deposit(player, "1900.00")
    await deposit(player, "1950.00")
    await deposit(player, "100.00")  # not just under the threshold: not part of the pattern
    assert await monitoring.drain() > 0
    assert await monitoring.alerts() == []

    await deposit(player, "1999.99")
    await monitoring.drain()
    [alert] = await monitoring.alerts()
    deposits = await monitoring.event_id("payment.succeeded", player_id=str(player.uuid))
    assert (alert["outcome"], alert["score"], alert["status"]) == ("review", 60, "open")
    assert alert["event_id"] == deposits[-1]
    [hit] = json.loads(alert["hits"])
    assert hit["rule"] == "structuring"
    assert hit["figures"] == {
        "deposits": 3,
        "total": 190000 + 195000 + 199999,
        "threshold": 200000,
        "floor": 180000,
        "window_hours": 72,
    }
    assert hit["events"] == [deposits[0], deposits[1], deposits[3]]
    assert alert["event_ids"] == [deposits[0], deposits[1], deposits[3]]
    raised = await monitoring.event_id("aml.alert_raised", player_id=str(player.uuid))
    assert len(raised) == 1


async def test_a_redelivered_event_changes_nothing(make_player: Any, deposit: Any, monitoring: Monitoring) -> None:
    player = await make_player()
    for amount in ("1900.00", "1950.00", "1990.00", "25.00"):
        await deposit(player, amount)
    await monitoring.drain()
    before = await snapshot(monitoring.conn)
    assert len(before["aml_alerts"]) == 1
    assert len(before["aml_monitoring_deposits"]) == 4

    # The stream delivers every event again (a crash before the XACK), and the sweep reads them too.
    rows = await monitoring.conn.fetch(f"SELECT {outbox.ROW_COLUMNS} FROM outbox_events ORDER BY id")
    assert await monitoring.runner.apply(monitoring.conn, [Event.of_row(r) for r in rows]) == set()
    await monitoring.drain()
    assert await snapshot(monitoring.conn) == before


async def test_a_replay_rebuilds_the_same_windows_and_raises_nothing_twice(
    make_player: Any, deposit: Any, monitoring: Monitoring
) -> None:
    player = await make_player()
    for amount in ("1900.00", "1950.00", "1990.00"):
        await deposit(player, amount)
    await monitoring.drain()
    before = await snapshot(monitoring.conn)
    assert await replay(monitoring.runner, monitoring.conn) > 0
    assert await snapshot(monitoring.conn) == before
