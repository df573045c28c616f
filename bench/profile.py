"""Where a server's time goes: `py-spy record` on the serving process while a benchmark runs, summarised
as the share of samples spent inside each of our own functions and in the largest library areas."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bench.common import ROOT

# Areas of the stack, matched on the frame's file path, most specific first.
AREAS = [
    ("asyncpg protocol and network", ("asyncpg/",)),
    ("SQLAlchemy (statement compilation, results, session)", ("sqlalchemy/",)),
    ("RSA signature check", ("cryptography/", "integrations/hub88.py:verify_signature")),
    ("JSON encode/decode", ("json/",)),
    ("uvicorn / HTTP parsing", ("uvicorn/", "httptools")),
    ("Starlette / FastAPI routing and middleware", ("starlette/", "fastapi/")),
    ("structlog / logging", ("structlog/", "logging/")),
    ("prometheus metrics", ("prometheus_client/",)),
    ("strawberry / GraphQL", ("strawberry/", "graphql/")),
    ("redis", ("redis/",)),
    ("services/ (our business code, own time)", ("services/",)),
    ("asyncio event loop", ("asyncio/", "uvloop")),
]


@contextmanager
def recording(pid: int, name: str, *, seconds: int, rate: int = 250) -> Iterator[Path]:
    """Sample `pid` for `seconds` while the block runs; the collapsed stacks land in bench/profiles/."""
    out = ROOT / "bench" / "profiles" / f"{name}.txt"
    out.parent.mkdir(exist_ok=True)
    spy = str(Path(sys.executable).parent / "py-spy")
    process = subprocess.Popen(
        [
            spy,
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(seconds),
            "--rate",
            str(rate),
            "--format",
            "raw",
            "--nonblocking",
            "-o",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield out
    finally:
        process.wait(timeout=seconds + 30)


def _stacks(path: Path) -> Iterator[tuple[list[str], int]]:
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            yield stack.split(";"), int(count)


def summary(path: Path, *, top: int = 15) -> list[str]:
    """The busiest areas (by the innermost frame) and our own functions (inclusive share of samples)."""
    if not path.exists():
        return [f"(no profile: {path} missing — is py-spy installed and allowed to attach?)"]
    areas: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    for frames, count in _stacks(path):
        total += count
        innermost = frames[-1] if frames else ""
        area = next((label for label, needles in AREAS if any(n in innermost for n in needles)), "other")
        areas[area] += count
        seen: set[str] = set()
        for frame in frames:
            if (
                any(
                    f"({folder}/" in frame
                    for folder in ("services", "integrations", "core", "resolvers", "schema", "authz")
                )
                or "(server.py:" in frame
            ):
                name = frame.split(" (")[0] + " (" + frame.split("(")[-1].split(":")[0].rsplit("/", 2)[-2:][-1] + ")"
                if name not in seen:
                    ours[name] += count
                    seen.add(name)
    if not total:
        return ["(no samples)"]
    lines = [f"{total} samples; by innermost frame:"]
    lines += [f"  {100 * n / total:5.1f}%  {label}" for label, n in areas.most_common()]
    lines.append("our functions, inclusive:")
    lines += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours.most_common(top)]
    return lines


@contextmanager
def perf_recording(pids: list[int], name: str, *, rate: int = 999) -> Iterator[Path]:
    """Sample PostgreSQL backends (`pids`) with `perf record -e cpu-clock` while the block runs (a software clock:
    it works in a VM without hardware counters); the data lands in bench/profiles/<name>.perf."""
    out = ROOT / "bench" / "profiles" / f"{name}.perf"
    out.parent.mkdir(exist_ok=True)
    process = subprocess.Popen(
        ["perf", "record", "-e", "cpu-clock", "-F", str(rate), "-g", "-o", str(out), "-p", ",".join(map(str, pids))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield out
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=60)


def perf_summary(name: str, *, top: int = 30) -> list[str]:
    """The busiest PostgreSQL functions of a `perf_recording`, by own samples and inclusive (callers' chains)."""
    path = ROOT / "bench" / "profiles" / f"{name}.perf"
    if not path.exists():
        return [f"(no profile: {path} missing: is perf installed and allowed to attach?)"]
    lines: list[str] = []
    for label, children in (("own samples", "--no-children"), ("inclusive", "--children")):
        report = subprocess.run(
            ["perf", "report", "-i", str(path), children, "--sort", "symbol", "--stdio", "-g", "none"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
        rows = [row.strip() for row in report.splitlines() if row.strip() and not row.startswith("#")]
        lines.append(f"PostgreSQL backends, {label}:")
        lines.extend(f"    {row}" for row in rows[:top])
    return lines
