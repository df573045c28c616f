"""A helper server that logs a lot keeps serving: its output goes to a file, not to a pipe that nobody
reads (a full pipe blocked the live server's event loop mid-transaction and hung the suite)."""

from __future__ import annotations

import os
import sys

import httpx

from core import processes
from tests.conftest import ROOT, TEST_ENV

PIPE_BUFFER = 64 * 1024  # Linux's default pipe capacity
LONG_PATH = "/no-such-page/" + "x" * 4000  # each request logs its path: 4 KB a line


def test_a_server_that_logs_a_lot_keeps_answering() -> None:
    port = processes.free_port()
    base = f"http://127.0.0.1:{port}"
    server = processes.start_and_wait(  # as the live_server fixture starts `croupier serve`
        [sys.executable, "-m", "cli", "serve", "--port", str(port)],
        health_url=f"{base}/healthz",
        cwd=ROOT,
        env={**os.environ, **TEST_ENV, "LOG_LEVEL": "INFO"},  # an access log line per request
        timeout=60,
    )
    try:
        with httpx.Client(base_url=base, timeout=10) as http:
            for _ in range(200):
                assert http.get(LONG_PATH).status_code == 404
            assert http.get("/healthz").status_code == 200
        assert server.log_file is not None
        assert server.log_file.stat().st_size > 8 * PIPE_BUFFER  # what would have filled a pipe 8 times over
        assert LONG_PATH in processes.log_tail(server)
    finally:
        processes.stop(server)
