"""The journeys' clock worker, one per API process (safe on several replicas: a run is advanced under its
row lock, taken with SKIP LOCKED, and decisions are unique per journey and trigger):

- `run_due`: the active runs due now (entered, after a delay, after quiet hours) of journeys that are
  active — or archived because a newer version superseded them (their runs finish); a paused journey's
  runs wait. Each run advances in its own transaction (services/crm/journeys/steps.py).
- `time_triggers`: the active journeys with a time trigger decide for the players it fires for:
  `no_deposit` (registered at least N hours ago — and at most 7 days more, so a journey activated today
  does not reach back to every old account —, active, never deposited) and `inactive` (the last day with a
  bet or deposit, from the report projection `report_player_days`, N days ago, again within 7 days). The
  trigger's key (`no_deposit:<N>h:<player>`, `inactive:<last day>:<player>`) makes each decision once per
  journey and player, across its versions; the caps and the entry segment apply as for an event (consumer.decide).
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from sqlalchemy import text

from core.clock import clock
from core.logging import get_logger
from core.runtime import Runtime
from models.crm_journeys import CrmJourney, CrmJourneyRun, CrmJourneyStep, RunStatus, StepOutcome
from models.players import Player
from services.crm.journeys import steps
from services.crm.journeys.consumer import Journey, Trigger, decide, journey_of
from services.crm.journeys.definition import Definition, Inactive, NoDeposit

log = get_logger(__name__)

BATCH = 200
LOOK_BACK_DAYS = 7
CANDIDATES = 5000  # players one time trigger decides for per sweep (the next sweep takes the rest)

_DUE = """
SELECT r.id FROM crm_journey_runs r JOIN crm_journeys j ON j.id = r.journey_id
WHERE r.status = 'active' AND r.due_at <= :now
  AND (j.status = 'active' OR (j.status = 'archived' AND j.superseded_by IS NOT NULL))
ORDER BY r.due_at LIMIT :batch"""
_LOCK = "SELECT id FROM crm_journey_runs WHERE id = :id AND status = 'active' AND due_at <= :now FOR UPDATE SKIP LOCKED"
_FAILURES = "SELECT count(*) FROM crm_journey_steps WHERE run_id = :run AND step = :step AND outcome = 'failed'"
_TIME_JOURNEYS = """
SELECT id, key, brand_id, definition FROM crm_journeys
WHERE status = 'active' AND trigger_kind = ANY(ARRAY['no_deposit', 'inactive'])"""
# A run is unique per journey and trigger key (crm_journey_runs): a time trigger's key names its player, or one
# player's run would stand for every player the trigger fires for.
_NOT_DECIDED = """
NOT EXISTS (SELECT 1 FROM crm_journey_runs r JOIN crm_journeys j ON j.id = r.journey_id
            WHERE j.key = $2 AND r.player_id = p.id AND r.trigger_key = {key})"""
_NO_DEPOSIT = f"""
SELECT p.id, p.created_at AS at, 'no_deposit:' || $3::int || 'h:' || p.id AS key FROM players p
WHERE p.brand_id = $1 AND p.status = 'active' AND p.created_at <= $4 AND p.created_at > $5
  AND NOT EXISTS (SELECT 1 FROM ledger_transactions d
                  WHERE d.player_id = p.id AND d.kind = 'deposit' AND d.status = 'committed')
  AND {_NOT_DECIDED.format(key="'no_deposit:' || $3::int || 'h:' || p.id")}
ORDER BY p.created_at LIMIT $6"""  # noqa: S608  (constant text only)
_INACTIVE = f"""
SELECT p.id, a.last_day::timestamptz AS at, 'inactive:' || a.last_day || ':' || p.id AS key
FROM (SELECT player_id, max(day) AS last_day FROM report_player_days
      WHERE brand_id = $1 AND (bet_count > 0 OR deposit_count > 0) GROUP BY player_id) a
JOIN players p ON p.id = a.player_id
WHERE p.status = 'active' AND a.last_day <= $3::date AND a.last_day > $4::date
  AND {_NOT_DECIDED.format(key="'inactive:' || a.last_day || ':' || p.id")}
ORDER BY a.last_day LIMIT $5"""  # noqa: S608  (constant text only)


async def run_due(rt: Runtime, now: datetime | None = None, batch: int = BATCH) -> int:
    """Advance every run due now (up to `batch`); returns how many advanced."""
    now = now or clock.now()
    async with rt.database.session() as db:
        ids = list((await db.scalars(text(_DUE), {"now": now, "batch": batch})).all())
    advanced = 0
    for run_id in ids:
        try:
            advanced += await _advance(rt, run_id, now)
        except Exception as exc:  # noqa: BLE001  (one run's failure must not stop the others)
            log.warning("crm_journey_step_failed", run=str(run_id), error=repr(exc))
            await _failed(rt, run_id, now)
    return advanced


async def _advance(rt: Runtime, run_id: uuid.UUID, now: datetime) -> int:
    async with rt.database.transaction() as db:
        if await db.scalar(text(_LOCK), {"id": run_id, "now": now}) is None:
            return 0  # another worker has it, or it moved on
        run = await db.get(CrmJourneyRun, run_id)
        assert run is not None
        journey = await db.get(CrmJourney, run.journey_id)
        player = await db.get(Player, run.player_id)
        assert journey is not None
        assert player is not None
        definition = Definition.model_validate(journey.definition)
        daily_cap = rt.settings.crm_journey_daily_cap
        await steps.advance(steps.Run(db, run, journey, definition, player, now, daily_cap))
        await db.flush()
    return 1


async def _failed(rt: Runtime, run_id: uuid.UUID, now: datetime) -> None:
    """Record the failed try; retry the step later, or end the run after `MAX_FAILURES`."""
    async with rt.database.transaction() as db:
        run = await db.get(CrmJourneyRun, run_id, with_for_update=True)
        if run is None or run.status != RunStatus.ACTIVE:
            return
        journey = await db.get(CrmJourney, run.journey_id)
        kind = str(journey.definition["steps"][run.step]["kind"]) if journey is not None else "unknown"
        db.add(CrmJourneyStep(run_id=run.id, step=run.step, kind=kind, outcome=StepOutcome.FAILED.value, at=now))
        await db.flush()
        failures = int(await db.scalar(text(_FAILURES), {"run": run.id, "step": run.step}) or 0)
        if failures >= steps.MAX_FAILURES:
            run.status, run.reason, run.due_at, run.ended_at = RunStatus.EXITED.value, "STEP_FAILED", None, now
        else:
            run.due_at = now + timedelta(minutes=steps.RETRY_MINUTES)


async def time_triggers(rt: Runtime, now: datetime | None = None) -> int:
    """Decide for the players the active time triggers fire for now; returns how many were decided."""
    now = now or clock.now()
    decided = 0
    async with rt.database.transaction() as db:
        conn: asyncpg.Connection = (await (await db.connection()).get_raw_connection()).driver_connection
        for row in await conn.fetch(_TIME_JOURNEYS):
            journey = journey_of(row)
            if journey is not None:
                decided += await _fire(conn, journey, now)
    return decided


async def _fire(conn: asyncpg.Connection, journey: Journey, now: datetime) -> int:
    trigger = journey.definition.trigger
    rows: list[Any]
    if isinstance(trigger, NoDeposit):
        due = now - timedelta(hours=trigger.hours)
        rows = await conn.fetch(
            _NO_DEPOSIT, journey.brand_id, journey.key, trigger.hours, due, due - timedelta(days=LOOK_BACK_DAYS),
            CANDIDATES,
        )  # fmt: skip
    elif isinstance(trigger, Inactive):
        last = now.date() - timedelta(days=trigger.days)
        rows = await conn.fetch(
            _INACTIVE, journey.brand_id, journey.key, last, last - timedelta(days=LOOK_BACK_DAYS), CANDIDATES
        )
    else:
        return 0
    decided = 0
    for row in rows:
        if await decide(conn, journey, Trigger(row["id"], row["key"], None, row["at"]), now) is not None:
            decided += 1
    return decided


async def run(rt: Runtime) -> None:
    """Forever: the due runs every `crm_journey_poll_seconds`, the time triggers every
    `crm_journey_time_trigger_seconds`."""
    loop = asyncio.get_running_loop()
    last_triggers: float | None = None
    while True:
        try:
            if last_triggers is None or loop.time() - last_triggers >= rt.settings.crm_journey_time_trigger_seconds:
                await time_triggers(rt)
                last_triggers = loop.time()
            await run_due(rt)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("crm_journey_worker_failed")
        await asyncio.sleep(rt.settings.crm_journey_poll_seconds)
