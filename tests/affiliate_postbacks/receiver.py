"""A partner's postback endpoint, for real: an HTTP server on a loopback port, in threads of the test's own
process, that answers each request as the test scripted it for that event id (in order; then 200), checks
the signature as a partner would, and records every request it got and how it answered."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from core.clock import clock
from services.affiliates.postbacks import templates

# What the receiver does with one request.
OK = "ok"  # 200 at once
FAIL = "fail"  # 500 at once
UNAVAILABLE = "unavailable"  # 503 at once
SLOW = "slow"  # 200 after `slow_seconds` (within the worker's time-out)
LATE = "late"  # 200 after `late_seconds` (after the worker gave up: the partner believes it answered)
HANG = "hang"  # no answer until the test ends (the worker times out)
DROP = "drop"  # closes the connection without an answer


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: str | None
    url: str
    signed: bool  # the signature checked out with the partner's secret
    behaviour: str
    at: float

    @property
    def event_id(self) -> str:
        return self.headers.get(templates.EVENT_ID_HEADER.lower(), "")


class Receiver:
    def __init__(self, *, slow_seconds: float = 0.2, late_seconds: float = 1.0) -> None:
        self.slow_seconds = slow_seconds
        self.late_seconds = late_seconds
        self.secret: str | None = None
        self.script: dict[str, list[str]] = defaultdict(list)
        self.requests: list[Request] = []
        self.answered: list[Request] = []  # the requests it answered 2xx (whether the worker was still there)
        self.default = OK
        self._lock = threading.Lock()
        self._stop = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                receiver._handle(self)

            def do_POST(self) -> None:
                receiver._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="postback-receiver", daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Receiver:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def will(self, event_id: int, *behaviours: str) -> None:
        """Answer the next requests for `event_id` so, in order (then `default`)."""
        with self._lock:
            self.script[str(event_id)].extend(behaviours)

    def of(self, event_id: int) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.event_id == str(event_id)]

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        event_id = headers.get(templates.EVENT_ID_HEADER.lower(), "")
        with self._lock:
            queue = self.script.get(event_id)
            behaviour = queue.pop(0) if queue else self.default
        url = f"{self.base}{handler.path}"
        signed = self.secret is not None and templates.verify(
            self.secret, headers.get(templates.SIGNATURE_HEADER.lower(), ""), handler.command, url, body,
            now=int(clock.now().timestamp()),  # the platform's clock: tests move it, the partner's with it
        )  # fmt: skip
        parts = urlsplit(handler.path)
        request = Request(
            handler.command,
            parts.path,
            {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
            headers,
            body,
            url,
            signed,
            behaviour,
            time.monotonic(),
        )
        with self._lock:
            self.requests.append(request)
        if behaviour == HANG:
            self._stop.wait(30)
            handler.close_connection = True
            return
        if behaviour == DROP:
            handler.close_connection = True
            return
        if behaviour in (SLOW, LATE):
            time.sleep(self.slow_seconds if behaviour == SLOW else self.late_seconds)
        status = {FAIL: 500, UNAVAILABLE: 503}.get(behaviour, 200)
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "2")
            handler.end_headers()
            handler.wfile.write(b"ok")
        except OSError:  # the worker hung up already
            return
        if status == 200:
            with self._lock:
                self.answered.append(request)
