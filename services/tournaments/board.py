"""The live leaderboard: a Redis copy of a tournament's standings, for reads and subscriptions.

PostgreSQL holds the truth (`tournament_entries`, a projection of `tournament_rounds` kept by the
`tournaments` consumer, itself rebuildable by replaying the outbox). The board is a copy of that copy:
`rebuild` makes it again from the entries, and the consumer's after-commit hook (services/tournaments/
live.py) brings it up to date after every batch. So the chain "rebuildable from the events" is: outbox
events → (consumer replay) → entries → (`rebuild`) → board.

Encoding (one board per tournament, its keys share a Cluster hash tag `{tournament:<id>}`):
- `…:board`, a sorted set whose members all have the score 0, so Redis orders them by their bytes;
  each member is `<inverted score>:<reached seq>:<player id>` with the inverted score `2^63-1 - score`
  as 20 digits and the seq as 19 digits (`9…9` when NULL). Byte order is then exactly the standings'
  order: score DESC, reached_seq ASC NULLS LAST, player_id ASC (a UUID's lower-case text sorts as its
  bytes, as PostgreSQL compares uuids). Exact for every BIGINT score, where a float score would not be
  past 2^53; `ZRANK` of a member is its 0-based rank.
- `…:entries`, a hash player id → `<member>/<snapshot xmax>/<snapshot in-progress count>`: the member a
  player holds (empty: none) and the version of the read it came from.
- `…:state`, a hash: `version` (bumped by every change of the board), `published` (the version last
  fanned out), `built` (a rebuild completed, so the board is whole).

Versions, so a stale write never overwrites a newer one. Every write comes from a read of PostgreSQL
(after the consumer's commit, or a rebuild), and the read's statement also returns its snapshot: its
`xmax` (the next transaction id: it only grows) and how many transactions it saw in progress (at an
equal xmax they can only finish, so the count only falls). A later read is therefore never ordered
before an earlier one, and two reads with equal versions saw the same commits, hence the same rows. A
Lua script applies an entry only if its version is not older than the one stored: applying the same
standing twice changes nothing, and an out-of-order hook (two replicas committing batches in turn,
applying in the opposite order) leaves the newer read in place.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from redis.exceptions import NoScriptError
from sqlalchemy.ext.asyncio import AsyncEngine

from core import prepared
from core.prepared import Statement

_INVERT = 2**63 - 1
_NO_SEQ = "9" * 19  # reached_seq NULL: after every real seq (a BIGINT has at most 19 digits)
CHUNK = 2_000  # entries per script call of a rebuild (one call holds Redis for well under a millisecond each)


def keys(tournament_id: uuid.UUID) -> tuple[str, str, str]:
    """The board's sorted set, its entries hash and its state hash."""
    tag = f"{{tournament:{tournament_id}}}"
    return f"{tag}:board", f"{tag}:entries", f"{tag}:state"


def member(player_id: uuid.UUID, score: int, reached_seq: int | None) -> str:
    seq = _NO_SEQ if reached_seq is None else f"{reached_seq:019d}"
    return f"{_INVERT - score:020d}:{seq}:{player_id}"


@dataclass(frozen=True, slots=True)
class Standing:
    rank: int  # 1-based
    player_id: uuid.UUID
    score: int
    reached_seq: int | None


def decode(text: str | bytes, rank: int) -> Standing:
    raw = text.decode() if isinstance(text, bytes) else text
    inverted, seq, player = raw.split(":", 2)
    return Standing(rank, uuid.UUID(player), _INVERT - int(inverted), None if seq == _NO_SEQ else int(seq))


@dataclass(frozen=True, slots=True)
class Read:
    """Entries read from PostgreSQL, with the version of the read (see the module docstring)."""

    xmax: int
    in_progress: int
    members: dict[uuid.UUID, str]  # player → member ('' : not on the board: no active entry)


_APPLY = """
local xmax, xip = tonumber(ARGV[1]), tonumber(ARGV[2])
local changed = 0
for i = 3, #ARGV, 2 do
  local player, new = ARGV[i], ARGV[i + 1]
  local stored = redis.call('HGET', KEYS[2], player)
  local old, newer = '', true
  if stored then
    local m, ox, oi = string.match(stored, '^(.*)/(%d+)/(%d+)$')
    old, ox, oi = m, tonumber(ox), tonumber(oi)
    if ox > xmax or (ox == xmax and oi < xip) then newer = false end
  end
  if newer then
    if old ~= new then
      if old ~= '' then redis.call('ZREM', KEYS[1], old) end
      if new ~= '' then redis.call('ZADD', KEYS[1], 0, new) end
      changed = changed + 1
    end
    redis.call('HSET', KEYS[2], player, new .. '/' .. ARGV[1] .. '/' .. ARGV[2])
  end
end
if changed > 0 then redis.call('HINCRBY', KEYS[3], 'version', changed) end
return changed
"""

_POSITION = """
local stored = redis.call('HGET', KEYS[2], ARGV[1])
if not stored then return false end
local m = string.match(stored, '^(.*)/%d+/%d+$')
if m == '' then return false end
return {m, redis.call('ZRANK', KEYS[1], m)}
"""


# Many players' positions in one call (the subscribers of a process woken by one publication): for each
# player its 0-based rank and member as `<rank> <member>`, or '' when not on the board.
_POSITIONS = """
local out = {}
for i = 1, #ARGV do
  local stored = redis.call('HGET', KEYS[2], ARGV[i])
  local m = stored and string.match(stored, '^(.*)/%d+/%d+$') or ''
  if m == '' then out[i] = '' else out[i] = redis.call('ZRANK', KEYS[1], m) .. ' ' .. m end
end
return out
"""
POSITIONS_CHUNK = 1_000  # players per script call: each holds Redis for about a millisecond


class Script:
    """A Lua script run by its SHA (loaded when Redis does not know it: the first use, after a restart)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()  # noqa: S324  (Redis names a script by its SHA-1)

    async def run(self, redis: Any, keys: Sequence[str], args: Sequence[Any], *, execute: Any = None) -> Any:
        send = execute or redis.execute_command
        try:
            return await send("EVALSHA", self.sha, len(keys), *keys, *args)
        except NoScriptError:
            await redis.script_load(self.source)
        return await send("EVALSHA", self.sha, len(keys), *keys, *args)


APPLY = Script(_APPLY)
POSITION = Script(_POSITION)
POSITIONS = Script(_POSITIONS)

# The entries' standings with the snapshot of the same statement (its version). `players` NULL: every entry.
_READ = Statement(
    """
WITH snap AS (SELECT pg_current_snapshot() AS s)
SELECT CAST(CAST(pg_snapshot_xmax(snap.s) AS text) AS bigint) AS xmax,
       (SELECT count(*) FROM pg_snapshot_xip(snap.s)) AS in_progress,
       e.player_id, e.score, e.reached_seq
FROM snap
LEFT JOIN tournament_entries e
  ON e.tournament_id = :tournament AND e.status = 'active'
 AND (CAST(:players AS uuid[]) IS NULL OR e.player_id = ANY(CAST(:players AS uuid[])))
"""
)


async def read(
    source: AsyncEngine | asyncpg.Connection, tournament_id: uuid.UUID, players: Iterable[uuid.UUID] | None
) -> Read:
    """The standings of `players` (None: every entrant) as PostgreSQL has them now, with the read's version."""
    wanted = None if players is None else list(dict.fromkeys(players))
    params = {"tournament": tournament_id, "players": wanted}
    if isinstance(source, asyncpg.Connection):
        records = await source.fetch(_READ.native, *(params[name] for name in _READ.names))
        rows: list[tuple[Any, ...]] = [tuple(r) for r in records]
    else:
        found = await prepared.every_alone(source, _READ, params)
        rows = [(r.xmax, r.in_progress, r.player_id, r.score, r.reached_seq) for r in found]
    members: dict[uuid.UUID, str] = dict.fromkeys(wanted or (), "")
    for _, _, player, score, seq in rows:
        if player is not None:
            members[player] = member(player, score, seq)
    return Read(int(rows[0][0]), int(rows[0][1]), members)


async def apply(redis: Any, tournament_id: uuid.UUID, found: Read) -> int:
    """Write a read's entries to the board, each unless a newer read already did; how many moved."""
    board, entries, state = keys(tournament_id)
    pairs = [(str(player), text) for player, text in found.members.items()]
    changed = 0
    for start in range(0, len(pairs), CHUNK):
        args: list[Any] = [found.xmax, found.in_progress]
        for player, text in pairs[start : start + CHUNK]:
            args += [player, text]
        changed += int(await APPLY.run(redis, (board, entries, state), args))
    return changed


async def rebuild(redis: Any, source: AsyncEngine | asyncpg.Connection, tournament_id: uuid.UUID) -> int:
    """Make the board again from PostgreSQL (after Redis lost it, or to check it): every active entry,
    and players the board holds that PostgreSQL no longer ranks taken off. Live updates may run at the
    same time: versions keep whichever read is newer. Returns how many entries moved."""
    _, entries, state = keys(tournament_id)
    found = await read(source, tournament_id, None)
    held = {uuid.UUID(p.decode() if isinstance(p, bytes) else p) for p in await redis.hkeys(entries)}
    gone = {player: "" for player in held - found.members.keys()}
    changed = await apply(redis, tournament_id, Read(found.xmax, found.in_progress, {**found.members, **gone}))
    await redis.hset(state, "built", "1")
    return changed


async def is_built(redis: Any, tournament_id: uuid.UUID) -> bool:
    return bool(await redis.hexists(keys(tournament_id)[2], "built"))


async def drop(redis: Any, tournament_id: uuid.UUID) -> None:
    """Forget the board (tests, and a rebuild from scratch)."""
    await redis.delete(*keys(tournament_id))


@dataclass(frozen=True, slots=True)
class Top:
    version: int
    entrants: int
    standings: list[Standing]


async def top(redis: Any, tournament_id: uuid.UUID, first: int) -> Top:
    board, _, state = keys(tournament_id)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.zrange(board, 0, first - 1)
        pipe.zcard(board)
        pipe.hget(state, "version")
        members, entrants, version = await pipe.execute()
    return Top(int(version or 0), int(entrants), [decode(m, i + 1) for i, m in enumerate(members)])


async def position(
    redis: Any, tournament_id: uuid.UUID, player_id: uuid.UUID, *, execute: Any = None
) -> Standing | None:
    """A player's rank and score on the board (None: not on it). One round trip; `execute` sends it in
    a shared pipeline (core/redis_batch.py), as thousands of subscribers ask together after an update."""
    board, entries, _ = keys(tournament_id)
    found = await POSITION.run(redis, (board, entries), (str(player_id),), execute=execute)
    if not found:
        return None
    text, rank = found
    return decode(text, int(rank) + 1)


async def positions(
    redis: Any, tournament_id: uuid.UUID, players: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Standing | None]:
    """Many players' ranks and scores on the board (None: not on it), in one round trip: a script per
    `POSITIONS_CHUNK` players, sent in one pipeline (the board's keys share a hash slot)."""
    board, entries, _ = keys(tournament_id)
    chunks = [players[start : start + POSITIONS_CHUNK] for start in range(0, len(players), POSITIONS_CHUNK)]
    for _attempt in range(2):
        async with redis.pipeline(transaction=False) as pipe:
            for chunk in chunks:
                pipe.evalsha(POSITIONS.sha, 2, board, entries, *map(str, chunk))
            replies = await pipe.execute(raise_on_error=False)
        if not any(isinstance(reply, NoScriptError) for reply in replies):
            break
        await redis.script_load(POSITIONS.source)  # Redis did not know the script (restarted): once more
    found: dict[uuid.UUID, Standing | None] = {}
    for chunk, reply in zip(chunks, replies, strict=True):
        if isinstance(reply, Exception):
            raise reply
        for player, text in zip(chunk, reply, strict=True):
            raw = text.decode() if isinstance(text, bytes) else text
            if not raw:
                found[player] = None
                continue
            rank, _, member_text = raw.partition(" ")
            found[player] = decode(member_text, int(rank) + 1)
    return found
