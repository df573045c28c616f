"""Live jackpot ticks: when a pool moves (a contribution batch committed, a win, a reseed), every
`jackpotChanged` subscriber on every replica hears of it, at most once a second per jackpot, and the last
change is never left untold.

One publisher across replicas, through Redis alone (the caller needs no database, so the jackpot
consumer calls it right after its commit):
- `changed` marks the jackpot dirty (a Redis set of the reasons) and tries the gate, a key set with
  `NX PX 1000`; whoever takes it consumes the dirty mark and publishes one tick, in one script, so two
  replicas never both publish within the second and a change is never consumed without a tick;
- a caller that finds the gate held schedules a trailing try in this process for when the gate expires:
  the change it marked is then told by whoever takes the gate next (it, or a replica that got there first);
- a change told by an outbox event is heard by every replica watching the jackpot, and each asks: the
  event's id is marked once (`SET NX`), so R replicas make one tick of it, not one now and a trailing one.
A tick names the jackpot, a sequence number, when it was published (`at_ms`, Redis's clock) and the
reasons; it carries no amounts: each replica reads the amounts once per tick for all its subscribers
(services/jackpots/live_amounts.py), so a tick never shows a figure older than the commit that caused it.

Invariant (tests/jackpots_live/test_ticks.py): per jackpot, ticks are at least `TICK_SECONDS` apart,
and every change is followed by a tick published after it. A process that dies between marking and its
trailing try leaves the mark to the next change's tick (the mark itself expires after `DIRTY_SECONDS`).
"""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Iterable
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.logging import get_logger

log = get_logger(__name__)

TICK_SECONDS = 1.0
DIRTY_SECONDS = 60
TICK = "jackpot.tick"  # the `type` of a tick message on a jackpot's channel
CONTRIBUTIONS, WIN, RESEED, CONFIGURED = "contributions", "win", "reseed", "configured"  # reasons

# KEYS: gate, dirty, seq, the event's mark. ARGV: gate ms, dirty ms, channel, jackpot id, reason ("" to only
# try), "1" when the change is an outbox event (each replica that heard it asks; it is marked once).
# Returns -1 when it published, 0 when nothing was dirty, else the gate's remaining milliseconds.
_TRY = """
if ARGV[5] ~= '' and (ARGV[6] ~= '1' or redis.call('SET', KEYS[4], '1', 'NX', 'PX', ARGV[2])) then
  redis.call('SADD', KEYS[2], ARGV[5])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
if redis.call('SCARD', KEYS[2]) == 0 then return 0 end
if not redis.call('SET', KEYS[1], '1', 'NX', 'PX', ARGV[1]) then
  local left = redis.call('PTTL', KEYS[1])
  if left < 1 then return 1 end
  return left
end
local reasons = redis.call('SMEMBERS', KEYS[2])
table.sort(reasons)
redis.call('DEL', KEYS[2])
local seq = redis.call('INCR', KEYS[3])
local now = redis.call('TIME')
local at = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local tick = {type = 'jackpot.tick', jackpot_id = ARGV[4], seq = seq, at_ms = at, reasons = reasons}
redis.call('PUBLISH', ARGV[3], cjson.encode(tick))
return -1
"""


def channel(jackpot_id: uuid.UUID) -> str:
    """The pub/sub channel of a jackpot's ticks (core/events.Hub listens on it for the subscribers)."""
    return f"jackpots:{jackpot_id}:ticks"


def _keys(jackpot_id: uuid.UUID, event_id: int | None) -> list[str]:
    tag = f"{{jackpot:{jackpot_id}}}"  # one hash slot, for Redis Cluster
    return [f"{tag}:gate", f"{tag}:dirty", f"{tag}:seq", f"{tag}:event:{event_id or 0}"]


class Ticker:
    """This process's side of the ticks: the script, and the trailing tries it has scheduled."""

    def __init__(self, redis: Redis) -> None:
        self._redis = redis
        self._script: Any = redis.register_script(_TRY)
        self._trailing: dict[uuid.UUID, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.published = 0  # ticks this process published (tests read it)

    async def changed(self, jackpot_ids: Iterable[uuid.UUID], reason: str, *, event_id: int | None = None) -> None:
        """The jackpots' pools moved (the change is committed): tick now or when the gate opens. `event_id`:
        the outbox event that told of it, which every replica watching the jackpot hears (marked once)."""
        for jackpot_id in dict.fromkeys(jackpot_ids):
            await self._try(jackpot_id, reason, event_id)

    async def _try(self, jackpot_id: uuid.UUID, reason: str, event_id: int | None = None) -> None:
        gate_ms = int(TICK_SECONDS * 1000)
        args = [gate_ms, DIRTY_SECONDS * 1000, channel(jackpot_id), str(jackpot_id), reason, "1" if event_id else ""]
        try:
            result = int(await self._script(keys=_keys(jackpot_id, event_id), args=args))
        except (RedisError, OSError) as exc:  # a tick is a courtesy: the pool itself is committed
            log.warning("jackpot_tick_failed", jackpot_id=str(jackpot_id), error=repr(exc))
            return
        if result == -1:
            self.published += 1
        elif result > 0:
            self._schedule(jackpot_id, result / 1000)

    def _schedule(self, jackpot_id: uuid.UUID, seconds: float) -> None:
        if jackpot_id in self._trailing:
            return  # a try is already due when the gate opens; it will see this change's mark
        loop = asyncio.get_running_loop()
        self._trailing[jackpot_id] = loop.call_later(seconds + 0.005, self._trail, jackpot_id)

    def _trail(self, jackpot_id: uuid.UUID) -> None:
        self._trailing.pop(jackpot_id, None)
        task = asyncio.get_running_loop().create_task(self._try(jackpot_id, ""), name="jackpot-trailing-tick")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


_tickers: weakref.WeakKeyDictionary[Redis, Ticker] = weakref.WeakKeyDictionary()


def ticker_of(redis: Redis) -> Ticker:
    """The process's ticker for this Redis client (one per client: its trailing tries are shared)."""
    ticker = _tickers.get(redis)
    if ticker is None:
        ticker = _tickers[redis] = Ticker(redis)
    return ticker


async def changed(redis: Redis, jackpot_ids: Iterable[uuid.UUID], reason: str, *, event_id: int | None = None) -> None:
    """A change to these jackpots' pools was committed: tell their subscribers (at most once a second)."""
    await ticker_of(redis).changed(jackpot_ids, reason, event_id=event_id)
