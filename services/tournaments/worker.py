"""The tournament clock, one per API process (safe on several replicas: `tick` takes the due tournaments
FOR UPDATE SKIP LOCKED): scheduled tournaments start at their start, running ones finish at their end."""

from __future__ import annotations

import asyncio

from core.logging import get_logger
from core.runtime import Runtime
from services.tournaments import lifecycle

log = get_logger(__name__)


async def run(rt: Runtime) -> None:
    while True:
        try:
            ticked = await lifecycle.tick(rt)
            if ticked.started or ticked.finished:
                log.info("tournaments_ticked", started=len(ticked.started), finished=len(ticked.finished))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tournament_worker_failed")
        await asyncio.sleep(rt.settings.tournament_tick_seconds)
