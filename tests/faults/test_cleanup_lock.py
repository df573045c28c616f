"""The per-test cleanup cannot hang on a lock: when another session keeps a table locked, emptying the
tables gives up within seconds (lock_timeout) and names the session that holds it."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg
import pytest

from tests.conftest import DATABASE_URL, empty_tables


async def test_a_lock_held_elsewhere_fails_the_cleanup_fast_and_names_its_holder(rt: Any) -> None:
    holder = await asyncpg.connect(DATABASE_URL)
    try:
        transaction = holder.transaction()
        await transaction.start()
        # risk_rules holds the default rules after every cleanup, so the cleanup must DELETE from it: and wait.
        await holder.execute("LOCK TABLE risk_rules IN SHARE MODE")
        started = time.monotonic()
        with pytest.raises(AssertionError, match="could not empty the tables") as failed:
            await asyncio.wait_for(empty_tables(rt, attempts=2), 60)
        assert time.monotonic() - started < 30
        assert "LOCK TABLE risk_rules IN SHARE MODE" in str(failed.value)  # who holds it
    finally:
        await holder.close()  # its transaction ends: the real cleanup after this test goes through
