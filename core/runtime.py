"""The process-wide things services need besides a database session.

Built once at start-up by the server (or the CLI) and handed to the entry points; services take
what they need from it explicitly, so tests can build one against their own database and Redis.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from redis.asyncio import Redis

from authz import passwords
from authz.jwt import KeyRing
from core import catalogue
from core.db import Database
from core.ratelimit import RateLimiter
from core.redis_batch import RedisBatch
from core.settings import Settings

CATALOGUE = "catalogue"  # the topic of a transaction that changed what lobbies and kept answers show


@dataclass
class Runtime:
    settings: Settings
    database: Database
    redis: Redis
    keyring: KeyRing
    rate_limiter: RateLimiter
    live_events: Any = field(default=None)  # core.events.Hub, made on the first subscription
    lobby_cache: Any = field(default=None)  # services.lobby_cache.LobbyCache, made on the first lobby
    balance_reader: Any = field(default=None)  # services.live_balances.BalanceReader, made on first use
    wallet_batcher: Any = field(default=None)  # services.provider_wallet.group_commit.Batcher, made on first use
    compliance_queues: Any = field(default=None)  # services.compliance_queues.Shared, made on first use
    content_cache: Any = field(default=None)  # services.crm.content.serving.ContentCache, made on first use
    # Small commands of concurrent callers, one pipeline per round trip (core/redis_batch.py); the
    # rate limiter's, so a request's revocation check and its rate-limit hit can share one.
    redis_batch: RedisBatch = field(init=False)

    def __post_init__(self) -> None:
        limiter = self.rate_limiter
        self.redis_batch = limiter.batch if limiter.redis is self.redis else RedisBatch(self.redis)
        self.database.after_commit[CATALOGUE] = self._catalogue_changed

    async def _catalogue_changed(self) -> None:
        from services import lobby_cache  # (services build on the runtime, not the other way round)

        await lobby_cache.catalogue_changed(self)

    @classmethod
    def build(cls, settings: Settings, database_url: str, redis: Redis) -> Runtime:
        keyring = KeyRing.load(settings.key_dir, create_if_empty=not settings.is_production)
        passwords.configure(
            time_cost=settings.argon2_time_cost,
            memory_kib=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        catalogue.validate_on_emit = settings.validate_events
        database = Database(
            database_url, pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow
        )
        return cls(settings, database, redis, keyring, RateLimiter(redis))

    async def close(self) -> None:
        await self.database.dispose()
        await self.redis.aclose()
