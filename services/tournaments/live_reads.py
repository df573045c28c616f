"""Reads of a live leaderboard: who may watch a tournament's board, and its snapshot (the top of the board
and the viewer's own position), as the query answers it and each subscription update carries it."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import uuid
import weakref
from dataclasses import dataclass
from typing import Any

from sqlmodel import col

from authz.subjects import Viewer
from core import prepared
from core.prepared import Statement
from core.runtime import Runtime
from models.tournaments import Tournament
from services.tournaments import board, live, results
from services.tournaments.board import Standing
from services.tournaments.queries import readable_tournaments

MAX_FIRST = live.PUBLISHED_TOP

_BRAND = Statement("SELECT brand_id FROM tournaments WHERE id = :tournament")


@dataclass(frozen=True, slots=True)
class Snapshot:
    tournament_id: uuid.UUID
    version: int
    entrants: int
    top: list[Standing]
    me: Standing | None  # the viewing player's own position (None: staff, or not on the board)


async def may_watch(rt: Runtime, viewer: Viewer, tournament_id: uuid.UUID) -> bool:
    """Players watch the tournaments listed to them (services/tournaments/queries.py: their brand's, in their
    currency and jurisdiction); staff those of the brand they work in (every brand for global roles). An
    unknown tournament is refused the same way, so ids cannot be probed."""
    if viewer.is_player:
        listed = readable_tournaments(viewer).where(col(Tournament.id) == tournament_id)
        async with rt.database.session() as db:
            return bool(await db.scalar(listed.with_only_columns(col(Tournament.id))))
    found = await prepared.alone(rt.database.engine, _BRAND, {"tournament": tournament_id})
    if found is None:
        return False
    return bool(viewer.is_staff and (viewer.brand_id is None or viewer.brand_id == found.brand_id))


@functools.lru_cache(maxsize=65_536)
def alias(tournament_id: uuid.UUID, player_id: uuid.UUID) -> str:
    """What other players see of an entrant: stable within a tournament, nothing personal, and not the
    same across tournaments (so boards cannot be joined into a profile)."""
    digest = hashlib.sha256(tournament_id.bytes + player_id.bytes).hexdigest()
    return f"Player {digest[:6].upper()}"


async def snapshot(rt: Runtime, tournament_id: uuid.UUID, player_id: uuid.UUID | None, first: int) -> Snapshot:
    """The board now (made first if Redis does not hold it): its top `first` and the player's position."""
    await live.ensure_built(rt.redis, rt.database.engine, tournament_id)
    top = await board.top(rt.redis, tournament_id, first)
    me = await own_position(rt, tournament_id, player_id, top.standings)
    return Snapshot(tournament_id, top.version, top.entrants, top.standings, me)


async def own_position(
    rt: Runtime, tournament_id: uuid.UUID, player_id: uuid.UUID | None, top: list[Standing]
) -> Standing | None:
    """From the top when the player is in it (no round trip), else asked together with the other
    subscribers of the process asking at the same moment: thousands of subscribers woken by one update ask
    in a few script calls (`board.positions`), not one command each."""
    if player_id is None:
        return None
    for standing in top:
        if standing.player_id == player_id:
            return standing
    return await positions_of(rt.redis).of(tournament_id, player_id)


@dataclass(slots=True)
class _Asked:
    """The positions asked for on one board since the last look-up went out, each with its asker's future."""

    loop: asyncio.AbstractEventLoop
    players: list[tuple[uuid.UUID, asyncio.Future[Standing | None]]]
    sent: bool = False
    task: asyncio.Task[None] | None = None  # the look-up (held: a task nobody holds may be collected)


class Positions:
    """Viewers' own positions on a board, looked up together: the askers of one turn of the event loop (the
    subscribers one publication woke) share one `board.positions` call, started after them. Each asker has
    a future of its own, so one that leaves (a subscriber gone) takes nothing from the others; a failure of
    Redis is raised to every asker of that look-up, as their own command's would be."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._asked: dict[uuid.UUID, _Asked] = {}
        self.lookups = 0  # `board.positions` calls made (tests and benchmarks read it)

    async def of(self, tournament_id: uuid.UUID, player_id: uuid.UUID) -> Standing | None:
        loop = asyncio.get_running_loop()
        asked = self._asked.get(tournament_id)
        if asked is None or asked.sent or asked.loop is not loop:
            asked = self._asked[tournament_id] = _Asked(loop, [])
            asked.task = loop.create_task(self._look_up(tournament_id, asked), name="leaderboard-positions")
        future: asyncio.Future[Standing | None] = loop.create_future()
        asked.players.append((player_id, future))
        return await future

    async def _look_up(self, tournament_id: uuid.UUID, asked: _Asked) -> None:
        asked.sent = True
        if self._asked.get(tournament_id) is asked:
            del self._asked[tournament_id]
        waiting = [(player, future) for player, future in asked.players if not future.done()]
        if not waiting:
            return
        try:
            self.lookups += 1
            found = await board.positions(self._redis, tournament_id, list(dict.fromkeys(p for p, _ in waiting)))
        except BaseException as exc:
            failed = exc if isinstance(exc, Exception) else ConnectionError("cancelled")
            for _, future in waiting:
                if not future.done():
                    future.set_exception(failed)
            if not isinstance(exc, Exception):
                raise
            return
        for player, future in waiting:
            if not future.done():
                future.set_result(found.get(player))


_positions: weakref.WeakKeyDictionary[Any, Positions] = weakref.WeakKeyDictionary()


def positions_of(redis: Any) -> Positions:
    """The process's position look-ups for this Redis client."""
    found = _positions.get(redis)
    if found is None:
        found = _positions[redis] = Positions(redis)
    return found


@dataclass(slots=True)
class _Decoded:
    top: list[Standing]  # the publication's top, decoded
    cuts: dict[int, list[Standing]]  # its first N, one list per N asked for


_DECODED: dict[tuple[uuid.UUID, tuple[str, ...]], _Decoded] = {}  # the last publications' tops, decoded
_DECODED_KEPT = 256


def from_message(tournament_id: uuid.UUID, message: dict[str, Any], first: int) -> tuple[int, int, list[Standing]]:
    """A publication's version, entrant count and top `first` standings. The publication's top is decoded
    once per process, not once per subscriber (10,000 subscribers of a board share one message); keyed by
    its content, as a board rebuilt from scratch counts its versions from 0 again. Every subscriber asking
    the same `first` of a publication gets the same list (read only): what is made of it can be shared."""
    members = message.get("top")
    key = (tournament_id, tuple(members) if isinstance(members, list) else ())
    decoded = _DECODED.get(key)
    if decoded is None:
        decoded = _DECODED[key] = _Decoded(live.top_of(message, live.PUBLISHED_TOP), {})
        while len(_DECODED) > _DECODED_KEPT:
            del _DECODED[next(iter(_DECODED))]
    cut = decoded.cuts.get(first)
    if cut is None:
        cut = decoded.cuts[first] = decoded.top[:first]
    return int(message.get("version") or 0), int(message.get("entrants") or 0), cut


async def verification(rt: Runtime, tournament_id: uuid.UUID) -> results.Verification:
    """`croupier tournaments verify` for the back office: on a pooled connection, read only."""
    async with rt.database.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return await results.verify(driver, tournament_id)
