"""The real servers a CRM channel talks to, in the test's own process: an SMTP server (aiosmtpd, on a thread
of its own) that keeps every mail and can refuse the next ones, and an SMS/push provider's webhook endpoint
that checks each request's signature and answers as scripted (fail, hang past the sender's time-out, answer
late, or accept)."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from core.clock import clock
from core.processes import free_port
from services.crm.channels import webhook


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def text(self) -> str:
        part = self.message.get_body(("plain",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]

    @property
    def html(self) -> str:
        part = self.message.get_body(("html",))
        assert part is not None
        return str(part.get_content())  # type: ignore[attr-defined]


class SmtpServer:
    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.refuse_next = 0  # answer the next N mails with 451 (a temporary failure)
        self.slow = 0.0  # seconds MAIL FROM and RCPT TO each wait before answering (each within a time-out)
        self._lock = threading.Lock()
        self.port = free_port()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    def start(self) -> SmtpServer:
        self._controller.start()
        return self

    def stop(self) -> None:
        self._controller.stop()

    def clear(self) -> None:
        with self._lock:
            self.mails.clear()
            self.refuse_next = 0
            self.slow = 0.0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.slow)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        await asyncio.sleep(self.slow)
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        with self._lock:
            if self.refuse_next:
                self.refuse_next -= 1
                return "451 4.3.0 Try again later"
            raw = envelope.original_content or b""
            parsed = email.message_from_bytes(raw, policy=email.policy.default)
            assert isinstance(parsed, EmailMessage)
            self.mails.append(Mail(str(envelope.mail_from), list(envelope.rcpt_tos), parsed))
        return "250 OK"

    def to(self, address: str) -> list[Mail]:
        with self._lock:
            return [m for m in self.mails if address in m.recipients]


OK, FAIL, HANG, LATE = "ok", "fail", "hang", "late"


@dataclass(frozen=True)
class Call:
    body: dict[str, Any]
    signed: bool
    behaviour: str


class Provider:
    """The webhook endpoint of an SMS/push provider."""

    def __init__(self, secret: str, *, late_seconds: float) -> None:
        self.secret = secret
        self.late_seconds = late_seconds
        self.script: list[str] = []
        self.calls: list[Call] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        provider = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                provider._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="crm-provider", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}/messages"

    def start(self) -> Provider:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()

    def clear(self) -> None:
        with self._lock:
            self.script.clear()
            self.calls.clear()

    def will(self, *behaviours: str) -> None:
        with self._lock:
            self.script.extend(behaviours)

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode()
        signed = webhook.verify(
            self.secret, handler.headers.get(webhook.SIGNATURE_HEADER, ""), body, now=int(clock.now().timestamp())
        )
        with self._lock:
            behaviour = self.script.pop(0) if self.script else OK
            self.calls.append(Call(json.loads(body), signed, behaviour))
        if behaviour == HANG:
            self._stop.wait(30)
            handler.close_connection = True
            return
        if behaviour == LATE:
            time.sleep(self.late_seconds)
        status = 500 if behaviour == FAIL else 202
        try:
            handler.send_response(status)
            handler.send_header("Content-Length", "2")
            handler.end_headers()
            handler.wfile.write(b"ok")
        except OSError:
            return
