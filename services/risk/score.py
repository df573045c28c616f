"""A player's risk score: 0 to 100, the explained sum of what the rules found.

Each rule contributes at most once per player (`risk_score_items`, keyed by player and rule): a new hit
refreshes its reason, counts the hit and pushes its expiry on (`SCORE_DAYS` from the hit), so a burst of
fifty deposits is one reason worth the rule's points, not fifty. The score is the sum of the unexpired
contributions' points, capped at 100; its reasons are those contributions, biggest first. A rule's points
are copied at the hit (a later edit of the rule changes the next hits, not the past ones).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from core.clock import clock
from core.prepared import Statement
from services.risk.rules import Rule
from services.risk.store import Sql

SCORE_DAYS = 90  # how long a contribution counts after the rule's last hit
MAX_SCORE = 100


@dataclass(frozen=True)
class Reason:
    rule_code: str
    points: int
    reason: str
    details: dict[str, Any]
    hits: int
    first_hit_at: datetime
    last_hit_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class Score:
    value: int  # 0 to 100
    reasons: tuple[Reason, ...]  # biggest first


_CONTRIBUTE = Statement("""
INSERT INTO risk_score_items AS s (player_id, rule_code, brand_id, points, reason, details, hits, first_hit_at,
                                   last_hit_at, expires_at)
VALUES (:player, :rule, :brand, :points, :reason, CAST(:details AS jsonb), 1, :at, :at, :expires)
ON CONFLICT (player_id, rule_code) DO UPDATE
SET points = excluded.points, reason = excluded.reason, details = excluded.details,
    -- an expired contribution starts again (its old hits no longer count)
    hits = CASE WHEN s.expires_at <= excluded.last_hit_at THEN 1 ELSE s.hits + 1 END,
    first_hit_at = CASE WHEN s.expires_at <= excluded.last_hit_at THEN excluded.first_hit_at ELSE s.first_hit_at END,
    last_hit_at = greatest(s.last_hit_at, excluded.last_hit_at),
    expires_at = greatest(s.expires_at, excluded.expires_at)
RETURNING hits
""")

_REASONS = Statement("""
SELECT player_id, rule_code, points, reason, details, hits, first_hit_at, last_hit_at, expires_at
FROM risk_score_items WHERE player_id = ANY(:players) AND expires_at > :now
ORDER BY player_id, points DESC, rule_code
""")


async def contribute(
    sql: Sql, rule: Rule, *, player_id: uuid.UUID, brand_id: uuid.UUID, reason: str, details: Mapping[str, Any]
) -> int:
    """Record a hit of `rule` on the player; how many hits it has now (1: the rule is new on the score)."""
    at = clock.now()
    params = {
        "player": player_id,
        "rule": rule.code,
        "brand": brand_id,
        "points": rule.points,
        "reason": reason[:320],
        "details": json.dumps(dict(details), default=str),
        "at": at,
        "expires": at + timedelta(days=SCORE_DAYS),
    }
    [row] = await sql.fetch(_CONTRIBUTE, params)
    return int(row.hits)


async def scores(sql: Sql, player_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Score]:
    """Each player's score with its reasons, in one statement (a player without any: score 0)."""
    ids = list(dict.fromkeys(player_ids))
    found: dict[uuid.UUID, list[Reason]] = {player: [] for player in ids}
    for row in await sql.fetch(_REASONS, {"players": ids, "now": clock.now()}):
        details = row.details if isinstance(row.details, dict) else json.loads(row.details)
        found[row.player_id].append(
            Reason(
                row.rule_code,
                row.points,
                row.reason,
                details,
                row.hits,
                row.first_hit_at,
                row.last_hit_at,
                row.expires_at,
            )
        )
    return {
        player: Score(min(MAX_SCORE, sum(r.points for r in reasons)), tuple(reasons))
        for player, reasons in found.items()
    }


async def score(sql: Sql, player_id: uuid.UUID) -> Score:
    return (await scores(sql, [player_id]))[player_id]
