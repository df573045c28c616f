"""The Redis client (redis-py asyncio).

A blocking pool: when more commands are in flight than the pool holds, a command waits (up to the
socket time-out) for a connection instead of failing. redis-py's default pool raises at 100 connections
in use, which a burst of requests (or of live subscriptions re-checking their sessions) reaches.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis

MAX_CONNECTIONS = 200


def create_redis(url: str) -> Redis:
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=MAX_CONNECTIONS,
        timeout=2,
        decode_responses=True,
        socket_timeout=2,
        socket_connect_timeout=2,
        health_check_interval=30,
    )
    return Redis.from_pool(pool)
