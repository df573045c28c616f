"""Who is in which segment: `crm_segment_members`, the one membership table journeys, lobbies and content read.

- A dynamic segment's members are the players its rules hold for (services/crm/segments/rules.py), kept
  current by `refresh` — for the players an event is about (the `crm-segments` consumer), for players whose
  money changed once the report projection has counted it (`crm_segment_pending`), and for everyone now and
  then (time moves recency on: `sweep`).
- A static segment's members are a list staff uploaded (`add_member`, services/crm/segments/segments.py).
- Either way a member is reachable: `refresh` removes players no longer active, erased or excluded from
  static segments too, and `add_member` adds nobody unreachable.

Every refresh runs under one transaction-scoped advisory lock, so the consumer and the sweep never write the
same memberships at once. The same statements run in a session or on a consumer's asyncpg connection
(services/risk/store.py's `Sql`).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core import prepared
from core.clock import clock
from core.errors import DomainError, ErrorCode, NotFound
from core.prepared import Statement
from models.crm import CrmSegment, SegmentKind
from services.crm.segments import rules as segment_rules
from services.risk.store import Sql

LOCK = Statement("SELECT pg_advisory_xact_lock(7020052)")  # one writer of memberships at a time

_SEGMENTS_OF = Statement("""
SELECT m.segment_id FROM crm_segment_members m JOIN crm_segments s ON s.id = m.segment_id
WHERE m.player_id = :player AND s.status = 'active' ORDER BY m.segment_id
""")
_DYNAMIC = Statement("""
SELECT id, brand_id, rules, version FROM crm_segments
WHERE kind = 'dynamic' AND status = 'active'
  AND (CAST(:players AS uuid[]) IS NULL OR brand_id IN (SELECT brand_id FROM players WHERE id = ANY(:players)))
  AND (CAST(:segment AS uuid) IS NULL OR id = :segment)
ORDER BY id
""")
_UNREACHABLE = Statement(f"""
DELETE FROM crm_segment_members m USING players p
WHERE p.id = m.player_id AND (CAST(:players AS uuid[]) IS NULL OR m.player_id = ANY(:players))
  AND NOT ({segment_rules.REACHABLE})
RETURNING m.segment_id
""")  # noqa: S608  (a constant)
_ADD = Statement(f"""
INSERT INTO crm_segment_members (segment_id, player_id, joined_at)
SELECT :segment, p.id, :now FROM players p WHERE p.id = :player AND p.brand_id = :brand AND {segment_rules.REACHABLE}
ON CONFLICT DO NOTHING
""")  # noqa: S608  (a constant)
_SHARED = Statement("SELECT id, brand_id, kind, status FROM crm_segments WHERE id = :segment FOR SHARE")
_IS_MEMBER = Statement("SELECT 1 FROM crm_segment_members WHERE segment_id = :segment AND player_id = :player")


@dataclass(frozen=True)
class Changed:
    joined: int
    left: int


@lru_cache(maxsize=512)
def _statements(rules_json: str) -> tuple[Statement, Statement, dict[str, Any]]:
    """The membership statements of one set of rules (the evaluation of one player, the refresh of many)."""
    where = segment_rules.where(segment_rules.parse(json.loads(rules_json)))
    one = Statement(
        f"SELECT EXISTS (SELECT 1 FROM players p WHERE p.id = :player AND p.brand_id = :brand AND {where.sql})"  # noqa: S608
    )
    refresh = Statement(f"""
WITH holds AS (
  SELECT p.id FROM players p
  WHERE p.brand_id = :brand AND (CAST(:players AS uuid[]) IS NULL OR p.id = ANY(:players)) AND {where.sql}
), gone AS (
  DELETE FROM crm_segment_members m
  WHERE m.segment_id = :segment AND (CAST(:players AS uuid[]) IS NULL OR m.player_id = ANY(:players))
    AND m.player_id NOT IN (SELECT id FROM holds)
  RETURNING m.player_id
), came AS (
  INSERT INTO crm_segment_members (segment_id, player_id, joined_at)
  SELECT :segment, id, :now FROM holds ON CONFLICT DO NOTHING RETURNING player_id
)
SELECT (SELECT count(*) FROM came) AS joined, (SELECT count(*) FROM gone) AS left
""")  # noqa: S608  (the rules' SQL binds every value)
    return one, refresh, where.values


def _key(rules: Any) -> str:
    return json.dumps(rules, sort_keys=True)


async def segments_of(db: AsyncSession, player_id: uuid.UUID) -> list[uuid.UUID]:
    """The active segments the player is in now (dynamic and static)."""
    return [row.segment_id for row in await prepared.rows(db, _SEGMENTS_OF, {"player": player_id})]


async def evaluate(db: AsyncSession, segment: CrmSegment, player_id: uuid.UUID) -> bool:
    """Whether the player belongs in the segment now: a dynamic one's rules, evaluated at this moment (not
    the membership table, which may trail by the consumer's lag); a static one's list."""
    if segment.status != "active":  # an archived segment has no members, whatever its rules say
        return False
    if segment.kind == SegmentKind.STATIC:
        return await prepared.row(db, _IS_MEMBER, {"segment": segment.id, "player": player_id}) is not None
    one, _, values = _statements(_key(segment.rules))
    now = clock.now()
    params = {**values, "today": now.date(), "now": now, "player": player_id, "brand": segment.brand_id}
    return bool(await prepared.value(db, one, params))


_SEGMENT = Statement("SELECT id, brand_id, kind, status, rules FROM crm_segments WHERE id = :segment")


async def holds(sql: Sql, segment_id: uuid.UUID, player_id: uuid.UUID) -> bool:
    """`evaluate` by the segment's id, on any connection (the consumers' asyncpg ones included): whether the
    player belongs in it now, a dynamic segment's rules evaluated at this moment. A consumer deciding from the
    same event that makes the player a member (registration) must not read the membership table, which the
    `crm-segments` consumer fills from that event in its own time."""
    found = await sql.fetch(_SEGMENT, {"segment": segment_id})
    if not found or found[0].status != "active":
        return False
    segment = found[0]
    if segment.kind == SegmentKind.STATIC:
        return bool(await sql.fetch(_IS_MEMBER, {"segment": segment.id, "player": player_id}))
    one, _, values = _statements(_key(_json(segment.rules)))
    now = clock.now()
    params = {**values, "today": now.date(), "now": now, "player": player_id, "brand": segment.brand_id}
    [row] = await sql.fetch(one, params)
    return bool(row.exists)  # the column of `SELECT EXISTS (…)`


async def add_member(db: AsyncSession, segment_id: uuid.UUID, player_id: uuid.UUID) -> None:
    """Add a player to a static segment (journeys' "move to a segment", uploads). A dynamic segment is
    refused (its rules decide); a player of another brand is not found; an unreachable player (not active,
    erased, excluded) is left out silently, as every audience leaves them out; adding twice changes nothing."""
    # FOR SHARE: an archive (FOR NO KEY UPDATE, then its members deleted) waits for this transaction, or this
    # one sees the segment archived, so no member is added behind the archive.
    segment = await prepared.row(db, _SHARED, {"segment": segment_id})
    if segment is None:
        raise NotFound("No such segment.", field="segmentId")
    if segment.kind != SegmentKind.STATIC:
        raise DomainError(
            "A dynamic segment's rules decide its members.", field="segmentId", code=ErrorCode.INVALID_STATE
        )
    if segment.status != "active":
        raise DomainError("The segment is archived.", field="segmentId", code=ErrorCode.INVALID_STATE)
    now = clock.now()
    await prepared.execute(
        db, _ADD, {"segment": segment.id, "player": player_id, "brand": segment.brand_id, "now": now}
    )


async def refresh(
    sql: Sql,
    player_ids: Sequence[uuid.UUID] | None,
    *,
    segment_id: uuid.UUID | None = None,
    now: datetime | None = None,
) -> Changed:
    """Bring every dynamic segment's (or one's) membership of these players (None: of everyone) up to date,
    and drop unreachable players from every segment. In the caller's transaction; takes the memberships' lock."""
    now = now or clock.now()
    players = list(dict.fromkeys(player_ids)) if player_ids is not None else None
    if players == []:
        return Changed(0, 0)
    await sql.fetch(LOCK, {})
    left = 0 if segment_id else len(await sql.fetch(_UNREACHABLE, {"players": players, "now": now}))
    joined = 0
    for segment in await sql.fetch(_DYNAMIC, {"players": players, "segment": segment_id}):
        _, statement, values = _statements(_key(_json(segment.rules)))
        [row] = await sql.fetch(
            statement,
            {
                **values,
                "today": now.date(),
                "now": now,
                "players": players,
                "brand": segment.brand_id,
                "segment": segment.id,
            },
        )
        joined += int(row.joined)
        left += int(row.left)
    return Changed(joined, left)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value
