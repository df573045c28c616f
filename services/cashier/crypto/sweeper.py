"""The held-deposit sweep as a worker of the server: every `CRYPTO_HELD_SWEEP_SECONDS` (0: off), holds.py `sweep`,
the same function `croupier payments crypto-held` runs once.

Safe on several replicas and beside the command: each held deposit is decided under its row lock, from the status
it moves from (holds.py), so two sweeps at once release or refund it once; the loser finds it decided and keeps
nothing of it. It waits an interval first, so a server that restarts often does not sweep at every start, and a
sweep that fails (the database away) is logged and tried again at the next interval.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core.logging import get_logger
from core.runtime import Runtime
from services.cashier.crypto import holds

log = get_logger(__name__)


async def run(rt: Runtime) -> None:
    interval = rt.settings.crypto_held_sweep_seconds
    if interval <= 0:
        log.info("crypto_held_sweep_disabled")
        return
    while True:
        await asyncio.sleep(interval)
        try:
            refund_after = timedelta(days=rt.settings.crypto_held_refund_after_days)
            swept = await holds.sweep(rt, refund_after=refund_after)
            if swept.released or swept.refunded:
                log.info(
                    "crypto_held_swept",
                    released=len(swept.released),
                    refunded=len(swept.refunded),
                    kept=len(swept.kept),
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crypto_held_sweep_failed")
