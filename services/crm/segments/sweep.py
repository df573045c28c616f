"""The segments' loop: players whose money moved, once the report projection counted it; and every dynamic
segment now and then, as time moves recency and registration age on.

- `refresh_pending`: the players of `crm_segment_pending` whose event the `reports` consumer has processed
  (or who have waited `PENDING_GIVE_UP_SECONDS`: a stalled projection must not freeze segments) are
  re-evaluated and leave the table (a newer event that arrived meanwhile keeps its row).
- `sweep`: every dynamic segment against every player of its brand (and unreachable players out of every
  segment), at most every `crm_segment_sweep_seconds`.

Both run in the server's loop (safe on several replicas: the memberships' advisory lock serialises them)
and from `croupier segments sweep`.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from core import prepared
from core.clock import clock
from core.logging import get_logger
from core.prepared import Statement
from core.runtime import Runtime
from services.crm.segments import membership
from services.risk.store import OnSession

log = get_logger(__name__)

PENDING_GIVE_UP_SECONDS = 300
PENDING_BATCH = 1000

_READY = Statement("""
SELECT w.player_id, w.event_id FROM crm_segment_pending w
WHERE w.since <= CAST(:stale AS timestamptz)
   OR w.event_id <= coalesce((SELECT c.cursor FROM event_consumers c WHERE c.name = 'reports'), 0)
   OR EXISTS (SELECT 1 FROM consumer_processed p WHERE p.consumer = 'reports' AND p.event_id = w.event_id)
ORDER BY w.player_id LIMIT :limit
""")
_DONE = Statement("""
DELETE FROM crm_segment_pending w
USING unnest(CAST(:players AS uuid[]), CAST(:events AS bigint[])) AS d(player_id, event_id)
WHERE w.player_id = d.player_id AND w.event_id = d.event_id
""")


async def refresh_pending(rt: Runtime) -> int:
    """Re-evaluate the waiting players the projection has caught up with; how many."""
    async with rt.database.transaction() as db:
        stale = clock.now() - timedelta(seconds=PENDING_GIVE_UP_SECONDS)
        ready = await prepared.rows(db, _READY, {"stale": stale, "limit": PENDING_BATCH})
        if not ready:
            return 0
        players = [row.player_id for row in ready]
        await membership.refresh(OnSession(db), players)
        await prepared.execute(db, _DONE, {"players": players, "events": [row.event_id for row in ready]})
    return len(ready)


async def sweep(rt: Runtime) -> membership.Changed:
    """Every dynamic segment against everyone of its brand, now."""
    async with rt.database.transaction() as db:
        return await membership.refresh(OnSession(db), None)


async def run(rt: Runtime) -> None:
    """The server's loop."""
    last_sweep = 0.0
    loop = asyncio.get_running_loop()
    while True:
        try:
            while await refresh_pending(rt) >= PENDING_BATCH:
                pass
            if loop.time() - last_sweep >= rt.settings.crm_segment_sweep_seconds:
                changed = await sweep(rt)
                last_sweep = loop.time()
                if changed.joined or changed.left:
                    log.info("crm_segments_swept", joined=changed.joined, left=changed.left)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crm_segments_sweep_failed")
        await asyncio.sleep(rt.settings.crm_segment_pending_seconds)
