"""The `crm-segments` consumer: dynamic segments follow the events about their players.

Every event of a type that can change a rule's answer (`TYPES`) whose subject is a player (`player:<id>`)
re-evaluates that player's dynamic segments in the consumer framework's transaction (core/consumers.py records
the event ids with the effects, so a redelivery re-evaluates again and changes nothing: membership is a function
of the player's state, not of the events). A money event (`ledger.*`) is different: the rules read the report
projection, which the `reports` consumer may not have updated yet, so its player waits in `crm_segment_pending`
and the segments' loop re-evaluates them once `reports` has counted that event (services/crm/segments/sweep.py).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import ClassVar

import asyncpg

from core.catalogue import CATALOGUE
from core.consumers import Event
from services.crm.segments import membership
from services.risk.store import OnConnection

NAME = "crm-segments"
_MONEY_PREFIX = "ledger."
# The events that can change what a rule reads (services/crm/segments/rules.py): the player's own record, KYC,
# risk (the score), bonuses, money (through the projection) and an erasure. The rest (jackpots, tournaments,
# affiliates, payments' own steps, sign-ins, ...) leave every rule's answer as it was: the framework skips them
# without a transaction (core/consumers.py), which under wallet load is most of the stream.
_FOLLOWED_PREFIXES = ("player.", "kyc.", "risk.", "bonus.", "privacy.", _MONEY_PREFIX)
_IGNORED = frozenset({"player.logged_in", "player.session_ended", "player.password_changed", "privacy.exported"})
TYPES = frozenset(t for t in CATALOGUE if t.startswith(_FOLLOWED_PREFIXES) and t not in _IGNORED)
_PENDING = """
INSERT INTO crm_segment_pending (player_id, event_id, since)
SELECT p.id, e.event_id, now() FROM unnest($1::uuid[], $2::bigint[]) AS e(player_id, event_id)
JOIN players p ON p.id = e.player_id
ON CONFLICT (player_id) DO UPDATE SET event_id = greatest(crm_segment_pending.event_id, excluded.event_id)"""


def _player(event: Event) -> uuid.UUID | None:
    kind, _, value = event.subject.partition(":")
    if kind != "player":
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


class SegmentsConsumer:
    """core.consumers.Consumer: dynamic segments' members kept current from the events."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        now_players: dict[uuid.UUID, None] = {}
        waiting: dict[uuid.UUID, int] = {}
        for event in events:
            player = _player(event)
            if player is None:
                continue
            if event.type.startswith(_MONEY_PREFIX):
                waiting[player] = max(waiting.get(player, 0), event.id)
            else:
                now_players[player] = None
        if waiting:
            await conn.execute(_PENDING, list(waiting), list(waiting.values()))
        if now_players:
            await membership.refresh(OnConnection(conn), list(now_players))

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Nothing to forget: a replay re-evaluates the players of every event again."""
