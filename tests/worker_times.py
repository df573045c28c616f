"""Opt-in: where each xdist worker spent the run (`CROUPIER_TEST_WORKER_TIMES=1`, or a file name).

The controller notes, per worker, the tests it ran, their summed durations (set-up, call and tear-down)
and when its last report arrived (seconds after the session began), and prints them at the end with each
worker's last tests and, for the groups of `XDIST_GROUPS`, their own totals: the run ends when its last
worker does, so that worker's list is the critical path. `CROUPIER_TEST_WORKER_TIMES=<file>` also appends
every report to that file as it arrives, one JSON line each (worker, node id, phase, duration, seconds since
the start): readable while the run goes on, and after an interrupted one.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from typing import Any

import pytest

_started = time.monotonic()
_busy: dict[str, float] = defaultdict(float)
_tests: dict[str, int] = defaultdict(int)
_last: dict[str, float] = {}
_order: dict[str, list[tuple[str, float]]] = defaultdict(list)
_per_test: dict[str, float] = defaultdict(float)
_TARGET = os.environ.get("CROUPIER_TEST_WORKER_TIMES", "")
_FILE = _TARGET if _TARGET not in ("", "0", "1") else ""


def pytest_sessionstart(session: pytest.Session) -> None:
    global _started
    _started = time.monotonic()
    if _FILE:
        open(_FILE, "w").close()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    node = getattr(report, "node", None)
    worker = node.gateway.id if node is not None else "main"
    now = time.monotonic() - _started
    _busy[worker] += report.duration
    _per_test[report.nodeid] += report.duration
    _last[worker] = now
    if report.when == "teardown":
        _tests[worker] += 1
        _order[worker].append((report.nodeid, _per_test[report.nodeid]))
    if _FILE:
        line = {"worker": worker, "test": report.nodeid, "when": report.when, "s": report.duration, "at": now}
        with open(_FILE, "a") as file:
            file.write(json.dumps(line) + "\n")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from tests.conftest import XDIST_GROUPS

    write = terminalreporter.write_line
    terminalreporter.section("time per worker")
    for worker in sorted(_busy):
        write(
            f"{worker}: {_tests[worker]} tests, {_busy[worker]:.1f} s of test time, "
            f"last report {_last.get(worker, 0):.1f} s after the start"
        )
        for test, seconds in _order[worker][-3:]:
            write(f"    ... {seconds:6.1f} s {test}")
    for group in XDIST_GROUPS:
        in_group = [(test, s) for test, s in _per_test.items() if test.startswith(group)]
        if in_group:
            write(f"group {group}: {len(in_group)} tests, {sum(s for _, s in in_group):.1f} s")
