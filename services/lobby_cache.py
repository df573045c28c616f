"""The lobby, cached per audience in each process, and dropped whenever the catalogue changes.

What `games.lobby` returns depends on two things only: the audience (`games.Audience`: brand,
country, currency, staff or not) and the catalogue (games, providers, brand switches, lobby
categories). Nothing else of the viewer goes into it — their name, balances and bonuses are other
fields, resolved per request — so one answer serves every viewer with the same audience. The key is
(audience, lobby layout, page size); two players of one brand, country and currency share an entry, a player of
another country does not. The layout (services/crm/lobby: a segment's category order and featured games, and
the popular games of its segment and country) is part of the key: players of one segment share it, players
without a layout share the brand's plain lobby. A player's recently played games are not cached here (they
are per player: resolvers/games.py reads them per request, in one statement).

Invalidation, so a change shows up at once:
- every command that changes the catalogue marks its transaction (`core.db.changed(db, CATALOGUE)`);
  once it commits, `Database.transaction` runs the runtime's hook, `catalogue_changed(rt)`: this
  process drops its entries, and a message on the Redis channel `channel(rt)` tells every other process,
  whose `follow_changes` task drops theirs (a rolled-back change signals nothing);
- a process that lost its pub/sub connection drops everything when it is back (it may have missed
  a message);
- a read that began before an invalidation is not stored (`LobbyCache.generation`), so a lobby read
  from the old catalogue cannot outlive the change;
- entries expire after `settings.lobby_cache_seconds` anyway: the bound on staleness for a change
  made outside the services (SQL by hand) or while Redis was away. 0 turns the cache off.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from redis.exceptions import RedisError

from core.events import RESUMED, subscribed
from core.logging import get_logger
from core.runtime import Runtime
from models.games import Provider
from services import games
from services.crm.lobby.personal import Layout, arranged
from services.games import Audience, LobbySection

log = get_logger(__name__)

CHANNEL = "catalogue.changed"


def channel(rt: Runtime) -> str:
    """The channel of this deployment's Redis database: pub/sub ignores the database number, so two
    deployments (or two test workers) on one Redis server would otherwise drop each other's lobbies."""
    database = rt.redis.connection_pool.connection_kwargs.get("db", 0)
    return f"{CHANNEL}:{database}"


MAX_ENTRIES = 2000  # audiences times page sizes in use; past it the cache starts over


@dataclass
class CachedLobby:
    """A lobby with the providers of its games (so a hit needs no statement at all). `rendered` is
    what the GraphQL edge built from it (resolvers/games.py), kept with the entry so it is built once
    per entry instead of once per request; it is shared by every request of the audience, read-only."""

    sections: list[LobbySection]
    providers: dict[uuid.UUID, Provider]
    rendered: Any = field(default=None, compare=False)


LobbyKey = tuple[Audience, uuid.UUID | None, int]


class LobbyCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.generation = 0  # bumped by every invalidation
        # Names this cache's own announcements, which come back on the channel: dropping everything again
        # then would throw away what was read and kept after the change, for nothing.
        self.sender = uuid.uuid4().hex
        self.hits = 0
        self.misses = 0
        self._entries: dict[LobbyKey, tuple[float, CachedLobby]] = {}

    def get(self, key: LobbyKey) -> CachedLobby | None:
        found = self._entries.get(key)
        if found is None or found[0] <= time.monotonic():
            self.misses += 1
            return None
        self.hits += 1
        return found[1]

    def put(self, key: LobbyKey, lobby: CachedLobby, generation: int) -> None:
        """Keep a lobby read while `generation` was current (not when the catalogue changed meanwhile)."""
        if self.seconds <= 0 or generation != self.generation:
            return
        if len(self._entries) >= MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (time.monotonic() + self.seconds, lobby)

    def held(self) -> list[CachedLobby]:
        """The lobbies held now (tests)."""
        return [lobby for _, lobby in self._entries.values()]

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()


def cache_of(rt: Runtime) -> LobbyCache:
    if rt.lobby_cache is None:
        rt.lobby_cache = LobbyCache(rt.settings.lobby_cache_seconds)
    cache: LobbyCache = rt.lobby_cache
    return cache


async def lobby(rt: Runtime, audience: Audience, *, per_category: int, layout: Layout | None = None) -> CachedLobby:
    """The audience's lobby (games.lobby) as `layout` arranges it (none: the brand's plain lobby), with its
    games' providers, from the cache when it holds it. A miss costs games.lobby's two statements, one for the
    providers and, with a layout, two more (its featured and popular games)."""
    cache = cache_of(rt)
    key = (audience, layout.id if layout else None, per_category)
    found = cache.get(key)
    if found is not None:
        return found
    generation = cache.generation
    async with rt.database.session() as db:
        sections = await games.lobby(db, audience, per_category=per_category)
        if layout is not None:
            sections = await arranged(db, audience, layout, sections, per_category=per_category)
        provider_ids = list({game.provider_id for section in sections for game in section.games})
        providers = await games.providers_by_id(db, provider_ids) if provider_ids else {}
    read = CachedLobby(sections, providers)
    cache.put(key, read, generation)
    return read


async def catalogue_changed(rt: Runtime) -> None:
    """After a commit that changed games, providers, brand switches or lobby categories: this process
    forgets its lobbies now, the others when the message reaches them."""
    cache = cache_of(rt)
    cache.clear()
    try:
        await rt.redis.publish(channel(rt), json.dumps({"sender": cache.sender}))
    except (RedisError, OSError):  # the others' entries expire within lobby_cache_seconds
        log.warning("catalogue_change_not_published")


async def follow_changes(rt: Runtime) -> None:
    """Run for the life of the server: drop the cached lobbies whenever another process changes the
    catalogue, and after the pub/sub connection was lost (a message may have been missed)."""
    async with subscribed(rt, channel(rt)) as listener:
        cache_of(rt).clear()  # anything cached before we listened may predate a change
        while True:
            message = await listener.next(within=3600)
            if message is None:
                continue
            if message.get("sender") == cache_of(rt).sender:
                continue  # this process's own change: dropped when it was made
            if message.get("type") == RESUMED:
                log.info("catalogue_cache_dropped_after_reconnect")
            cache_of(rt).clear()


def forget(rt: Runtime) -> None:
    """Drop every cached lobby of this process (tests: each starts from an empty catalogue)."""
    cache_of(rt).clear()
