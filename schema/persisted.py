"""Persisted queries: a client sends the SHA-256 of a document instead of the document (Apollo's
automatic persisted queries protocol, `extensions.persistedQuery`), so a screen's requests stay small
and can be sent with GET (cacheable by a CDN).

    {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "<64 hex>"}}, "variables": {...}}

- A known hash runs its document, exactly as if the client had sent the text (same validation,
  limits, permission decision and caches: they are keyed by the text).
- An unknown hash is answered with `PERSISTED_QUERY_NOT_FOUND` (message `PersistedQueryNotFound`,
  what Apollo's and urql's links expect); the client then sends the text with its hash once, which
  registers it. A text whose hash is not the one given is refused (`BAD_USER_INPUT`), so a hash can
  never stand for another document.
- The registry is shared by every replica (Redis, `pq:<hash>`, kept `graphql_persisted_query_seconds`
  after its registration) with a bounded copy in each process, so most requests cost no lookup at all.
  Registering needs no credentials, as sending the text does not: what matters is that a hash names
  only its own document, and every document is validated and authorised when it runs.
"""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError

from core.errors import ApiErrorCode
from core.logging import get_logger

log = get_logger(__name__)

KEY = "pq:{}"
_SHA256 = re.compile(r"[0-9a-f]{64}")
NOT_FOUND_MESSAGE = "PersistedQueryNotFound"


class PersistedQueryRefused(Exception):
    def __init__(self, code: ApiErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def sha256_of(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


class PersistedQueries:
    def __init__(self, redis: Redis, *, seconds: int, local_size: int) -> None:
        self.redis = redis
        self.seconds = seconds
        self.local_size = local_size
        self._local: OrderedDict[str, str] = OrderedDict()

    async def document(self, query: str | None, extension: Any) -> str:
        """The document a request with `extensions.persistedQuery` runs (registering `query` when sent)."""
        digest = _digest_of(extension)
        if query is not None:
            if sha256_of(query) != digest:
                raise PersistedQueryRefused(ApiErrorCode.BAD_USER_INPUT, "provided sha does not match query")
            if digest not in self._local:
                await self._register(digest, query)
            return query
        found = self._local.get(digest)
        if found is not None:
            self._local.move_to_end(digest)
            return found
        try:
            stored = await self.redis.get(KEY.format(digest))
        except (RedisError, OSError):
            log.warning("persisted_queries_redis_unavailable")
            stored = None
        if stored is None:
            raise PersistedQueryRefused(ApiErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE)
        text = stored.decode() if isinstance(stored, bytes) else str(stored)
        if sha256_of(text) != digest:  # a value that is not this hash's document is never run
            raise PersistedQueryRefused(ApiErrorCode.PERSISTED_QUERY_NOT_FOUND, NOT_FOUND_MESSAGE)
        self._remember(digest, text)
        return text

    async def _register(self, digest: str, query: str) -> None:
        try:
            await self.redis.set(KEY.format(digest), query, ex=self.seconds)
        except (RedisError, OSError):  # still served by this process; others ask the client for the text
            log.warning("persisted_queries_redis_unavailable")
        self._remember(digest, query)

    def _remember(self, digest: str, query: str) -> None:
        self._local[digest] = query
        self._local.move_to_end(digest)
        while len(self._local) > self.local_size:
            self._local.popitem(last=False)

    def forget_local(self) -> None:
        """Drop this process's copies (tests: as a freshly started replica)."""
        self._local.clear()


def _digest_of(extension: Any) -> str:
    if not isinstance(extension, dict) or extension.get("version") != 1:
        raise PersistedQueryRefused(
            ApiErrorCode.BAD_USER_INPUT, "`extensions.persistedQuery` must be {version: 1, sha256Hash}."
        )
    digest = extension.get("sha256Hash")
    if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
        raise PersistedQueryRefused(
            ApiErrorCode.BAD_USER_INPUT, "`persistedQuery.sha256Hash` must be 64 lowercase hexadecimal digits."
        )
    return digest
