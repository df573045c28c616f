"""`croupier` commands run by the tests as child processes forked from a warm one, not started cold.

A cold `python -m cli …` spends 1.8 to 2.5 s of CPU importing the app (pydantic settings, SQLAlchemy,
the models, the services) before its first line of work, and the suite runs over a hundred of them.
So each test process starts one helper (`python -m tests.cli_process ADDRESS`) that imports what the
commands import and then waits; for each command it forks a child that takes the command's
arguments, environment, working folder and standard streams, runs `cli/__main__.py` as
`python -m cli` does (runpy), and exits with its exit code, after its threads and exit handlers as
an interpreter's end runs them. What a test sees is what it saw of a cold process: a separate process
(its own memory, event loop, connections and `get_settings()`), its stdout and stderr, its exit code.
What it does not see is a fresh interpreter importing the project: tests/test_startup_and_cli.py and
tests/test_newcomer.py still start `python -m cli` cold.

The helper is single-threaded (forking a process with threads can leave a lock held in the child),
dies with the test process (PR_SET_PDEATHSIG, process group: core/processes), and its children die
with it. On a platform without `fork` and abstract sockets (not Linux) commands start cold.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FORKS = sys.platform.startswith("linux")
START_TIMEOUT = 120  # seconds for the helper's imports on a loaded machine

_lock = threading.Lock()
_helper: dict[str, Any] = {}  # "process": its processes.Child, "address": its abstract socket


def run(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    input_text: str | None = None,
    timeout: float = 120,
    merge_stderr: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`python -m cli ARGS` with this environment (default: ours) in `cwd`: like `subprocess.run(…,
    capture_output=True, text=True, check=False)` (stderr into stdout with `merge_stderr`); raises
    subprocess.TimeoutExpired after `timeout` seconds, the command killed."""
    environment = dict(os.environ if env is None else env)
    if not FORKS:
        return _run_cold(args, environment, cwd, input_text, timeout, merge_stderr)
    with tempfile.TemporaryDirectory(prefix="croupier-cli-") as folder:
        streams = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr")}
        for path in streams.values():
            path.write_text("")
        if input_text is not None:
            streams["stdin"].write_text(input_text)
        request = {
            "args": list(args),
            "env": environment,
            "cwd": str(cwd),
            "stdin": str(streams["stdin"]),
            "stdout": str(streams["stdout"]),
            "stderr": str(streams["stdout" if merge_stderr else "stderr"]),
        }
        returncode = _call(request, timeout, ["croupier", *args])
        stdout = streams["stdout"].read_text(errors="replace")
        stderr = "" if merge_stderr else streams["stderr"].read_text(errors="replace")
    return subprocess.CompletedProcess(["croupier", *args], returncode, stdout, stderr)


async def run_async(*args: str, **options: Any) -> subprocess.CompletedProcess[str]:
    """`run` from a coroutine: the event loop (the test's in-process app) keeps running meanwhile."""
    import asyncio

    return await asyncio.to_thread(run, *args, **options)


def _run_cold(
    args: Sequence[str], env: dict[str, str], cwd: Path, input_text: str | None, timeout: float, merge: bool
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli", *args],
        cwd=cwd,
        env=env,
        input=input_text,
        stdin=None if input_text is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        text=True,
        timeout=timeout,
        check=False,
    )


def _call(request: dict[str, Any], timeout: float, command: list[str]) -> int:
    """Send one command to the helper; its exit code once the forked child has exited."""
    address = _ensure_helper()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.settimeout(30)
        connection.connect(address)
        connection.sendall(json.dumps(request).encode() + b"\n")
        reader = connection.makefile("rb")
        pid = int(reader.readline())
        connection.settimeout(timeout)
        try:
            line = reader.readline()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            raise subprocess.TimeoutExpired(command, timeout) from None
    if not line:
        raise RuntimeError(f"the croupier command helper went away while running {command}; {_helper_log()}")
    return int(line)


def _ensure_helper() -> str:
    from core import processes

    with _lock:
        child = _helper.get("process")
        if child is not None and child.poll() is None:
            return str(_helper["address"])
        address = f"\0croupier-cli-{os.getpid()}-{uuid.uuid4().hex}"
        log_file = Path(tempfile.mkstemp(prefix="croupier-cli-helper-", suffix=".log")[1])
        child = processes.spawn(
            [sys.executable, "-m", "tests.cli_process", address.removeprefix("\0")],
            cwd=ROOT,
            env=dict(os.environ),
            log_file=log_file,
        )
        _helper.update(process=child, address=address)
        deadline = time.monotonic() + START_TIMEOUT
        while "ready" not in log_file.read_text(errors="replace"):
            if child.poll() is not None or time.monotonic() > deadline:
                processes.stop(child)
                raise RuntimeError(f"the croupier command helper did not start; {_helper_log()}")
            time.sleep(0.05)
        return address


def _helper_log() -> str:
    from core import processes

    child = _helper.get("process")
    return f"its log:\n{processes.log_tail(child)}" if child is not None else "it never started"


# ---- the helper process -------------------------------------------------------------------------


def serve(address: str) -> None:
    """Import what the commands import, then fork a child per command until our parent dies."""
    import cli  # noqa: F401  (the commands)
    import core.embedded
    import core.migrations  # noqa: F401
    import server  # noqa: F401  (the app, its models and services: most of what a command imports)

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind("\0" + address)
    listener.listen(64)
    print("ready", flush=True)
    running: dict[int, socket.socket] = {}
    while True:
        ready, _, _ = select.select([listener], [], [], 0.01 if running else 1.0)
        if ready:
            connection, _ = listener.accept()
            connection.settimeout(30)
            try:
                request = json.loads(connection.makefile("rb").readline())
            except (OSError, ValueError):  # a client that went away: the next one is served all the same
                connection.close()
                continue
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                listener.close()
                connection.close()
                _child(request)
            with contextlib.suppress(OSError):
                connection.sendall(f"{pid}\n".encode())
            running[pid] = connection
        for pid, connection in list(running.items()):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                with contextlib.suppress(OSError):
                    connection.sendall(f"{os.waitstatus_to_exitcode(status)}\n".encode())
                connection.close()
                del running[pid]


def _child(request: dict[str, Any]) -> None:
    """Become `python -m cli ARGS` with the request's environment, folder and streams; never returns."""
    code = 1
    try:
        import ctypes

        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: gone with the helper
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for fd, path, flags in (
            (0, request["stdin"], os.O_RDONLY),
            (1, request["stdout"], os.O_WRONLY | os.O_APPEND),
            (2, request["stderr"], os.O_WRONLY | os.O_APPEND),
        ):
            opened = os.open(path, flags)
            os.dup2(opened, fd)
            os.close(opened)
        code = _run_cli(request["args"])
    finally:
        os._exit(code)


def _run_cli(args: list[str]) -> int:
    """What the interpreter does for `python -m cli ARGS`: run the module as __main__, turn SystemExit
    or an uncaught exception into the exit code, then join threads and run exit handlers."""
    import atexit
    import runpy
    import threading
    import traceback

    from core.settings import get_settings

    get_settings.cache_clear()  # read from this command's environment, as a new process would
    sys.argv = ["croupier", *args]
    code = 0
    try:
        runpy.run_module("cli", run_name="__main__", alter_sys=True)
    except SystemExit as exit_:
        if exit_.code is None:
            code = 0
        elif isinstance(exit_.code, int):
            code = exit_.code
        else:
            print(exit_.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    with contextlib.suppress(BaseException):
        threading._shutdown()  # type: ignore[attr-defined]  # non-daemon threads, as at an interpreter's end
    with contextlib.suppress(BaseException):
        atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()
    return code


if __name__ == "__main__":
    serve(sys.argv[1])
