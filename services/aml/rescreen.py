"""Every player screened again, after a list update (`croupier aml rescreen`).

Players are taken in id order, in batches, among those whose last screening was not against the current
list version (`aml_player_screenings`); each batch is screened and recorded in one transaction. So the run
is resumable (an interrupted run leaves the finished batches recorded, and the next starts after them)
and idempotent (a second run finds nobody to screen; `everyone` screens all again, which raises nothing
new: services/aml/screening.py's rules). Matching runs in this process; the database only reads the
batch and writes what it found.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass

import asyncpg

from services.aml.match import Index, Match
from services.aml.screening import PlayerDetails, matches_of, player_details, record

BATCH = 1000

_TODO = """
SELECT count(*) FROM players p
WHERE $2 OR NOT EXISTS (SELECT 1 FROM aml_player_screenings s WHERE s.player_id = p.id AND s.list_version = $1)"""
_NEXT = """
SELECT p.id FROM players p
WHERE p.id > $2 AND ($3 OR NOT EXISTS (
    SELECT 1 FROM aml_player_screenings s WHERE s.player_id = p.id AND s.list_version = $1))
ORDER BY p.id LIMIT $4"""


_FORKED_INDEX: Index | None = None  # the index a forked worker inherited


def _match_chunk(players: Sequence[PlayerDetails]) -> dict[uuid.UUID, list[Match]]:
    assert _FORKED_INDEX is not None, "a worker forked before the index was set"
    return matches_of(_FORKED_INDEX, players)


def workers_for(index: Index, workers: int) -> Executor | None:
    """Processes that match with this index (None: match in this process)."""
    global _FORKED_INDEX
    if workers <= 1:
        return None
    _FORKED_INDEX = index
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"))


async def match_all(
    index: Index, players: Sequence[PlayerDetails], executor: Executor | None, chunks: int
) -> dict[uuid.UUID, list[Match]]:
    if executor is None:
        return matches_of(index, players)
    loop = asyncio.get_running_loop()
    size = -(-len(players) // chunks)
    parts = [players[i : i + size] for i in range(0, len(players), size)]
    found: dict[uuid.UUID, list[Match]] = {}
    for part in await asyncio.gather(*(loop.run_in_executor(executor, _match_chunk, p) for p in parts)):
        found.update(part)
    return found


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
    workers: int = 1,
    progress: Callable[[Progress], None] | None = None,
) -> Progress:
    state = Progress(total=int(await conn.fetchval(_TODO, index.version, everyone)))
    executor = workers_for(index, workers)
    try:
        return await _run(conn, index, state, everyone, batch, executor, workers, progress)
    finally:
        if executor is not None:
            executor.shutdown()


async def _run(
    conn: asyncpg.Connection,
    index: Index,
    state: Progress,
    everyone: bool,
    batch: int,
    executor: Executor | None,
    workers: int,
    progress: Callable[[Progress], None] | None,
) -> Progress:
    after = uuid.UUID(int=0)
    while True:
        ids = [r["id"] for r in await conn.fetch(_NEXT, index.version, after, everyone, batch)]
        if not ids:
            return state
        players = await player_details(conn, ids)
        found = await match_all(index, players, executor, workers)  # outside the transaction: no lock held
        async with conn.transaction():
            done = await record(conn, index, players, found)
        after = ids[-1]
        state.screened += done.players
        state.matches += done.matches
        state.raised += done.raised
        if progress is not None:
            progress(state)
