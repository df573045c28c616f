"""`croupier aml` as an operator runs it (a subprocess on the test database): a version added from a file,
backtested twice (one run, nothing doubled), activated (audited), and a bad file refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from services.aml.monitoring import rules
from tests.aml_monitoring.conftest import Monitoring
from tests.aml_monitoring.test_versions import STRICTER
from tests.cli_process import run_async


async def croupier(*args: str) -> subprocess.CompletedProcess[str]:
    return await run_async("aml", *args)  # a warm forked CLI process (tests/cli_process.py)


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (done.stdout, done.stderr)
    return done.stdout


async def test_add_backtest_twice_and_activate_from_the_command_line(
    make_player: Any, deposit: Any, monitoring: Monitoring, tmp_path: Path
) -> None:
    player = await make_player()
    for amount in ("1900.00", "1950.00"):
        await deposit(player, amount)
    await monitoring.drain()
    assert await monitoring.alerts() == []  # version 1 needs three

    stricter = tmp_path / "v2.toml"
    stricter.write_text(STRICTER)
    assert (
        ok(await croupier("add-version", str(stricter), "--reason", "two deposits suffice")).strip()
        == "stored version 2"
    )

    first = ok(await croupier("backtest", "--version", "2"))
    again = ok(await croupier("backtest", "--version", "2"))
    assert first.splitlines()[0] == again.splitlines()[0]  # "run <id>: version 2 against live version 1"
    assert "version 2 against live version 1" in first
    summary = json.loads(first[first.index("{") :])
    assert summary["changes"] == {"new": 1, "removed": 0, "changed": 0, "same": 0}
    assert json.loads(again[again.index("{") :]) == summary
    assert await monitoring.conn.fetchval("SELECT count(*) FROM aml_backtest_alerts") == 1
    assert await monitoring.conn.fetchval("SELECT runs FROM aml_backtest_runs") == 2
    assert await monitoring.alerts() == []  # a backtest decides nothing live

    assert ok(await croupier("activate-version", "2", "--reason", "backtested")).strip() == "version 2 is live"
    assert "   2 LIVE" in ok(await croupier("versions"))
    refused = await croupier("activate-version", "2")
    assert refused.returncode == 1
    assert "already live" in refused.stderr
    audit = await monitoring.conn.fetch(
        "SELECT action, actor_type, reason FROM audit_log WHERE action LIKE 'aml.monitoring_version_%' ORDER BY seq"
    )
    assert [tuple(r) for r in audit] == [
        ("aml.monitoring_version_added", "system", "two deposits suffice"),
        ("aml.monitoring_version_activated", "system", "backtested"),
    ]

    broken = tmp_path / "broken.toml"
    broken.write_text(rules.DEFAULT_FILE.read_text().replace('kind = "structuring"', 'kind = "smurfing"'))
    done = await croupier("add-version", str(broken))
    assert done.returncode == 1
    assert "refused:" in done.stderr
    assert "`kind` must be one of" in done.stderr
