"""Backtest: what a version WOULD have raised over the stored history (the outbox table), beside what the
live version raises over the same history, before it goes live.

One pass over the outbox in id order (keyset pages, the fields the rules need extracted by PostgreSQL,
the deposit's instrument joined from its payment) feeds both versions' engines
(services/aml/monitoring/engine.py, the consumer's own code) on one shared state per player. The pass
starts `MAX_LOOKBACK` before `from`, so the windows and cool-downs at `from` are what the live consumer had
(events of that warm-up raise nothing). Nothing live is touched: no alert, case, event or decision; the
run's alerts are stored apart (`aml_backtest_alerts`), tagged with the run.

A run's id is derived from its inputs (the two versions and the range of event ids), and its rows are
replaced in one transaction: the same run again gives the same rows, never a second set.
"""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from services.aml.monitoring import rules
from services.aml.monitoring.engine import BET, DEPOSIT, WITHDRAWAL, Alert, Engine, Fact, PlayerState
from services.aml.monitoring.facts import Converter
from services.aml.monitoring.rules import Version

PAGE = 50_000
_NAMESPACE = uuid.UUID("0c20a3b0-0000-4000-8000-000000000031")
_FACTS = """
SELECT o.id, o.topic, extract(epoch FROM o.created_at)::float8 AS at, o.payload->>'player_id' AS player,
       o.brand_id::text AS brand, o.payload->>'currency' AS currency,
       CASE WHEN o.topic = 'ledger.game_bet' THEN -((o.payload->>'cash')::bigint + (o.payload->>'bonus')::bigint)
            ELSE (o.payload->>'amount')::bigint END AS amount,
       coalesce(p.method || ':' || coalesce(p.instrument_token, p.psp, ''), o.payload->>'psp', '') AS instrument
FROM outbox_events o
LEFT JOIN payments p ON p.id = CASE WHEN o.topic = 'payment.succeeded' THEN (o.payload->>'payment_id')::uuid END
WHERE o.id > $1 AND o.id <= $2 AND o.schema_version = 1
  AND (o.topic = 'ledger.game_bet' OR (o.topic = 'payment.succeeded' AND o.payload->>'kind' = 'deposit')
       OR (o.topic = 'payment.requested' AND o.payload->>'kind' = 'withdrawal'))
ORDER BY o.id LIMIT $3"""
_KIND = {"ledger.game_bet": BET, "payment.succeeded": DEPOSIT, "payment.requested": WITHDRAWAL}
# The last event written before a moment (0: none); with no moment, the last event.
_BEFORE = "SELECT coalesce(max(id), 0) FROM outbox_events WHERE created_at < $1"
_LAST = "SELECT coalesce(max(id), 0) FROM outbox_events"
_RATES = "SELECT array_agg(DISTINCT currency), min(day) FROM fx_rates"


@dataclass(frozen=True)
class Result:
    run_id: uuid.UUID
    version: int
    baseline: int
    events: int  # events read (warm-up included)
    seconds: float
    summary: dict[str, Any]


def run_id(version: int, baseline: int, start: int, first: int, last: int) -> uuid.UUID:
    return uuid.uuid5(_NAMESPACE, f"{version}:{baseline}:{start}:{first}:{last}")


async def _version(conn: asyncpg.Connection, number: int | None) -> Version:
    sql = "SELECT version, note, rules, scenario FROM aml_monitoring_versions WHERE "
    row = await (conn.fetchrow(sql + "live") if number is None else conn.fetchrow(sql + "version = $1", number))
    if row is None:
        from services.aml.monitoring.versions import VersionNotFound

        raise VersionNotFound(f"No monitoring version {number}.", field="version")
    document = {"note": row["note"], "rules": json.loads(row["rules"]), "scenario": json.loads(row["scenario"])}
    return rules.parse(document, number=row["version"])


async def run(
    conn: asyncpg.Connection, *, version: int, start: datetime | None = None, end: datetime | None = None
) -> Result:
    """Backtest `version` over the events written from `start` to before `end` (all by default)."""
    began = time.process_time()
    # One reader in id order: a parallel plan's Gather Merge costs more than its workers save here.
    await conn.execute("SET max_parallel_workers_per_gather = 0")
    candidate, baseline = await _version(conn, version), await _version(conn, None)
    warm_from = start - rules.MAX_LOOKBACK if start is not None else None
    warm = await conn.fetchval(_BEFORE, warm_from) if warm_from is not None else 0
    first = await conn.fetchval(_BEFORE, start) if start is not None else 0
    last = await (conn.fetchval(_BEFORE, end) if end is not None else conn.fetchval(_LAST))
    the_run = run_id(candidate.number, baseline.number, warm, first, last)
    currencies, since = await conn.fetchrow(_RATES)
    converter = await Converter.load(conn, currencies or [], since or date.max, date.max)
    engines = (Engine(candidate, prefix="c:"), Engine(baseline, prefix="b:"))
    raised: tuple[dict[int, Alert], dict[int, Alert]] = ({}, {})
    states: dict[str, PlayerState] = {}
    position, read = warm, 0
    while True:
        rows = await conn.fetch(_FACTS, position, last, PAGE)
        if not rows:
            break
        read += len(rows)
        position = rows[-1][0]
        for event_id, topic, at, player, brand, currency, amount, instrument in rows:
            state = states.get(player)
            if state is None:
                state = states[player] = PlayerState()
            base = amount if currency == "EUR" else converter.base(amount, currency, at)
            kind = _KIND[topic]
            if kind == BET:  # the hot path: nothing listens to a stake, it only adds to the play
                state.wagered += base
                continue
            fact = Fact(event_id, kind, player, at, base, instrument, brand)
            state.record(fact)
            for engine, found in zip(engines, raised, strict=True):
                alert = engine.evaluate(state, fact)
                if alert is not None and event_id > first:
                    found[event_id] = alert
    summary = _compare(*raised)
    summary["events"] = read
    await _store(conn, the_run, candidate.number, baseline.number, (first, last), (start, end), raised, summary)
    return Result(the_run, candidate.number, baseline.number, read, time.process_time() - began, summary)


def _change(mine: Alert, theirs: Alert | None) -> str:
    if theirs is None:
        return "new"
    return "same" if (mine.outcome, mine.rules) == (theirs.outcome, theirs.rules) else "changed"


def _tally(alerts: dict[int, Alert]) -> dict[str, Any]:
    return {
        "alerts": len(alerts),
        "by_rule": dict(sorted(Counter(r for a in alerts.values() for r in a.rules).items())),
        "by_outcome": dict(sorted(Counter(a.outcome for a in alerts.values()).items())),
    }


def _compare(candidate: dict[int, Alert], baseline: dict[int, Alert]) -> dict[str, Any]:
    changes = Counter(_change(a, baseline.get(e)) for e, a in candidate.items())
    changes["removed"] = sum(1 for e in baseline if e not in candidate)
    return {
        "candidate": _tally(candidate),
        "baseline": _tally(baseline),
        "changes": {k: changes.get(k, 0) for k in ("new", "removed", "changed", "same")},
    }


def _record(the_run: uuid.UUID, version: int, alert: Alert, change: str) -> tuple[Any, ...]:
    return (
        the_run,
        version,
        alert.event_id,
        uuid.UUID(alert.player),
        alert.score,
        alert.outcome,
        json.dumps([h.explained() for h in alert.hits]),
        alert.event_ids,
        datetime.fromtimestamp(alert.at, UTC),
        change,
    )


_COLUMNS = (
    "run_id",
    "version",
    "event_id",
    "player_id",
    "score",
    "outcome",
    "hits",
    "event_ids",
    "raised_at",
    "change",
)
_RUN = """
INSERT INTO aml_backtest_runs (id, version, baseline, first_event, last_event, from_at, to_at, events, summary, runs,
                               finished_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, 1, now())
ON CONFLICT (id) DO UPDATE SET events = excluded.events, summary = excluded.summary,
    runs = aml_backtest_runs.runs + 1, finished_at = now()"""


async def _store(
    conn: asyncpg.Connection,
    the_run: uuid.UUID,
    version: int,
    baseline: int,
    ids: tuple[int, int],
    times: tuple[datetime | None, datetime | None],
    raised: tuple[dict[int, Alert], dict[int, Alert]],
    summary: dict[str, Any],
) -> None:
    """The run's row and its alerts, replacing what an earlier run with the same id stored."""
    candidate, live = raised
    records = [_record(the_run, version, a, _change(a, live.get(e))) for e, a in candidate.items()]
    records += [_record(the_run, baseline, a, "removed") for e, a in live.items() if e not in candidate]
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", str(the_run))
        await conn.execute("DELETE FROM aml_backtest_alerts WHERE run_id = $1", the_run)
        await conn.execute(_RUN, the_run, version, baseline, *ids, *times, summary["events"], json.dumps(summary))
        if records:
            await conn.copy_records_to_table("aml_backtest_alerts", records=records, columns=_COLUMNS)
