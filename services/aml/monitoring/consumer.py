"""The `aml_monitoring` consumer: runs the live version's rules over deposits, withdrawal requests and
stakes as they stream by, and raises alerts for staff.

A batch, in the consumer framework's transaction (core/consumers.py, which records the batch's event ids
in it, so a redelivered event changes nothing): read the live version, the batch's players' windows
(`aml_monitoring_players`, `aml_monitoring_deposits`), the deposits' instruments and the FX rates (one
query each); fold each event into its player's state and evaluate (services/aml/monitoring/engine.py);
write the windows back, the alerts, and an `aml.alert_raised` event per alert. A rebuild (`croupier events
replay aml_monitoring`) deletes the windows and replays the outbox; alerts stay.

An alert at `block_and_review` or `decline` opens a case that restricts the account in the same
transaction (services/aml/monitoring/acting.py); one at `review` waits for staff to confirm it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

import asyncpg

from core import outbox
from core.clock import clock
from core.consumers import Consumer, Event
from core.ids import new_id
from services.aml.monitoring import acting, versions
from services.aml.monitoring.engine import DEPOSIT, Alert, Deposit, Engine, Fact, PlayerState
from services.aml.monitoring.facts import INSTRUMENTS, KIND_OF, TYPES, Converter, day_of

NAME = "aml-monitoring"
SCHEMA_VERSION = 1

_PLAYERS = (
    "SELECT player_id::text AS player, wagered, fired FROM aml_monitoring_players WHERE player_id = ANY($1::uuid[])"
)
_DEPOSITS = (
    "SELECT player_id::text AS player, event_id, extract(epoch FROM at)::float8 AS at, base, instrument, "
    "wagered_before FROM aml_monitoring_deposits WHERE player_id = ANY($1::uuid[]) ORDER BY player_id, at, event_id"
)
_SAVE_PLAYERS = """
INSERT INTO aml_monitoring_players (player_id, wagered, fired)
SELECT * FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[])
ON CONFLICT (player_id) DO UPDATE SET wagered = excluded.wagered, fired = excluded.fired"""
_ADD_DEPOSITS = """
INSERT INTO aml_monitoring_deposits (player_id, event_id, at, base, instrument, wagered_before)
SELECT p, e, to_timestamp(a), b, i, w FROM unnest($1::uuid[], $2::bigint[], $3::float8[], $4::bigint[], $5::varchar[],
                                                 $6::bigint[]) AS t(p, e, a, b, i, w)
ON CONFLICT DO NOTHING"""
_DROP_DEPOSITS = (
    "DELETE FROM aml_monitoring_deposits d USING unnest($1::uuid[], $2::bigint[]) AS t(p, e) "
    "WHERE d.player_id = t.p AND d.event_id = t.e"
)
_ALERTS = """
INSERT INTO aml_alerts (id, version, player_id, brand_id, event_id, score, outcome, hits, event_ids, raised_at, status)
SELECT i, $2, p, b, e, s, o, h, string_to_array(x, ',')::bigint[], to_timestamp(a), 'open'
FROM unnest($1::uuid[], $3::uuid[], $4::uuid[], $5::bigint[], $6::int[], $7::varchar[], $8::jsonb[], $9::text[],
            $10::float8[]) AS t(i, p, b, e, s, o, h, x, a)
ON CONFLICT (event_id) DO NOTHING
RETURNING id::text, player_id::text, brand_id, event_id, score, outcome, hits"""


def fact_of(event: Event, instruments: dict[str, str]) -> tuple[Fact, int, str] | None:
    """The fact an event states, with its amount still in its own currency (and that currency)."""
    data = event.data
    kind = KIND_OF[event.type]
    if kind == DEPOSIT and data["kind"] != "deposit":
        return None
    if kind == "withdrawal" and data["kind"] != "withdrawal":
        return None
    amount = -(int(data["cash"]) + int(data["bonus"])) if kind == "bet" else int(data["amount"])
    instrument = instruments.get(data.get("payment_id", ""), data.get("psp") or "") if kind == DEPOSIT else ""
    fact = Fact(event.id, kind, data["player_id"], event.time.timestamp(), 0, instrument, event.brand)
    return fact, amount, data["currency"]


class MonitoringConsumer:
    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    def __init__(self) -> None:
        self._engines: dict[int, Engine] = {}

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        readable = [e for e in events if e.schema_version == SCHEMA_VERSION]
        if not readable:
            return
        version = await versions.live(conn)
        engine = self._engines.get(version.number)
        if engine is None:
            engine = self._engines[version.number] = Engine(version)
        payments = [e.data["payment_id"] for e in readable if e.type == "payment.succeeded"]
        rows = await conn.fetch(INSTRUMENTS, payments) if payments else []
        instruments = {r["payment"]: r["instrument"] for r in rows}
        stated = [f for e in readable if (f := fact_of(e, instruments)) is not None]
        if not stated:
            return
        days = [day_of(f.at) for f, _, _ in stated]
        converter = await Converter.load(conn, {c for _, _, c in stated}, min(days), max(days))
        states, loaded = await _load(conn, {f.player for f, _, _ in stated})
        alerts: list[Alert] = []
        for fact, amount, currency in sorted(stated, key=lambda s: s[0].event_id):
            fact.base = converter.base(amount, currency, fact.at)
            state = states[fact.player]
            state.record(fact)
            if (alert := engine.evaluate(state, fact)) is not None:
                alerts.append(alert)
        await _save(conn, states, loaded)
        if alerts:  # staff triage them; block_and_review and decline open a restricting case now (acting.py)
            await acting.act(conn, await _raise(conn, version.number, alerts))

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Forget the windows (the replay rebuilds them). Alerts stay: they are staff's queue and were
        announced; one per triggering event, so the replay raises none twice."""
        await conn.execute("DELETE FROM aml_monitoring_deposits")
        await conn.execute("DELETE FROM aml_monitoring_players")


async def _load(conn: asyncpg.Connection, players: set[str]) -> tuple[dict[str, PlayerState], set[tuple[str, int]]]:
    states = {p: PlayerState() for p in players}
    for row in await conn.fetch(_PLAYERS, list(players)):
        states[row["player"]] = PlayerState(row["wagered"], [], json.loads(row["fired"]))
    loaded: set[tuple[str, int]] = set()
    for row in await conn.fetch(_DEPOSITS, list(players)):
        states[row["player"]].deposits.append(
            Deposit(row["event_id"], row["at"], row["base"], row["instrument"], row["wagered_before"])
        )
        loaded.add((row["player"], row["event_id"]))
    return states, loaded


async def _save(conn: asyncpg.Connection, states: dict[str, PlayerState], loaded: set[tuple[str, int]]) -> None:
    players = list(states)
    await conn.execute(
        _SAVE_PLAYERS, players, [states[p].wagered for p in players], [json.dumps(states[p].fired) for p in players]
    )
    kept = {(p, d.event_id): d for p, s in states.items() for d in s.deposits}
    added = [(p, d) for (p, e), d in kept.items() if (p, e) not in loaded]
    if added:
        await conn.execute(
            _ADD_DEPOSITS,
            *zip(*[(p, d.event_id, d.at, d.base, d.instrument, d.wagered_before) for p, d in added], strict=True),
        )
    dropped = [key for key in loaded if key not in kept]
    if dropped:
        await conn.execute(_DROP_DEPOSITS, [p for p, _ in dropped], [e for _, e in dropped])


async def _raise(conn: asyncpg.Connection, version: int, alerts: list[Alert]) -> list[acting.Raised]:
    """Store the alerts (one per triggering event) and announce each new one; returns the new ones."""
    rows = await conn.fetch(
        _ALERTS,
        [new_id() for _ in alerts],
        version,
        [a.player for a in alerts],
        [a.brand for a in alerts],
        [a.event_id for a in alerts],
        [a.score for a in alerts],
        [a.outcome for a in alerts],
        [json.dumps([h.explained() for h in a.hits]) for a in alerts],
        [",".join(map(str, a.event_ids)) for a in alerts],
        [a.at for a in alerts],
    )
    written = [
        outbox.event(
            "aml.alert_raised",
            f"player:{row['player_id']}",
            {
                "alert_id": row["id"],
                "player_id": row["player_id"],
                "version": version,
                "score": row["score"],
                "outcome": row["outcome"],
                "rules": [h["rule"] for h in json.loads(row["hits"])],
                "event_id": row["event_id"],
            },
            brand_id=row["brand_id"],
            at=clock.now(),
        )
        for row in rows
    ]
    if written:
        params = outbox.events_params(written)
        await conn.execute(outbox.INSERT_EVENTS_ASYNCPG, *params.values())
    return [
        acting.Raised(r["id"], r["player_id"], r["score"], r["outcome"], [h["rule"] for h in json.loads(r["hits"])])
        for r in rows
    ]


if TYPE_CHECKING:
    _checked: Consumer = MonitoringConsumer()
