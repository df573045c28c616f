"""What a newcomer meets first: the install, the README's commands, and a plain `croupier demo` on a
machine with nothing configured (no DATABASE_URL, no XDG_RUNTIME_DIR, another port than 8000)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from cli import app
from core import processes
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()
# Log lines in a format other than core/logging.py's JSON: structlog's console renderer, uvicorn's default.
OTHER_LOG_FORMATS = re.compile(
    r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}\S* +\[(debug|info|warning|error|critical)|"
    r"^(DEBUG|INFO|WARNING|ERROR|CRITICAL): +"
)


def pip_warnings(output: str) -> list[str]:
    """Warning lines of an install, less pip's own about this machine's pip configuration (an index
    location that does not exist here), which no project file can cause or fix."""
    return [
        line
        for line in output.splitlines()
        if "warning" in line.lower() and not re.search(r"WARNING: Location '.*' is ignored", line)
    ]


def test_installing_the_project_prints_no_warning(tmp_path: Path) -> None:
    """What `scripts/install.sh` runs, into a fresh virtualenv: setuptools has nothing to say about our
    pyproject.toml (license, packages, package data, the editable layout)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    # A current pip, as install.sh installs (it shows what the build backend warns about): this run's own,
    # installing into the fresh virtualenv (`--python`), rather than a download into it.
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-deps", "-e", ROOT],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert pip_warnings(done.stdout + done.stderr) == []
    installed = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import importlib.util; print(importlib.util.find_spec('server').origin)"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert installed.stdout.strip() == str(ROOT / "server.py"), installed.stderr


def readme_commands() -> list[tuple[list[str], list[str]]]:
    """Every `croupier …` line the README shows: its command words and the options it uses."""
    found = []
    for line in re.findall(r"^\s*(?:\$ )?croupier (.*)$", README, flags=re.MULTILINE):
        usage = re.split(r"\s{2,}", line)[0]  # a table's description starts after two spaces
        words: list[str] = []
        for word in usage.split():
            if not re.fullmatch(r"[a-z][a-z-]*", word) or len(words) == 2:
                break
            words.append(word)
        found.append((words, re.findall(r"--[a-z][a-z-]*", line.partition("#")[0])))
    return found


@pytest.mark.parametrize(("command", "options"), readme_commands(), ids=lambda value: " ".join(value))
def test_every_command_in_the_readme_exists_with_its_options(command: list[str], options: list[str]) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    for option in options:
        assert option in result.output, f"croupier {' '.join(command)} has no {option}"


def test_readme_says_how_to_reach_the_command_and_change_the_port() -> None:
    assert len(readme_commands()) >= 10
    assert "source .venv/bin/activate" in README  # `croupier` is in the virtualenv, not on PATH
    assert "PORT=9000 bash scripts/demo.sh" in README
    assert "croupier demo --port 9000" in README
    assert "PUBLIC_BASE_URL" in README


def deposit_as_bob(base: str, psp: str) -> None:
    """A demo player's card deposit once the platform serves."""
    login = httpx.post(
        f"{base}/graphql",
        json={
            "query": """mutation { login(input: {brand: "royal", email: "bob@example.com",
                        password: "croupier-demo-1"}) { tokens { accessToken } errors { code } } }"""
        },
        timeout=30,
    ).json()
    token = login["data"]["login"]["tokens"]["accessToken"]
    card = httpx.post(f"{psp}/vault/tokens", json={"number": "4242 4242 4242 4242"}, timeout=10).json()["token"]
    paid = httpx.post(
        f"{base}/graphql",
        json={
            "query": """mutation($input: DepositInput!) { deposit(input: $input) {
                        payment { status } errors { code } } }""",
            "variables": {"input": {"amount": "20.00", "currency": "GBP", "method": "CARD", "pspToken": card}},
        },
        headers={"authorization": f"Bearer {token}"},
        timeout=30,
    ).json()
    assert paid["data"]["deposit"]["payment"]["status"] == "SUCCEEDED", paid


def test_a_plain_demo_run_on_another_port_warns_nothing_and_logs_in_one_format(tmp_path: Path) -> None:
    """`croupier demo --port P` with nothing configured: embedded PostgreSQL and Redis, the demo PSP and
    provider. Its stderr stays empty (no XDG_RUNTIME_DIR warning), every log line on the console is the
    platform's JSON (uvicorn's own lines included), and the links and webhooks name port P."""
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in ("DATABASE_URL", "REDIS_URL", "PSP_BASE_URL", "PUBLIC_BASE_URL", "DEMO_PROVIDER_URL")
        and name != "XDG_RUNTIME_DIR"
    }
    env.update({"ENV": "development", "DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "INFO"})
    stdout, stderr = tmp_path / "stdout.txt", tmp_path / "stderr.txt"
    with stdout.open("wb") as out, stderr.open("wb") as err:
        demo = subprocess.Popen(
            [sys.executable, "-m", "cli", "demo", "--port", str(port)], cwd=ROOT, env=env, stdout=out, stderr=err
        )
    try:
        deadline = time.monotonic() + 300  # initdb and the seed, on a busy machine
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                if httpx.get(f"{base}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        assert demo.poll() is None, stdout.read_text() + stderr.read_text()
        assert httpx.get(f"{base}/graphql", headers={"accept": "text/html"}, timeout=10).status_code == 200

        printed = stdout.read_text()
        assert f"GraphiQL: {base}/graphql" in printed
        psp = re.search(r"demo PSP at (http://127\.0\.0\.1:\d+)", printed)
        assert psp is not None, printed
        seeded = len(httpx.get(f"{psp.group(1)}/control/webhooks", timeout=10).json())  # sent before it served
        deposit_as_bob(base, psp.group(1))
        deliveries: list[dict[str, object]] = []
        for _ in range(40):  # the deposit's webhook, delivered to the platform on port P
            deliveries = httpx.get(f"{psp.group(1)}/control/webhooks", timeout=10).json()[seeded:]
            if deliveries and all(d["status_code"] is not None for d in deliveries):
                break
            time.sleep(0.25)
        assert deliveries
        assert {d["status_code"] for d in deliveries} == {200}, deliveries
    finally:
        demo.send_signal(signal.SIGTERM)
        try:
            demo.wait(timeout=60)
        except subprocess.TimeoutExpired:
            demo.kill()

    assert stderr.read_text() == ""
    lines = [line for line in stdout.read_text().splitlines() if line.strip()]
    assert [line for line in lines if OTHER_LOG_FORMATS.match(line)] == []
    logs = [json.loads(line) for line in lines if line.startswith("{")]
    assert all({"event", "level", "timestamp", "logger"} <= set(entry) for entry in logs), logs
    loggers = {entry["logger"] for entry in logs}
    assert {"core.embedded", "uvicorn.error", "croupier.access"} <= loggers, loggers
