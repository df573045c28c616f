"""Helper processes of our own (the demo PSP and game provider, API servers in tests and benchmarks):
start, wait until healthy, stop, and never outlive the process that started them.

Guarantees, each for a way the test suite once hung or leaked:
- Output goes to a log file, never to a pipe: a pipe nobody reads fills up, and the child's event loop
  then blocks on its next log line while it holds database transactions.
- Every wait is bounded: health checks, stops (SIGTERM, then SIGKILL after `timeout`).
- A child runs in its own process group (stopped as a group, so its own children go too), and on
  Linux it is SIGKILLed by the kernel when the thread that started it dies (PR_SET_PDEATHSIG, set by a
  two-line guard that then `exec`s the real command), so even a `kill -9` of its parent leaks nothing.
  That thread is the main thread or one long-lived spawner thread: a child started from a short-lived
  thread (asyncio.to_thread's pool, shut down with each test's event loop) died with it, which once left
  the fault tests' PostgreSQL killed after a restart and its stop waiting 30 s on a stale pid file.
- `stop_all()` stops every child still running; `stop_children_on_exit()` calls it on SIGINT,
  SIGTERM, SIGHUP and at interpreter exit.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import FrameType
from typing import IO, Any

import httpx

# Runs in the child before the real command: switch user if asked (a credential change would clear the
# setting below), ask the kernel for SIGKILL when the parent (thread) dies, give up if the parent is
# already gone, then become the command (the setting survives `exec`).
_GUARD = (
    "import ctypes, os, sys\n"
    "parent, uid, gid, *command = sys.argv[1:]\n"
    "if int(uid) >= 0: os.setgroups([]); os.setgid(int(gid)); os.setuid(int(uid))\n"
    "ctypes.CDLL(None).prctl(1, 9)\n"  # PR_SET_PDEATHSIG, SIGKILL
    "os.getppid() == int(parent) or os._exit(70)\n"
    "os.execvp(command[0], command)\n"
)
_LOG_TAIL = 8000  # characters of a child's log quoted in an error


class Child(subprocess.Popen[bytes]):
    """A started helper process; `log_file` holds its output (None when it writes to our terminal)."""

    log_file: Path | None = None
    name: str = ""


_children: set[subprocess.Popen[bytes]] = set()
_lock = threading.RLock()  # re-entered by a signal handler interrupting its holder
_on_exit: list[Callable[[], None]] = []


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


_spawner: ThreadPoolExecutor | None = None


def _on_spawner_thread(start: Callable[[], Child]) -> Child:
    """Run `start` on the one spawner thread, which lives as long as this process (see the docstring)."""
    global _spawner
    with _lock:
        if _spawner is None:
            _spawner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="croupier-spawner")
    return _spawner.submit(start).result()


def spawn(
    args: Sequence[str],
    *,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    log_file: Path | None = None,
    capture_output: bool = True,
    user: str | None = None,
) -> Child:
    """Start `args` in its own process group, output appended to `log_file` (a new temporary file when
    None and `capture_output`; our own stdout/stderr when not `capture_output`)."""
    name = args[2] if len(args) > 2 and args[1] == "-m" else Path(args[0]).name
    if capture_output and log_file is None:
        handle, path = tempfile.mkstemp(prefix=f"croupier-{name}-", suffix=".log")
        os.close(handle)
        log_file = Path(path)
    output: IO[bytes] | None = log_file.open("ab") if log_file is not None else None
    command = list(args)
    if sys.platform.startswith("linux"):
        uid, gid = (pwd.getpwnam(user).pw_uid, pwd.getpwnam(user).pw_gid) if user else (-1, -1)
        command = [sys.executable, "-c", _GUARD, str(os.getpid()), str(uid), str(gid), *command]
        user = None

    def start() -> Child:
        return Child(
            command,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT if output is not None else None,
            start_new_session=True,
            user=user,
        )

    try:
        child = start() if threading.current_thread() is threading.main_thread() else _on_spawner_thread(start)
    finally:
        if output is not None:
            output.close()  # the child has its own copy
    child.log_file = log_file
    child.name = name
    with _lock:
        _children.add(child)
    return child


def start_and_wait(
    args: Sequence[str],
    *,
    health_url: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 30,
    capture_output: bool = True,
    log_file: Path | None = None,
) -> Child:
    """`spawn(args)` and return once `health_url` answers 200; on time-out or exit, stop it and raise
    with the end of its log."""
    child = spawn(args, cwd=cwd, env=env, log_file=log_file, capture_output=capture_output)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return child
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    stop(child)
    raise RuntimeError(
        f"{' '.join(args)} did not become healthy at {health_url} within {timeout:g} s "
        f"(exit code {child.returncode}); its log:\n{log_tail(child)}"
    )


def log_tail(child: Child, chars: int = _LOG_TAIL, *, since: int = 0) -> str:
    """The end of the child's log from byte `since` on (the last `chars` characters of it)."""
    if child.log_file is None:
        return "(output went to the terminal)"
    return read_tail(child.log_file, chars, since=since)


def read_tail(path: Path, chars: int = _LOG_TAIL, *, since: int = 0) -> str:
    try:
        with path.open("rb") as log:
            log.seek(max(since, path.stat().st_size - chars * 4))
            text = log.read().decode(errors="replace")
    except OSError as error:
        return f"(no log: {error})"
    return text[-chars:]


def stop(child: subprocess.Popen[bytes], *, timeout: float = 10) -> None:
    """SIGTERM to the child's process group; SIGKILL to the group once the child has exited (whatever
    it started and left behind) or after `timeout` seconds (the child too)."""
    _signal_group(child, signal.SIGTERM)
    _exited(child, timeout)
    kill(child)


def kill(child: subprocess.Popen[bytes]) -> None:
    """SIGKILL to the child's process group, as `kill -9` would: no chance to clean up."""
    _signal_group(child, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        child.wait(timeout=10)
    with _lock:
        _children.discard(child)


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    # Only while the child is not reaped: its pid, the group's id, cannot be reused by then.
    if child.returncode is None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, sig)


def _exited(child: subprocess.Popen[bytes], timeout: float) -> bool:
    """Wait up to `timeout` for the child to exit, without reaping it (its group stays addressable)."""
    deadline = time.monotonic() + timeout
    while child.returncode is None:
        try:
            if os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
                return True
        except ChildProcessError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def on_exit(callback: Callable[[], None]) -> None:
    """Run `callback` (say, stopping a daemonised server) when `stop_all` runs."""
    with _lock:
        _on_exit.append(callback)


def stop_all(*, grace: float = 5) -> None:
    """Stop every child still running (SIGTERM to all at once, SIGKILL after `grace` seconds), then
    the `on_exit` callbacks. Safe to call from a signal handler and more than once."""
    with _lock:
        children = list(_children)
        callbacks = list(_on_exit)
        _children.clear()
        _on_exit.clear()
    for child in children:
        _signal_group(child, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for child in children:
        _exited(child, max(0.0, deadline - time.monotonic()))
        kill(child)
    for callback in callbacks:
        with contextlib.suppress(Exception):
            callback()


_installed = False


def stop_children_on_exit(*, exit_after: float = 30) -> None:
    """Stop all children at interpreter exit and on SIGINT, SIGTERM or SIGHUP. The first signal stops
    the children and raises KeyboardInterrupt (so the program unwinds as after Ctrl-C); if the program
    has not exited `exit_after` seconds later, or on a second signal, the process exits at once."""
    global _installed
    if _installed:
        return
    _installed = True
    atexit.register(stop_all)
    if threading.current_thread() is not threading.main_thread():
        return

    received: list[int] = []

    def handle(signum: int, frame: FrameType | None) -> Any:
        received.append(signum)
        stop_all(grace=2)
        if len(received) > 1:
            os._exit(128 + signum)
        timer = threading.Timer(exit_after, os._exit, args=(128 + signum,))
        timer.daemon = True
        timer.start()
        raise KeyboardInterrupt(signal.Signals(signum).name)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, handle)
