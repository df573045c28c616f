"""Where the tests' PostgreSQL and Redis come from: the local servers when they answer, else embedded."""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path

# Overridable, so two test runs on one machine (two checkouts, CI beside a developer) do not collide.
TEST_DB = os.environ.get("CROUPIER_TEST_DB", "croupier_test")
TEST_REDIS_DB = int(os.environ.get("CROUPIER_TEST_REDIS_DB", "15"))


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def database_urls(scratch: Path) -> tuple[str, str]:
    """(admin URL, test database URL); the test database is recreated empty."""
    import asyncio

    import asyncpg

    if answers("127.0.0.1", 5432):
        admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    else:
        from core.embedded import start_embedded_postgres

        admin = start_embedded_postgres(scratch).replace("/croupier?", "/postgres?")

    async def recreate() -> None:
        conn = await asyncpg.connect(admin)
        try:
            await conn.execute(f"DROP DATABASE IF EXISTS {TEST_DB} WITH (FORCE)")
            await conn.execute(f"CREATE DATABASE {TEST_DB}")
        finally:
            await conn.close()

    asyncio.run(recreate())
    if "?" in admin:
        base, _, query = admin.partition("?")
        return admin, base.rsplit("/", 1)[0] + f"/{TEST_DB}?" + query
    return admin, admin.rsplit("/", 1)[0] + f"/{TEST_DB}"


def redis_url(scratch: Path) -> str:
    if answers("127.0.0.1", 6379):
        return f"redis://127.0.0.1:6379/{TEST_REDIS_DB}"
    from core.embedded import start_embedded_redis

    return start_embedded_redis(scratch)


def scratch_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="croupier-test-"))
