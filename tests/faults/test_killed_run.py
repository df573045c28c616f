"""A test run stopped from outside leaves nothing running: SIGTERM (a CI job cancelled), SIGINT (Ctrl-C)
or SIGKILL (the runner killed outright) of a pytest that holds the live server, the demo PSP and the demo
game provider ends every one of them, and the run itself exits promptly after SIGTERM or SIGINT. A run
that ends normally stops what its tests' subprocesses left running, and a failing test's report shows
what the live server logged while it ran."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from tests import infra
from tests.conftest import ADMIN_URL, ROOT

CASE = Path(__file__).with_name("killed_run_case.py")


def wait_for(condition: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("sig", "workers"),
    # SIGTERM as CI sends it, to an xdist controller (scripts/test.sh runs one), whose workers must stop
    # too; Ctrl-C and SIGKILL on a serial run. (A serial run's SIGTERM takes the path SIGINT takes.)
    [(signal.SIGINT, 0), (signal.SIGKILL, 0), (signal.SIGTERM, 1)],
    ids=["SIGINT", "SIGKILL", "SIGTERM-xdist"],
)
def test_a_killed_test_run_leaves_no_process_behind(sig: signal.Signals, workers: int, tmp_path: Path) -> None:
    tag = f"croupier-killed-run-{uuid.uuid4().hex}"
    ready = tmp_path / "ready"
    database = f"{infra.DATABASE}_killed"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CROUPIER_TEST_REDIS_DBS"))}
    environment.update(
        CROUPIER_KILLED_RUN_READY=str(ready),
        CROUPIER_KILLED_RUN_TAG=tag,
        CROUPIER_TEST_DB=database,  # its own database, and this worker's Redis db (busy with this test)
        CROUPIER_TEST_TEMPLATE=infra.TEMPLATE_DB,  # it clones this run's migrated template: no migration of its own
        CROUPIER_TEST_REDIS_DBS=str(infra.redis_db()),
        TMPDIR=str(tmp_path),  # its scratch folders, kept by a run that is killed or fails, go with this test's
    )
    log = tmp_path / "run.log"
    with log.open("wb") as output:
        run = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pytest",
                str(CASE),
                "-q",
                "-p",
                "no:cacheprovider",
                "-n",
                str(workers),
                "-k",
                "killed",
            ],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # a Ctrl-C reaches the run, not this test
        )
    try:
        assert wait_for(ready.exists, 180), f"the run did not get going:\n{log.read_text()[-5000:]}"
        started = set(infra.tagged(tag)) - {run.pid}
        assert len(started) >= 3, started  # the live server, the demo PSP and the demo provider at least
        os.kill(run.pid, sig)
        run.wait(timeout=60)  # it stops, rather than carrying on or hanging in its teardown
        assert wait_for(lambda: not infra.tagged(tag), 15), (
            f"left running after {sig.name}: {infra.tagged(tag)}\n{log.read_text()[-5000:]}"
        )
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
            run.wait()
        for database_name in (database, f"{database}_gw0", f"{database}_template"):
            infra.drop_database(ADMIN_URL, database_name)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_finished_run_stops_what_was_left_running_and_reports_what_the_live_server_logged(tmp_path: Path) -> None:
    """One run of two tests, which ends normally (one of them fails on purpose):
    - it stops the daemons its tests' subprocesses left behind (an embedded Redis that `croupier
      seed-demo` started, say): every process carrying the run's tag is ended at exit;
    - the failing test's report shows what the live server logged while it ran."""
    tag = f"croupier-finished-run-{uuid.uuid4().hex}"
    database = f"{infra.DATABASE}_finished"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "CROUPIER_TEST_REDIS_DBS"))}
    environment.update(
        CROUPIER_KILLED_RUN_READY=str(tmp_path / "unused"),
        CROUPIER_KILLED_RUN_TAG=tag,
        CROUPIER_TEST_DB=database,
        CROUPIER_TEST_TEMPLATE=infra.TEMPLATE_DB,
        CROUPIER_TEST_REDIS_DBS=str(infra.redis_db()),
        TMPDIR=str(tmp_path),  # its scratch folders, kept by a run that is killed or fails, go with this test's
    )
    try:
        done = subprocess.run(
            [
                *(sys.executable, "-m", "pytest", str(CASE), "-q", "-p", "no:cacheprovider", "-n", "0"),
                *("-k", "daemon or logged"),
            ],
            cwd=ROOT,
            env=environment,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert wait_for(lambda: not infra.tagged(tag), 15), f"left running: {infra.tagged(tag)}"
    finally:
        for database_name in (database, f"{database}_template"):
            infra.drop_database(ADMIN_URL, database_name)
    report = done.stdout
    assert done.returncode == 1, report + done.stderr  # the one test failed, as it should
    assert "1 failed, 1 passed" in report, report
    assert "on purpose" in report
    section = report[report.index("live_server log (") :]
    assert "Invalid HTTP request received." in section, report
