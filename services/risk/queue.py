"""The risk queue: the flags staff review (list hits, disposable emails, rules' flags), the riskiest players
first.

Order: the player's score now (services/risk/score.py: the unexpired contributions' sum, capped at 100),
highest first; then the flag's age, oldest first (equal scores: the one waiting longest); then the flag's
id. A flag without a player (a refused registration) counts as score 0. One statement a page whatever its
size: the score is a lateral sum over `risk_score_items` beside each flag. Pages are keyset (a cursor is
the last entry's score, time and id): a score that changes between two pages may move a flag across the
page boundary (shown twice or not at all until the next read), never break the walk.

Brand scope as everywhere: staff of one brand see their brand's flags, staff of every brand all.
"""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from authz.subjects import Viewer
from core import prepared
from core.clock import clock
from core.errors import bad_input
from core.pagination import DEFAULT_PAGE, Page, check_page_args
from core.prepared import Statement
from core.runtime import Runtime
from models.risk import RiskFlag
from services.risk.review import FLAG_COLUMNS
from services.risk.score import MAX_SCORE


class FlagStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class QueueEntry:
    flag: RiskFlag
    score: int  # the player's score when the page was read


_PAGE = Statement(f"""
SELECT f.id, f.player_id, f.brand_id, f.source, f.entry_id, f.occasion, f.outcome, f.detail, f.raised_at, f.status,
       f.rule_code, f.reviewed_by, f.reviewed_at, f.review_note, s.score
FROM risk_flags f
CROSS JOIN LATERAL (
  SELECT CAST(least({MAX_SCORE}, coalesce(sum(i.points), 0)) AS integer) AS score
  FROM risk_score_items i WHERE i.player_id = f.player_id AND i.expires_at > :now
) s
WHERE f.status = :status
  AND (CAST(:brand AS uuid) IS NULL OR f.brand_id = CAST(:brand AS uuid))
  AND (CAST(:after_score AS integer) IS NULL
       OR (-s.score, f.raised_at, f.id)
          > (-CAST(:after_score AS integer), CAST(:after_at AS timestamptz), CAST(:after_id AS uuid)))
ORDER BY s.score DESC, f.raised_at, f.id
LIMIT :limit
""")  # noqa: S608  (a constant)


def _cursor(entry: QueueEntry) -> str:
    raw = json.dumps([entry.score, entry.flag.raised_at.isoformat(), str(entry.flag.id)])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[int, datetime, uuid.UUID]:
    try:
        raw = json.loads(base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()))
        if not isinstance(raw, list) or len(raw) != 3:
            raise ValueError
        score, at, flag_id = raw
        # A forged cursor is bad input, not a server error: a score the statement's integer holds, an id as text.
        if not isinstance(score, int) or not 0 <= score <= MAX_SCORE or not isinstance(at, str):
            raise ValueError
        raised_at = datetime.fromisoformat(at)
        if not isinstance(flag_id, str) or raised_at.tzinfo is None:
            raise ValueError
        return score, raised_at, uuid.UUID(flag_id)
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise bad_input("Invalid pagination cursor.") from exc


async def page(
    rt: Runtime,
    viewer: Viewer,
    *,
    status: FlagStatus = FlagStatus.OPEN,
    first: int | None = None,
    after: str | None = None,
) -> Page[QueueEntry]:
    """One page of the queue (one statement)."""
    check_page_args(first, None)
    if not (viewer.is_staff or viewer.kind == "system"):  # the queue is staff's (the policy says whose)
        return Page(items=[], cursors=[], has_next_page=False, has_previous_page=False)
    size = DEFAULT_PAGE if first is None else first
    after_score, after_at, after_id = _decode(after) if after else (None, None, None)
    params: dict[str, Any] = {
        "now": clock.now(),
        "status": status.value,
        "brand": viewer.brand_id,
        "after_score": after_score,
        "after_at": after_at,
        "after_id": after_id,
        "limit": size + 1,
    }
    async with rt.database.session() as db:
        rows = await prepared.rows(db, _PAGE, params)
    entries = [
        QueueEntry(RiskFlag(**{name: getattr(row, name) for name in FLAG_COLUMNS}), int(row.score))
        for row in rows[:size]
    ]
    return Page(
        items=entries,
        cursors=[_cursor(e) for e in entries],
        has_next_page=len(rows) > size,
        has_previous_page=after is not None,
    )
