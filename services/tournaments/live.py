"""Fan-out of the live leaderboards: after the scoring consumer commits, the board is brought up to date
(services/tournaments/board.py) and subscribers are told, at most once a second per board.

Throttle, across every replica: a board's update is published by one Lua script that checks, in Redis,
that the board changed since the last publication and takes the board's gate (`SET NX PX 1000`); only
then does it record the version as published, read the top of the board and PUBLISH it on the board's
channel, all in one step. Whoever finds the gate taken is told how long it stays shut, and tries again
then (one timer per board and process), so the last change of a burst is always published — a trailing
update, within a second of the gate opening — even when the replica that took the gate saw none of it.

Fan-out: the message carries the top `PUBLISHED_TOP` standings and the board's version; every replica's
`Hub` (core/events.py) hands it to its subscribers, each of which cuts it to the size it asked for and
adds the viewer's own position (from the message when they are in it, else one `ZRANK` script, sent in a
shared pipeline with the other subscribers' of the process).

Redis away while the hook runs: the board misses that batch. It is not lost: the board is marked for a
rebuild (in this process, retried with the next hook), and any subscriber finding a board never built
rebuilds it first.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
import weakref
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import asyncpg
from redis.exceptions import RedisError
from sqlalchemy.ext.asyncio import AsyncEngine

from core.logging import get_logger
from services.tournaments import board
from services.tournaments.board import Script, Standing

log = get_logger(__name__)

GATE_MS = 1_000  # at most one publication per board per second
PUBLISHED_TOP = 100  # standings a publication carries (the most a subscriber may ask for)
CHANGED = "leaderboard.changed"

_PUBLISH = """
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
local published = tonumber(redis.call('HGET', KEYS[2], 'published') or '0')
if version <= published then return -1 end
if not redis.call('SET', KEYS[3], '1', 'NX', 'PX', ARGV[3]) then
  local wait = redis.call('PTTL', KEYS[3])
  if wait < 1 then wait = 1 end
  return wait
end
redis.call('HSET', KEYS[2], 'published', version)
local top = redis.call('ZRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1)
local message = {type = ARGV[4], version = version, entrants = redis.call('ZCARD', KEYS[1])}
message['top'] = top
redis.call('PUBLISH', ARGV[1], cjson.encode(message))
return 0
"""
PUBLISH = Script(_PUBLISH)


def channel(tournament_id: uuid.UUID) -> str:
    return f"leaderboard:{tournament_id}"


def gate_key(tournament_id: uuid.UUID) -> str:
    return f"{{tournament:{tournament_id}}}:gate"


def top_of(message: Mapping[str, Any], first: int) -> list[Standing]:
    """The standings a publication carries, cut to `first` (cjson writes an empty list as `{}`)."""
    members = message.get("top") or []
    if not isinstance(members, list):
        return []
    return [board.decode(text, i + 1) for i, text in enumerate(members[:first])]


class Publisher:
    """This process's side of the throttle: the boards waiting for their gate to open."""

    def __init__(self, redis: Any) -> None:
        self._redis = redis
        self._waiting: dict[uuid.UUID, asyncio.Task[None]] = {}
        self.published = 0  # publications this process made (tests and benchmarks read it)

    async def changed(self, tournament_id: uuid.UUID) -> bool:
        """Publish the board now if its gate is open, else once it opens; True if published now."""
        board_key, _, state = board.keys(tournament_id)
        wait = int(
            await PUBLISH.run(
                self._redis,
                (board_key, state, gate_key(tournament_id)),
                (channel(tournament_id), PUBLISHED_TOP, GATE_MS, CHANGED),
            )
        )
        if wait == 0:
            self.published += 1
            return True
        if wait > 0 and tournament_id not in self._waiting:
            self._waiting[tournament_id] = asyncio.get_running_loop().create_task(
                self._later(tournament_id, wait / 1000), name="leaderboard-trailing"
            )
        return False

    async def _later(self, tournament_id: uuid.UUID, seconds: float) -> None:
        await asyncio.sleep(seconds)
        self._waiting.pop(tournament_id, None)
        try:
            await self.changed(tournament_id)
        except (RedisError, OSError) as exc:
            log.warning("leaderboard_publish_failed", tournament=str(tournament_id), error=repr(exc))

    async def close(self) -> None:
        tasks = list(self._waiting.values())
        self._waiting.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


_publishers: weakref.WeakKeyDictionary[Any, Publisher] = weakref.WeakKeyDictionary()
_unbuilt: set[uuid.UUID] = set()  # boards that missed a batch while Redis was away: rebuilt on the next hook


def publisher_of(redis: Any) -> Publisher:
    found = _publishers.get(redis)
    if found is None:
        found = _publishers[redis] = Publisher(redis)
    return found


async def standings_changed(
    redis: Any, source: AsyncEngine | asyncpg.Connection, changes: Mapping[uuid.UUID, Collection[uuid.UUID]]
) -> None:
    """The scoring consumer's after-commit hook: per tournament, the players whose standing a committed
    batch changed. Their standings are read again (what the commit left, with the read's version),
    applied to the board and published (throttled). Never raises for Redis: the consumer's work is done
    and committed; a board that missed it is rebuilt later."""
    for tournament_id, players in changes.items():
        if not players:
            continue
        try:
            await refresh(redis, source, tournament_id, players)
        except (RedisError, OSError) as exc:
            _unbuilt.add(tournament_id)
            log.warning("leaderboard_update_failed", tournament=str(tournament_id), error=repr(exc))
    for tournament_id in list(_unbuilt - changes.keys()):
        with contextlib.suppress(RedisError, OSError):
            await board.rebuild(redis, source, tournament_id)
            _unbuilt.discard(tournament_id)
            await publisher_of(redis).changed(tournament_id)


class BoardHook:
    """The scoring consumer's `on_scores_changed` (services/tournaments/consumer.py): the batch's changed
    entries, grouped by tournament, brought to the boards. The scores it is handed are not written as they
    are: each is read again (with the read's version) on a PostgreSQL connection of the hook's own, so that
    of two replicas' hooks the later read wins whatever order they run in."""

    def __init__(self, redis: Any, dsn: str) -> None:
        self._redis = redis
        self._dsn = dsn
        self._conn: asyncpg.Connection | None = None

    async def __call__(self, changes: Sequence[Any]) -> None:
        by_tournament: dict[uuid.UUID, list[uuid.UUID]] = {}
        for change in changes:
            by_tournament.setdefault(change.tournament_id, []).append(change.player_id)
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn)
        await standings_changed(self._redis, self._conn, by_tournament)

    async def rebuild(self, tournament_ids: Sequence[uuid.UUID]) -> None:
        """After a replay of the scores: each board made again from PostgreSQL, and published."""
        if self._conn is None or self._conn.is_closed():
            self._conn = await asyncpg.connect(self._dsn)
        for tournament_id in tournament_ids:
            await board.rebuild(self._redis, self._conn, tournament_id)
            await publisher_of(self._redis).changed(tournament_id)

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.close()


async def refresh(
    redis: Any, source: AsyncEngine | asyncpg.Connection, tournament_id: uuid.UUID, players: Collection[uuid.UUID]
) -> None:
    """Bring these players' standings to the board (the whole board if it was never built) and publish."""
    if tournament_id in _unbuilt or not await board.is_built(redis, tournament_id):
        await board.rebuild(redis, source, tournament_id)
        _unbuilt.discard(tournament_id)
    else:
        await board.apply(redis, tournament_id, await board.read(source, tournament_id, players))
    await publisher_of(redis).changed(tournament_id)


async def ensure_built(redis: Any, source: AsyncEngine | asyncpg.Connection, tournament_id: uuid.UUID) -> None:
    """Before a board is read: one that was never built (Redis restarted empty, a new tournament) is made."""
    if not await board.is_built(redis, tournament_id):
        await board.rebuild(redis, source, tournament_id)
