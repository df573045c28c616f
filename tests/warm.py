"""Bytecode compiled once per run, before the xdist workers start, instead of in every process of it.

A fresh clone has no `__pycache__`, and where PYTHONDONTWRITEBYTECODE is set (it is on the developers'
machines) no process ever writes one: each worker then compiled the whole project and rewrote the
asserts of every test module (pytest's rewrite: 9 of a worker's 19 s of CPU collecting), and each
`croupier` child process and server compiled the project again (~0.7 s of CPU each, hundreds per run).
The controller does it once, in a thread, while it migrates the template database (which mostly
waits on PostgreSQL). Files are written whatever PYTHONDONTWRITEBYTECODE says and read by every
process: Python checks a pyc against its source's mtime, pytest its rewritten pyc against a hash of
the source, so a stale one is never used. Only a speed-up: any failure leaves the work to the workers.
"""

from __future__ import annotations

import contextlib
import fnmatch
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not the project's Python: the virtualenv, the npm trees, the docs.
SKIP = re.compile(r"/(\.venv|node_modules|\.git|admin|docs|\.mypy_cache|\.ruff_cache)(/|$)")


class Warming:
    """The project compiled by a child process (another core; a thread would hold the GIL the migrations
    need between their statements) and the test modules rewritten by a thread (it needs this pytest's
    configuration: the rewrite depends on options such as the verbosity)."""

    def __init__(self, config: pytest.Config) -> None:
        folders = [
            str(entry)
            for entry in sorted(ROOT.iterdir())
            if (entry.is_dir() and not entry.name.startswith((".", "_")) and not SKIP.search(f"/{entry.name}/"))
            or entry.suffix == ".py"
        ]
        self.compiling: subprocess.Popen[bytes] | None = None
        with contextlib.suppress(OSError):
            self.compiling = subprocess.Popen(
                [sys.executable, "-m", "compileall", "-q", "-q", "-x", SKIP.pattern, *folders],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        self.rewriting = threading.Thread(target=_rewrite_test_modules, args=(config,), name="warm", daemon=True)
        self.rewriting.start()

    def join(self, timeout: float = 120) -> None:
        self.rewriting.join(timeout)
        if self.compiling is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.compiling.wait(timeout)
            if self.compiling.returncode is None:
                self.compiling.kill()
                self.compiling.wait()


def start(config: pytest.Config) -> Warming:
    """Start compiling the project and rewriting the test modules; `join()` before the workers start."""
    return Warming(config)


def _rewrite_test_modules(config: pytest.Config) -> None:
    """What pytest's assertion rewriter writes when it imports a test module or conftest (its
    `exec_module`), for every one under tests/."""
    with contextlib.suppress(Exception):
        _rewrite(config)


def _rewrite(config: pytest.Config) -> None:
    from _pytest.assertion import rewrite

    state = config.stash[rewrite.assertstate_key]
    patterns = [*config.getini("python_files"), "conftest.py"]
    for source in sorted((ROOT / "tests").rglob("*.py")):
        if SKIP.search(str(source)) or not any(fnmatch.fnmatch(source.name, p) for p in patterns):
            continue
        folder = rewrite.get_cache_dir(source)
        pyc = folder / (source.name[:-3] + rewrite.PYC_TAIL)
        if not rewrite.try_makedirs(folder) or rewrite._read_pyc(source, pyc) is not None:
            continue
        source_hash, code = rewrite._rewrite_test(source, config)
        rewrite._write_pyc(state, code, source_hash, pyc)
