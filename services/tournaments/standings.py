"""A tournament's standings as PostgreSQL holds them: every active entry in rank order — score DESC,
reached_seq ASC NULLS LAST (whoever reached the score first), player_id ASC (so the order is total).

This is the one ranking rule: the Redis boards (services/tournaments/board.py) rebuild from it, settlement
pays by it, and `croupier tournaments verify` compares the stored standings with the ones recomputed from the
rounds (services/tournaments/scoring.py) in this order. Works on an asyncpg connection (the consumer, the
board's rebuild) or an SQLAlchemy session (services, resolvers).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

ORDER = "score DESC, reached_seq ASC NULLS LAST, player_id ASC"
_COLUMNS = "player_id, score, reached_seq, reached_at, rounds_counted"
_SQL_ASYNCPG = (
    f"SELECT {_COLUMNS} FROM tournament_entries WHERE tournament_id = $1 AND status = 'active' ORDER BY {ORDER}"  # noqa: S608
)
_SQL_SESSION = text(
    f"SELECT {_COLUMNS} FROM tournament_entries "  # noqa: S608  (fixed fragments)
    f"WHERE tournament_id = :tournament AND status = 'active' ORDER BY {ORDER}"
)


@dataclass(frozen=True)
class Standing:
    rank: int  # 1-based, no shared ranks (the tie-break decides)
    player_id: uuid.UUID
    score: int
    reached_seq: int | None  # the outbox id of the event that completed the score (NULL: no score yet)
    reached_at: datetime | None
    rounds_counted: int


def sort_key(score: int, reached_seq: int | None, player_id: uuid.UUID) -> tuple[int, int, int, str]:
    """The ranking rule as a Python sort key (the same order as `ORDER`)."""
    return (-score, 0 if reached_seq is not None else 1, reached_seq or 0, str(player_id))


def ranked(rows: list[Any]) -> list[Standing]:
    return [
        Standing(
            rank=n,
            player_id=row["player_id"] if isinstance(row, asyncpg.Record) else row.player_id,
            score=int(row["score"] if isinstance(row, asyncpg.Record) else row.score),
            reached_seq=row["reached_seq"] if isinstance(row, asyncpg.Record) else row.reached_seq,
            reached_at=row["reached_at"] if isinstance(row, asyncpg.Record) else row.reached_at,
            rounds_counted=int(row["rounds_counted"] if isinstance(row, asyncpg.Record) else row.rounds_counted),
        )
        for n, row in enumerate(rows, 1)
    ]


async def standings(
    db: asyncpg.Connection | AsyncSession | AsyncConnection, tournament_id: uuid.UUID
) -> list[Standing]:
    """Every active entry of the tournament, in rank order."""
    if isinstance(db, asyncpg.Connection):
        return ranked(list(await db.fetch(_SQL_ASYNCPG, tournament_id)))
    result = await db.execute(_SQL_SESSION, {"tournament": tournament_id})
    return ranked(list(result.all()))
