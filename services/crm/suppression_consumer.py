"""The `crm-suppression` consumer: a player who may no longer be reached leaves every audience and every
queued send, within seconds of the fact (the issue asks for 60 s; tests/crm_suppression measures it).

It reads the facts that end a player's reachability:
- `player.excluded` (a self-exclusion, a time-out, a national register, staff, a matching account):
  REGISTER_HIT when its source is `register:<name>`, else SELF_EXCLUDED or TIMED_OUT;
- `player.marketing_consent_changed` to false (the player, an unsubscribe withdrawing the last consent,
  or an exclusion): NO_CONSENT;
- `player.status_changed` to blocked or closed, and `privacy.erased`: ACCOUNT_CLOSED.

For each, in the consumer framework's transaction (core/consumers.py records the event ids with the
effects, so a redelivery changes nothing): the player's messages still queued that were queued before the
event are cancelled with the reason code (status `cancelled`, `reason`), each with its row in the
suppression log (source kind `crm-suppression`); and the player's rows in `crm_segment_members` that
existed before the event are deleted (dynamic and static segments alike).

Events may arrive late or out of order (the sweep): an event acts only while what it says still holds
(the exclusion is in force, the consent is still off, the account still not active), and only on what
was queued or joined before it, so a late `marketing_consent_changed(false)` never cancels what a
player who consented again since was sent. The sender's own `suppression.check` right before each send
covers the seconds in between. Replay: nothing to forget (`reset` does nothing); replaying applies the
same guarded effects.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

import asyncpg

from core.clock import clock
from core.consumers import Event
from core.logging import get_logger
from services.crm.suppression import Reason

log = get_logger(__name__)

NAME = "crm-suppression"
SOURCE_KIND = "crm-suppression"
EXCLUDED = "player.excluded"
CONSENT = "player.marketing_consent_changed"
STATUS = "player.status_changed"
ERASED = "privacy.erased"
TYPES = frozenset({EXCLUDED, CONSENT, STATUS, ERASED})

_STANDING = """
SELECT p.id, p.status, p.erased_at, p.marketing_consent,
       EXISTS (SELECT 1 FROM rg_exclusions e WHERE e.player_id = p.id AND e.starts_at <= $2
               AND (e.ends_at IS NULL OR e.ends_at > $2))
       OR EXISTS (SELECT 1 FROM rg_register_hits h WHERE h.player_id = p.id AND h.cleared_at IS NULL) AS excluded
FROM players p WHERE p.id = ANY($1::uuid[])"""

_CANCEL = """
WITH cancelled AS (
    UPDATE crm_messages SET status = 'cancelled', reason = $2, lease_until = NULL
    WHERE player_id = $1 AND status = 'queued' AND created_at <= $3
    RETURNING id, brand_id, player_id, channel, product
)
INSERT INTO crm_suppressions (brand_id, player_id, purpose, channel, product, reason, source_kind, message_id, at)
SELECT brand_id, player_id, 'message', channel, product, $2, $4, id, now() FROM cancelled"""

_LEAVE = "DELETE FROM crm_segment_members WHERE player_id = $1 AND joined_at <= $2"


@dataclass(frozen=True)
class Unreachable:
    player_id: uuid.UUID
    reason: Reason
    at: datetime  # the event's time: only what was queued or joined before it is touched


def unreachable(event: Event) -> Unreachable | None:
    """What the event says about the player's reachability, or None when it says nothing."""
    data = event.data
    if event.schema_version != 1 or not data.get("player_id"):
        return None
    player_id = uuid.UUID(data["player_id"])
    if event.type == EXCLUDED:
        if str(data.get("source", "")).startswith("register:"):
            reason = Reason.REGISTER_HIT
        else:
            reason = Reason.SELF_EXCLUDED if data.get("kind") == "self_exclusion" else Reason.TIMED_OUT
        return Unreachable(player_id, reason, event.time)
    if event.type == CONSENT and data.get("consent") is False:
        return Unreachable(player_id, Reason.NO_CONSENT, event.time)
    if (event.type == STATUS and data.get("status") in ("blocked", "closed")) or event.type == ERASED:
        return Unreachable(player_id, Reason.ACCOUNT_CLOSED, event.time)
    return None


def _still_holds(reason: Reason, standing: asyncpg.Record | None) -> bool:
    if standing is None:
        return False
    if reason == Reason.ACCOUNT_CLOSED:
        return bool(standing["status"] != "active" or standing["erased_at"] is not None)
    if reason == Reason.NO_CONSENT:
        return not standing["marketing_consent"]
    return bool(standing["excluded"])


class SuppressionConsumer:
    """core.consumers.Consumer: unreachable players leave audiences and queued sends."""

    name: ClassVar[str] = NAME
    types: ClassVar[frozenset[str] | None] = TYPES
    transient: ClassVar[tuple[type[BaseException], ...]] = ()

    async def apply(self, conn: asyncpg.Connection, events: Sequence[Event]) -> None:
        found = [u for u in (unreachable(e) for e in events if e.type in TYPES) if u is not None]
        if not found:
            return
        ids = list({u.player_id for u in found})
        standing = {row["id"]: row for row in await conn.fetch(_STANDING, ids, clock.now())}
        for item in found:
            if not _still_holds(item.reason, standing.get(item.player_id)):
                continue
            await conn.execute(_CANCEL, item.player_id, item.reason.value, item.at, SOURCE_KIND)
            await conn.execute(_LEAVE, item.player_id, item.at)
            log.info("crm_player_suppressed", player=str(item.player_id), reason=item.reason.value)

    async def reset(self, conn: asyncpg.Connection) -> None:
        """Nothing built to forget: cancellations and departures stay."""
