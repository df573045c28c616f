"""Reading linked accounts: a player's cluster (services/risk/consumer.py builds it) and, for each other
member, the strong signals it shares with the cluster — what links them. Staff scoped to one brand see
only that brand's members (a cluster spans the operator's brands, as one person does)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from authz.subjects import Viewer
from services.risk.signals import STRONG, mask

_STRONG = sorted(k.value for k in STRONG)

# One statement: the cluster's members (one index lookup through the player's cluster id), each with the
# strong signals it holds that another member holds too.
_LINKED = text("""
WITH members AS (
  SELECT c.player_id FROM risk_clusters c
  WHERE c.cluster_id = (SELECT cluster_id FROM risk_clusters WHERE player_id = :player)
)
SELECT m.player_id, s.kind, s.value, s.first_seen
FROM members m
JOIN players p ON p.id = m.player_id AND (CAST(:brand AS uuid) IS NULL OR p.brand_id = CAST(:brand AS uuid))
LEFT JOIN risk_signals s ON s.player_id = m.player_id AND s.kind = ANY(CAST(:strong AS text[]))
  AND EXISTS (SELECT 1 FROM risk_signals o JOIN members m2 ON m2.player_id = o.player_id
              WHERE o.kind = s.kind AND o.value = s.value AND o.player_id <> s.player_id)
WHERE m.player_id <> :player
ORDER BY m.player_id, s.kind, s.first_seen""")
_SIZE = text("""
SELECT count(*) FROM risk_clusters c JOIN players p ON p.id = c.player_id
WHERE c.cluster_id = (SELECT cluster_id FROM risk_clusters WHERE player_id = :player)
  AND (CAST(:brand AS uuid) IS NULL OR p.brand_id = CAST(:brand AS uuid))""")


@dataclass(frozen=True)
class SharedSignal:
    kind: str
    masked_value: str
    first_seen: datetime


@dataclass
class LinkedPlayer:
    player_id: uuid.UUID
    shared: list[SharedSignal] = field(default_factory=list)


async def cluster_size(db: AsyncSession, viewer: Viewer, player_id: uuid.UUID) -> int:
    """How many accounts the player's cluster holds (the player included; 1: linked to no one)."""
    size = await db.scalar(_SIZE, {"player": player_id, "brand": viewer.brand_id})
    return max(int(size or 0), 1)


async def linked_players(db: AsyncSession, viewer: Viewer, player_id: uuid.UUID) -> list[LinkedPlayer]:
    """The other members of the player's cluster, with what links each (one statement)."""
    rows = await db.execute(_LINKED, {"player": player_id, "brand": viewer.brand_id, "strong": _STRONG})
    found: dict[uuid.UUID, LinkedPlayer] = {}
    for row in rows:
        linked = found.setdefault(row.player_id, LinkedPlayer(row.player_id))
        if row.kind is not None:
            linked.shared.append(SharedSignal(row.kind, mask(row.kind, row.value), row.first_seen))
    return list(found.values())
