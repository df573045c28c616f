"""The bonus worker, one per API process (safe on several replicas: each step locks the player and
re-reads the bonus): expires bonuses past their date and converts those whose wagering is met."""

from __future__ import annotations

import asyncio

from core.logging import get_logger
from services.bonuses.lifecycle import expire_due
from services.runtime import Runtime

log = get_logger(__name__)


async def run(rt: Runtime) -> None:
    while True:
        try:
            await expire_due(rt)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("bonus_worker_failed")
        await asyncio.sleep(rt.settings.bonus_worker_interval_seconds)
