"""Every player screened again, after a list update (`croupier aml rescreen`).

Players are taken in id order, in batches, among those whose last screening was not against the current
list version (`aml_player_screenings`); each batch is screened and recorded in one transaction. So the run
is resumable (an interrupted run leaves the finished batches recorded, and the next starts after them)
and idempotent (a second run finds nobody to screen; `everyone` screens all again, which raises nothing
new: services/aml/screening.py's rules). Matching runs in this process; the database only reads the
batch and writes what it found.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from services.aml.match import Index
from services.aml.screening import matches_of, player_details, record

BATCH = 1000

_TODO = """
SELECT count(*) FROM players p
WHERE $2 OR NOT EXISTS (SELECT 1 FROM aml_player_screenings s WHERE s.player_id = p.id AND s.list_version = $1)"""
_NEXT = """
SELECT p.id FROM players p
WHERE p.id > $2 AND ($3 OR NOT EXISTS (
    SELECT 1 FROM aml_player_screenings s WHERE s.player_id = p.id AND s.list_version = $1))
ORDER BY p.id LIMIT $4"""


@dataclass
class Progress:
    total: int
    screened: int = 0
    matches: int = 0
    raised: int = 0


async def rescreen(
    conn: asyncpg.Connection,
    index: Index,
    *,
    everyone: bool = False,
    batch: int = BATCH,
    progress: Callable[[Progress], None] | None = None,
) -> Progress:
    state = Progress(total=int(await conn.fetchval(_TODO, index.version, everyone)))
    after = uuid.UUID(int=0)
    while True:
        ids = [r["id"] for r in await conn.fetch(_NEXT, index.version, after, everyone, batch)]
        if not ids:
            return state
        players = await player_details(conn, ids)
        found = matches_of(index, players)  # outside the transaction: no lock held while matching
        async with conn.transaction():
            done = await record(conn, index, players, found)
        after = ids[-1]
        state.screened += done.players
        state.matches += done.matches
        state.raised += done.raised
        if progress is not None:
            progress(state)
