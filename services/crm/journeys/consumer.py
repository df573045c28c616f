"""The `crm-journeys` consumer: an event that fires a journey's trigger becomes a decision, exactly once.

It reads `player.registered`, `ledger.deposit` (a first deposit) and `ledger.game_win` (a big win) and, in
the consumer framework's transaction (core/consumers.py records the events' ids with the effects):
1. finds the active journeys of the player's brand whose trigger is of the event's kind, and keeps those
   whose trigger's conditions the event meets (the player's first committed deposit in the ledger; a win
   of at least the amount in the player's currency, or at least N times the round's stake);
2. decides, per journey: the player enters (a run, `active`, due now: the clock worker runs its steps) or
   is skipped with the reason — `NOT_IN_SEGMENT` (the journey's entry segment), `ALREADY_RUNNING` (a run
   of this journey, any version, is in flight) or `FREQUENCY_CAP` (entries per player within the cap's
   window);
3. writes the decision as a `crm_journey_runs` row keyed by (journey, `event:<id>`): a redelivered event
   decides nothing new. `decided_at` minus `event_at` is the trigger-to-decision time
   (bench/crm_journeys.py measures it).

"Deposited" everywhere in journeys means a committed deposit transaction in the ledger.
Whether the player may be reached is not decided here: every action checks suppression when it runs.
Replay: `reset` forgets nothing (runs had effects: messages, bonuses); a replay decides again only what
was never decided, the unique key keeps the rest.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import asyncpg

from core.clock import clock
from core.consumers import Event
from core.errors import DomainError
from core.ids import new_id
from core.logging import get_logger
from core.money import parse_amount
from models.crm_journeys import RunStatus
from services.crm.journeys.definition import BigWin, Definition
from services.crm.segments import membership
from services.risk.store import OnConnection

log = get_logger(__name__)

NAME = "crm-journeys"
KIND_OF = {"player.registered": "registered", "ledger.deposit": "first_deposit", "ledger.game_win": "big_win"}
TYPES = frozenset(KIND_OF)

_JOURNEYS = """
SELECT id, key, brand_id, definition FROM crm_journeys WHERE status = 'active' AND trigger_kind = ANY($1::text[])"""
_PLAYERS = "SELECT id, brand_id, currency FROM players WHERE id = ANY($1::uuid[])"
_EARLIER_DEPOSITS = """
SELECT count(*) FROM ledger_transactions t, ledger_transactions this
WHERE this.id = $2 AND t.player_id = $1 AND t.kind = 'deposit' AND t.status = 'committed'
  AND (t.created_at, t.id) < (this.created_at, this.id)"""
_STAKE = "SELECT total_bet FROM game_rounds WHERE player_id = $1 AND round_ref = $2 ORDER BY opened_at DESC LIMIT 1"
_RUNS_OF = """
SELECT count(*) FILTER (WHERE r.status = 'active') AS running,
       count(*) FILTER (WHERE r.status <> 'skipped' AND ($3::timestamptz IS NULL OR r.decided_at > $3)) AS entered
FROM crm_journey_runs r JOIN crm_journeys j ON j.id = r.journey_id
WHERE j.key = $1 AND r.player_id = $2"""
_DECIDE = """
INSERT INTO crm_journey_runs (id, journey_id, brand_id, player_id, trigger_key, event_id, event_at, status, reason,
                              step, due_at, decided_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, $10, $11)
ON CONFLICT (journey_id, trigger_key) DO NOTHING"""


@dataclass(frozen=True)
class Journey:
    id: uuid.UUID
    key: uuid.UUID
    brand_id: uuid.UUID
    definition: Definition


@dataclass(frozen=True)
class Trigger:
    """A trigger that fired for a player: an event's, or a time trigger's (`key` its anchor)."""

    player_id: uuid.UUID
    key: str
    event_id: int | None
    at: datetime | None


async def decide(conn: asyncpg.Connection, journey: Journey, trigger: Trigger, now: datetime) -> str | None:
    """Enter the player into the journey or record why not (None: nothing new was decided — a repeat)."""
    d = journey.definition
    reason: str | None = None
    if d.entry_segment_id is not None and not await membership.holds(
        OnConnection(conn), d.entry_segment_id, trigger.player_id
    ):
        reason = "NOT_IN_SEGMENT"
    else:
        since = now - timedelta(days=d.cap.per_days) if d.cap.per_days is not None else None
        runs = await conn.fetchrow(_RUNS_OF, journey.key, trigger.player_id, since)
        if runs["running"]:
            reason = "ALREADY_RUNNING"
        elif runs["entered"] >= d.cap.max_entries:
            reason = "FREQUENCY_CAP"
    status = RunStatus.SKIPPED if reason else RunStatus.ACTIVE
    done = await conn.execute(
        _DECIDE,
        new_id(),
        journey.id,
        journey.brand_id,
        trigger.player_id,
        trigger.key,
        trigger.event_id,
        trigger.at,
        status.value,
        reason,
        None if reason else now,
        now,
    )
    if done.endswith(" 0"):
        return None
    return reason or status.value


def journey_of(row: Any) -> Journey | None:
    raw = row["definition"]
    try:
        definition = Definition.model_validate(json.loads(raw) if isinstance(raw, str) else raw)
    except ValueError:  # activation validates; a row edited by hand is left out, not fatal to the stream
        log.warning("crm_journey_definition_invalid", journey=str(row["id"]))
        return None
    return Journey(row["id"], row["key"], row["brand_id"], definition)


class JourneysConsumer:
    """core.consumers.Consumer: trigger → decision for every active journey."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        wanted = [e for e in events if e.type in TYPES and e.schema_version == 1 and e.data.get("player_id")]
        if not wanted:
            return
        kinds = sorted({KIND_OF[e.type] for e in wanted})
        journeys = [j for row in await conn.fetch(_JOURNEYS, kinds) if (j := journey_of(row)) is not None]
        if not journeys:
            return
        players = {
            row["id"]: row for row in await conn.fetch(_PLAYERS, list({uuid.UUID(e.data["player_id"]) for e in wanted}))
        }
        now = clock.now()
        for event in wanted:
            player = players.get(uuid.UUID(event.data["player_id"]))
            if player is None:
                continue
            kind = KIND_OF[event.type]
            for journey in journeys:
                if journey.brand_id != player["brand_id"] or journey.definition.trigger.kind != kind:
                    continue
                if not await self._fires(conn, journey.definition, event, player):
                    continue
                await decide(conn, journey, Trigger(player["id"], f"event:{event.id}", event.id, event.time), now)

    async def _fires(self, conn: asyncpg.Connection, definition: Definition, event: Event, player: Any) -> bool:
        trigger = definition.trigger
        data = event.data
        if trigger.kind == "registered":
            return True
        if trigger.kind == "first_deposit":
            if not data.get("transaction_id") or int(data.get("cash") or 0) <= 0:
                return False
            return not await conn.fetchval(_EARLIER_DEPOSITS, player["id"], uuid.UUID(data["transaction_id"]))
        if isinstance(trigger, BigWin):
            return await self._big(conn, trigger, data, player)
        return False

    async def _big(self, conn: asyncpg.Connection, trigger: BigWin, data: dict[str, Any], player: Any) -> bool:
        won = int(data.get("cash") or 0) + int(data.get("bonus") or 0)
        if won <= 0:
            return False
        currency = data.get("currency") or player["currency"]
        if (threshold := trigger.min_amount.get(currency)) is not None:
            try:
                if won >= parse_amount(threshold, currency):
                    return True
            except DomainError:  # a currency the registry no longer knows: that threshold never fires
                pass
        if trigger.min_multiplier is not None and data.get("round"):
            stake = await conn.fetchval(_STAKE, player["id"], str(data["round"]))
            return bool(stake) and won >= stake * trigger.min_multiplier
        return False

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Nothing to forget: decisions stand (their runs had effects); a replay skips what was decided."""
