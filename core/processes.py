"""Helper processes of our own (the demo PSP, a second API server in tests): start, wait, stop."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_and_wait(
    args: Sequence[str],
    *,
    health_url: str,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 30,
    capture_output: bool = True,
    log_file: Path | None = None,
) -> subprocess.Popen[bytes]:
    """Start `args` and return once `health_url` answers 200; on time-out, kill it and raise with its output.
    `log_file` (appended to) takes the process's output instead of a pipe."""
    output: int | IO[bytes] | None = subprocess.PIPE if capture_output else None
    if log_file is not None:
        output = log_file.open("ab")
    process = subprocess.Popen(  # noqa: S603  (our own modules)
        list(args),
        cwd=cwd,
        env=dict(env),
        stdout=output,
        stderr=subprocess.STDOUT if output is not None else None,
    )
    if not isinstance(output, int) and output is not None:
        output.close()  # the child has its own copy
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(health_url, timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.1)
    process.kill()
    printed = process.stdout.read().decode() if process.stdout else ""
    if log_file is not None:
        printed = log_file.read_text(errors="replace")[-5000:]
    raise RuntimeError(f"{' '.join(args)} did not become healthy at {health_url}:\n{printed}")


def stop(process: subprocess.Popen[bytes], *, timeout: float = 10) -> None:
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
