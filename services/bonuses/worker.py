"""The bonus worker, one per API process (safe on several replicas: each step locks the player and
re-reads the bonus, each cashback payout finds an earlier one of its period): expires bonuses past
their date, converts those whose wagering is met, and pays cashback campaigns' periods as they close."""

from __future__ import annotations

import asyncio

from core.logging import get_logger
from core.runtime import Runtime
from services.bonuses import cashback
from services.bonuses.lifecycle import expire_due
from services.free_rounds import grants as free_rounds_grants

log = get_logger(__name__)


async def run(rt: Runtime) -> None:
    while True:
        try:
            await expire_due(rt)
            await cashback.pay_due(rt)
            await free_rounds_grants.deliver_due(rt)  # free rounds not yet acknowledged by their provider
            await free_rounds_grants.withdraw_ended(rt)  # rewards of bonuses the engine cancelled or forfeited
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("bonus_worker_failed")
        await asyncio.sleep(rt.settings.bonus_worker_interval_seconds)
