"""The test run that tests/faults/test_killed_run.py starts in a pytest of its own and then kills: it
holds the live server, the demo PSP and the demo game provider open, says so, and waits. Not collected
by a normal run (its name does not start with `test_`)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

READY = os.environ.get("CROUPIER_KILLED_RUN_READY")


@pytest.mark.skipif(not READY, reason="run by tests/faults/test_killed_run.py only")
async def test_waits_with_its_helper_processes_until_killed(
    live_server: str, demo_psp: str, demo_provider: object
) -> None:
    await asyncio.to_thread(Path(str(READY)).write_text, str(os.getpid()))
    await asyncio.sleep(600)
