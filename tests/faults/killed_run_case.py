"""The test runs that tests/faults/test_killed_run.py starts in a pytest of their own: one holds the live
server, the demo PSP and the demo game provider open, says so, and waits to be killed; one leaves a
daemon behind, as an embedded server a CLI started may; one fails after the live server logged a
warning. Not collected by a normal run (the file's name does not start with `test_`)."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

READY = os.environ.get("CROUPIER_KILLED_RUN_READY")


@pytest.mark.skipif(not READY, reason="run by tests/faults/test_killed_run.py only")
async def test_waits_with_its_helper_processes_until_killed(
    live_server: str, demo_psp: str, demo_provider: object
) -> None:
    await asyncio.to_thread(Path(str(READY)).write_text, str(os.getpid()))
    await asyncio.sleep(600)


@pytest.mark.skipif(not READY, reason="run by tests/faults/test_killed_run.py only")
def test_leaves_a_daemon_behind() -> None:
    """A child that forks a session leader of its own and exits: the grandchild outlives it."""
    daemon = "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(600)\n"
    subprocess.run([sys.executable, "-c", daemon], check=True, timeout=30)


@pytest.mark.skipif(not READY, reason="run by tests/faults/test_killed_run.py only")
def test_fails_after_the_live_server_logged_a_warning(live_server: str) -> None:
    host, port = live_server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")  # the server logs "Invalid HTTP request received."
        connection.recv(1024)
    time.sleep(1)
    pytest.fail("on purpose: the report must show what the live server logged meanwhile")
