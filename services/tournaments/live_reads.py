"""Reads of a live leaderboard: who may watch a tournament's board, and its snapshot (the top of the board
and the viewer's own position), as the query answers it and each subscription update carries it."""

from __future__ import annotations

import functools
import hashlib
import uuid
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
    """From the top when the player is in it (no round trip), else one script through the process's
    shared pipeline: thousands of subscribers woken by one update ask in a few round trips."""
    if player_id is None:
        return None
    for standing in top:
        if standing.player_id == player_id:
            return standing
    execute: Any = rt.redis_batch.execute
    return await board.position(rt.redis, tournament_id, player_id, execute=execute)


_DECODED: dict[tuple[uuid.UUID, tuple[str, ...]], list[Standing]] = {}  # the last publications' tops, decoded
_DECODED_KEPT = 256


def from_message(tournament_id: uuid.UUID, message: dict[str, Any], first: int) -> tuple[int, int, list[Standing]]:
    """A publication's version, entrant count and top `first` standings. The publication's top is decoded
    once per process, not once per subscriber (10,000 subscribers of a board share one message); keyed by
    its content, as a board rebuilt from scratch counts its versions from 0 again."""
    members = message.get("top")
    key = (tournament_id, tuple(members) if isinstance(members, list) else ())
    top = _DECODED.get(key)
    if top is None:
        top = _DECODED[key] = live.top_of(message, live.PUBLISHED_TOP)
        while len(_DECODED) > _DECODED_KEPT:
            del _DECODED[next(iter(_DECODED))]
    return int(message.get("version") or 0), int(message.get("entrants") or 0), top[:first]


async def verification(rt: Runtime, tournament_id: uuid.UUID) -> results.Verification:
    """`croupier tournaments verify` for the back office: on a pooled connection, read only."""
    async with rt.database.engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        assert driver is not None
        return await results.verify(driver, tournament_id)
